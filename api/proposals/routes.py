"""The dealer's proposal API (DESIGN §5): create, list, read, send, correct, replace, cancel.

Lists read the database's read model; actions on one proposal go through its workflow.
A dealer only ever sees their own proposals: anyone else's is a 404, like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response

from api.body_limit import body_limited_route
from api.deps import CurrentDealer, SessionDep, read_only
from api.paging import PageParams, page_params
from api.proposals import in_person
from api.proposals.deps import ReadService, RemoteSaleDealer, Service, get_remote_sale_dealer
from api.proposals.documents import proposal_pdf
from api.proposals.schemas import (
    InPersonConfirm,
    InPersonStart,
    ProposalCreate,
    ProposalDetail,
    ProposalPage,
    SellerPage,
)
from api.proposals.views import get_owned_proposal, list_proposals, list_sellers
from api.query_params import STRICT_QUERY
from statemachines.proposal import ProposalState
from workflows.proposal_contract import EventRequest

router = APIRouter(
    prefix="/api/v1", tags=["proposals"], route_class=body_limited_route(), dependencies=[STRICT_QUERY]
)
ListPage = Annotated[PageParams, Depends(page_params(20))]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retrying with the same key and body returns the same proposal.",
    ),
]

_DEALER_EVENT = EventRequest(actor="dealer")


@router.post("/proposals", status_code=201, response_model=ProposalDetail, summary="Create a proposal")
async def create_proposal(
    _dealer: RemoteSaleDealer,
    service: Service,
    body: ProposalCreate,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ProposalDetail:
    created = await service.create(body, idempotency_key)
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return created.detail


@router.get("/proposals", response_model=ProposalPage, summary="List the dealer's proposals")
@read_only
async def get_proposals(
    dealer: CurrentDealer,
    session: SessionDep,
    params: ListPage,
    state: Annotated[
        list[ProposalState] | None,
        Query(description="Only proposals in this state; repeat it for several (`state=sent&state=viewed`)."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Words found in the buyer's name (any order), email, mobile or city, the"
            " contract number, VIN, plate, make, model or seller; case and accents ignored.",
        ),
    ] = None,
) -> Response:
    return await list_proposals(session, dealer.id, states=[s.value for s in state or ()], q=q, params=params)


@router.get("/proposals/{proposal_id}", response_model=ProposalDetail, summary="One proposal")
@read_only
async def get_proposal(proposal_id: str, service: ReadService) -> ProposalDetail:
    row = await get_owned_proposal(service.session, service.dealer.id, proposal_id)
    return await service.detail(row)


@router.patch(
    "/proposals/{proposal_id}",
    response_model=ProposalDetail,
    summary="Correct the buyer's email/mobile or the seller's details",
)
async def patch_proposal(
    proposal_id: str,
    service: Service,
    # Any object is accepted here so a non-editable field gets 409 requires_new_proposal
    # (with the list of such fields) rather than a generic 422.
    body: Annotated[
        dict[str, Any],
        Body(
            description="Only `buyer.email`, `buyer.mobile` and `seller.{name,email,phone}` may be given.",
            examples=[{"buyer": {"email": "jeanne@example.org"}, "seller": {"phone": "01 23 45 67 89"}}],
        ),
    ],
) -> ProposalDetail:
    row = await get_owned_proposal(service.session, service.dealer.id, proposal_id)
    return await service.patch(row, body)


@router.post(
    "/proposals/{proposal_id}/replace",
    status_code=201,
    response_model=ProposalDetail,
    summary="Create a new proposal replacing this one, and cancel this one",
)
async def replace_proposal(
    proposal_id: str,
    _dealer: RemoteSaleDealer,
    service: Service,
    body: ProposalCreate,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ProposalDetail:
    old = await get_owned_proposal(service.session, service.dealer.id, proposal_id)
    created = await service.create(body, idempotency_key, replaces=old)
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return created.detail


@dataclass(frozen=True)
class DealerEvent:
    """An action that only fires the machine's event and answers the proposal."""

    path: str
    event: str
    name: str
    summary: str
    remote_sale_only: bool = False


DEALER_EVENTS = (
    DealerEvent("send", "send_to_buyer", "send_proposal", "Email it to the buyer", remote_sale_only=True),
    DealerEvent(
        "resend", "resend", "resend_proposal", "Email it to the buyer again (never extends its validity)"
    ),
    DealerEvent("cancel", "cancel", "cancel_proposal", "Cancel it"),
    DealerEvent(
        "withdrawal",
        "withdraw",
        "withdraw_proposal",
        "Record the buyer's withdrawal, on their behalf, inside the legal window",
    ),
)


def _add_event_route(action: DealerEvent) -> None:
    async def fire_event(proposal_id: str, service: Service) -> ProposalDetail:
        row = await get_owned_proposal(service.session, service.dealer.id, proposal_id)
        return await service.fire_and_show(row, action.event, _DEALER_EVENT)

    router.add_api_route(
        f"/proposals/{{proposal_id}}/{action.path}",
        fire_event,
        methods=["POST"],
        name=action.name,
        response_model=ProposalDetail,
        summary=action.summary,
        # Checked before anything else, as for creating: without the option, no sending.
        dependencies=[Depends(get_remote_sale_dealer)] if action.remote_sale_only else None,
    )


for _action in DEALER_EVENTS:
    _add_event_route(_action)


@router.post(
    "/proposals/{proposal_id}/in-person",
    response_model=ProposalDetail,
    summary="Face to face: record the bank details and text the buyer a signing code",
)
async def start_in_person(
    proposal_id: str, body: InPersonStart, _dealer: RemoteSaleDealer, service: Service
) -> ProposalDetail:
    row = await get_owned_proposal(service.session, service.dealer.id, proposal_id)
    status = await in_person.start(
        service, row, body.iban, body.account_holder, body.cg_accepted, body.no_claim_since_sent
    )
    return await service.detail_after(row, status)


@router.post(
    "/proposals/{proposal_id}/in-person/confirm",
    response_model=ProposalDetail,
    summary="Face to face: the code the buyer read out signs the contract",
)
async def confirm_in_person(
    proposal_id: str, body: InPersonConfirm, request: Request, service: Service
) -> ProposalDetail:
    row = await get_owned_proposal(service.session, service.dealer.id, proposal_id)
    status = await in_person.confirm(service, row, body.code, request)
    return await service.detail_after(row, status)


@router.get(
    "/proposals/{proposal_id}/documents/{name}.pdf",
    summary="The contract to review (`contract`), the signed contract (`signed`) or the general conditions"
    " (`conditions`) of a proposal",
    response_class=Response,
)
async def proposal_document(proposal_id: str, name: str, request: Request, service: ReadService) -> Response:
    row = await get_owned_proposal(service.session, service.dealer.id, proposal_id)
    content, filename = proposal_pdf(row, name, service.settings, request.url.path)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get("/sellers", response_model=SellerPage, summary="The dealer's saved seller profiles")
async def get_sellers(
    dealer: CurrentDealer,
    session: SessionDep,
    params: ListPage,
) -> SellerPage:
    return await list_sellers(session, dealer.id, params=params)
