"""Public listings as JSON (DESIGN §5): search, detail, contact the seller.

The public sees published listings, and sold ones during their last month ("sold": true,
no contact). Private, expired, archived and pending listings do not exist for the public:
404, like a listing that never was.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.body_limit import body_limited_route
from api.deps import ClockDep, SessionDep, read_only
from api.errors import ApiError
from api.json_body import PlainJSON
from api.listings.deps import WorkflowsDep
from api.listings.schemas import ContactBody, ContactOut, PublicListingDetail, PublicListingPage
from api.listings.service import (
    NOT_FOUND_EN,
    PAGE_SIZE,
    SearchQuery,
    Sort,
    public_row,
    search_cards,
    send_contact,
)
from api.listings.views import public_detail_out, public_listing_fields
from api.paging import PageParams, page_params
from api.query_params import STRICT_QUERY
from api.security import rate_limit
from workflows.listing_contract import MAX_PRICE_CENTS

router = APIRouter(
    prefix="/api/v1/listings",
    tags=["public listings"],
    route_class=body_limited_route(16 * 1024),
    dependencies=[STRICT_QUERY],
)

SearchText = Annotated[
    str | None, Query(max_length=80, description="Part of it; case and accents ignored (citroen: Citroën).")
]


@router.get("", response_model=PublicListingPage, summary="Search the public listings, newest first")
@read_only
async def search_listings(
    session: SessionDep,
    params: Annotated[PageParams, Depends(page_params(PAGE_SIZE))],
    make: SearchText = None,
    model: SearchText = None,
    max_price_cents: Annotated[int | None, Query(ge=0, le=MAX_PRICE_CENTS)] = None,
    location: SearchText = None,
    sort: Annotated[
        Sort, Query(description="newest (default), price_asc, price_desc or mileage_asc")
    ] = "newest",
) -> Response:
    query = SearchQuery(make=make, model=model, max_price_cents=max_price_cents, location=location, sort=sort)
    found = await search_cards(session, query, params)
    # A `PublicListingPage`, answered as is (api/json_body.py).
    return PlainJSON({**found.__dict__, "items": [public_listing_fields(r, r) for r in found.items]})


@router.get(
    "/{listing_id}", response_model=PublicListingDetail, summary="A public listing with its inspection"
)
@read_only
async def get_listing(listing_id: uuid.UUID, session: SessionDep) -> PublicListingDetail:
    row = await public_row(session, listing_id)
    if row is None:
        raise ApiError(404, "not_found", NOT_FOUND_EN)
    return public_detail_out(row)


@router.post(
    "/{listing_id}/contact",
    status_code=202,
    response_model=ContactOut,
    summary="Send the seller a message (published, unsold listings only)",
)
async def contact_seller(
    listing_id: uuid.UUID,
    body: ContactBody,
    request: Request,
    session: SessionDep,
    workflows: WorkflowsDep,
    clock: ClockDep,
) -> ContactOut:
    await send_contact(
        session, workflows, listing_id, body, ip=rate_limit.client_ip(request.client), now=clock()
    )
    return ContactOut(status="sent")
