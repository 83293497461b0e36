"""The buyer's steps as JSON: `/api/v1/buyer/{token}` (the same steps as the pages)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.body_limit import body_limited_route
from api.deps import SessionDep, SettingsDep, get_temporal
from api.errors import ApiError
from api.services.buyer import AcceptForm, BuyerService
from api.services.proposal_workflow import ProposalWorkflows

router = APIRouter(prefix="/api/v1/buyer", tags=["buyer"], route_class=body_limited_route())


async def get_buyer_service(request: Request, session: SessionDep, settings: SettingsDep) -> BuyerService:
    try:
        client = await get_temporal(request)
        workflows: ProposalWorkflows | None = ProposalWorkflows(client, settings)
    except ApiError:
        workflows = None  # reads fall back to the read model; steps answer 503
    return BuyerService(session, settings, workflows, request.app.state.documents)


Buyer = Annotated[BuyerService, Depends(get_buyer_service)]


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cg_accepted: bool
    iban: str = Field(max_length=64)
    account_holder: str = Field(max_length=200)
    no_claim_since_sent: bool


class SignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: str = Field(min_length=1, max_length=200)


@router.get("/{token}", summary="Open the proposal (counts as a view)")
async def open_proposal(token: str, buyer: Buyer) -> dict[str, Any]:
    _, _, view = await buyer.open(token)
    return view


@router.post("/{token}/accept", summary="Accept: general conditions, IBAN, no-claim attestation")
async def accept(token: str, body: AcceptBody, buyer: Buyer) -> dict[str, Any]:
    proposal, status = await buyer.accept(
        token, AcceptForm(body.cg_accepted, body.iban, body.account_holder, body.no_claim_since_sent)
    )
    _, dealer = await buyer.find(token)
    view = buyer.view(proposal, dealer, status.state, status.allowed_events)
    if status.state == "declined":
        view["message"] = (
            "Un sinistre étant survenu depuis l'envoi de la proposition, elle ne peut pas être signée en "
            "ligne : contactez votre concessionnaire."
        )
    return view


@router.post("/{token}/sign", summary="Sign (local provider: the buyer types their full name)")
async def sign(token: str, body: SignBody, request: Request, buyer: Buyer) -> dict[str, Any]:
    proposal, status = await buyer.sign(token, body.full_name, request)
    _, dealer = await buyer.find(token)
    return buyer.view(proposal, dealer, status.state, status.allowed_events)


@router.post("/{token}/withdraw", summary="Withdraw from a signed contract, inside the legal window")
async def withdraw(token: str, buyer: Buyer) -> dict[str, Any]:
    proposal, status = await buyer.simple(token, "withdraw")
    _, dealer = await buyer.find(token)
    return buyer.view(proposal, dealer, status.state, status.allowed_events)


@router.post("/{token}/decline", summary="Refuse the proposal")
async def decline(token: str, buyer: Buyer) -> dict[str, Any]:
    proposal, status = await buyer.simple(token, "decline")
    _, dealer = await buyer.find(token)
    return buyer.view(proposal, dealer, status.state, status.allowed_events)


@router.get("/{token}/contract.pdf", summary="The contract to review before signing")
async def contract_pdf(token: str, buyer: Buyer) -> Response:
    return Response(await buyer.contract_pdf(token), media_type="application/pdf")


@router.get("/{token}/documents/{name}.pdf", summary="Signed contract (`signed`) or general conditions")
async def document(token: str, name: str, buyer: Buyer) -> Response:
    proposal, _ = await buyer.find(token)
    content = await buyer.document(proposal, name)
    if content is None:
        raise ApiError(404, "not_found", "Ce document n'existe pas (encore) pour cette proposition.")
    return Response(content, media_type="application/pdf")
