"""The owner's JSON API (DESIGN §5), behind the session cookie of `POST /api/v1/owner/login`.

An owner only ever sees their own listings: anyone else's is a 404, like a missing one.
The satisfaction survey comes before anything else (409 `survey_required`). Changes are
protected against cross-site requests (api/security/csrf.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.body_limit import body_limited_route
from api.deps import ClockDep, CsrfChecked, CurrentOwner, SessionDep, SettingsDep
from api.errors import ApiError
from api.owners.auth import authenticate_owner
from api.owners.deps import OwnerListingsDep
from api.owners.schemas import (
    ListingPatch,
    LoginBody,
    LoginOut,
    OwnerListingOut,
    OwnerListingPage,
    OwnerOut,
    ShareBody,
    ShareOut,
    SurveyBody,
)
from api.owners.service import owner_page
from api.owners.views import owner_listing_out, report_pdf_response
from api.paging import PageParams, page_params
from api.query_params import STRICT_QUERY
from api.security import csrf, rate_limit
from api.security.passwords import LoginFailed
from api.security.sessions import end_session, start_session

router = APIRouter(
    prefix="/api/v1/owner", tags=["owner"], route_class=body_limited_route(), dependencies=[STRICT_QUERY]
)


def owner_out(owner) -> OwnerOut:  # noqa: ANN001
    return OwnerOut(id=owner.id, email=owner.email, first_name=owner.first_name, last_name=owner.last_name)


@router.post(
    "/login", response_model=LoginOut, summary="Log in with email and password (sets the session cookie)"
)
async def login(
    body: LoginBody,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> LoginOut:
    csrf.check_api_request(request, settings)
    await rate_limit.enforce(
        session,
        rate_limit.LOGIN_PER_IP,
        rate_limit.client_ip(request.client),
        clock(),
        "Too many login attempts from this address; please wait and try again.",
    )
    try:
        owner = await authenticate_owner(session, body.email, body.password, clock(), settings)
    except LoginFailed as failed:
        if failed.kind == "locked":
            assert failed.locked_until is not None
            raise ApiError(
                429,
                "account_locked",
                failed.message_en,
                headers={"Retry-After": str(max(1, int((failed.locked_until - clock()).total_seconds())))},
                locked_until=failed.locked_until.isoformat(),
                message_fr=failed.message_fr,
            ) from None
        raise ApiError(401, "invalid_credentials", failed.message_en, message_fr=failed.message_fr) from None
    await start_session(response, settings, session, owner, clock())
    token, new_seed = csrf.csrf_context(request, settings)
    if new_seed is not None:
        csrf.set_csrf_cookie(response, settings, new_seed)
    return LoginOut(owner=owner_out(owner), csrf_token=token)


@router.post(
    "/logout",
    status_code=204,
    summary="Log out (ends the session on the server, and its cookie)",
    dependencies=[CsrfChecked],
)
async def logout(
    request: Request, response: Response, settings: SettingsDep, session: SessionDep
) -> Response:
    await end_session(request, response, settings, session)
    response.status_code = 204
    return response


@router.get("/me", response_model=OwnerOut, summary="The logged-in owner")
async def me(owner: CurrentOwner) -> OwnerOut:
    return owner_out(owner)


@router.get("/listings", response_model=OwnerListingPage, summary="My inspections and their listings")
async def my_listings(
    owner: CurrentOwner,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    params: Annotated[PageParams, Depends(page_params(20))],
) -> OwnerListingPage:
    rows, found = await owner_page(session, owner.id, params)
    now = clock()
    return OwnerListingPage.model_validate(
        {**found.__dict__, "items": [owner_listing_out(settings, row, now) for row in rows]}
    )


@router.get("/listings/{listing_id}", response_model=OwnerListingOut, summary="One of my listings")
async def my_listing(listing_id: uuid.UUID, service: OwnerListingsDep) -> OwnerListingOut:
    # The read model, with what the same machine allows there: a read asks no workflow.
    row = await service.get(listing_id)
    return owner_listing_out(service.settings, row, service.clock())


@router.post(
    "/listings/{listing_id}/survey",
    response_model=OwnerListingOut,
    summary="Complete the satisfaction survey: 4 answers, publish or not, CGU accepted",
    dependencies=[CsrfChecked],
)
async def complete_survey(
    listing_id: uuid.UUID, body: SurveyBody, service: OwnerListingsDep
) -> OwnerListingOut:
    row = await service.complete_survey(listing_id, body)
    return owner_listing_out(service.settings, row, service.clock())


@router.patch(
    "/listings/{listing_id}",
    response_model=OwnerListingOut,
    summary="Edit the listing: published or not, price, negotiable, location (0 € gives a warning)",
    dependencies=[CsrfChecked],
)
async def edit_listing(
    listing_id: uuid.UUID, body: ListingPatch, service: OwnerListingsDep
) -> OwnerListingOut:
    row = await service.edit(listing_id, body)
    return owner_listing_out(service.settings, row, service.clock())


@router.post(
    "/listings/{listing_id}/sold",
    response_model=OwnerListingOut,
    summary="My vehicle has been sold: VENDU badge for a month if public, no more contact form",
    dependencies=[CsrfChecked],
)
async def mark_sold(listing_id: uuid.UUID, service: OwnerListingsDep) -> OwnerListingOut:
    row = await service.mark_sold(listing_id)
    return owner_listing_out(service.settings, row, service.clock())


@router.get(
    "/listings/{listing_id}/report.pdf",
    summary="The full inspection report (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def report_pdf(listing_id: uuid.UUID, service: OwnerListingsDep) -> Response:
    return report_pdf_response(*await service.report_pdf(listing_id))


@router.post(
    "/listings/{listing_id}/share",
    status_code=202,
    response_model=ShareOut,
    summary="Email the report to a prospective buyer, with my message",
    dependencies=[CsrfChecked],
)
async def share_report(listing_id: uuid.UUID, body: ShareBody, service: OwnerListingsDep) -> ShareOut:
    share = await service.share(listing_id, body)
    return ShareOut(id=share.id, status="queued")
