"""The buyer's steps as JSON: `/api/v1/buyer/{token}` (the same steps as the pages)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.body_limit import body_limited_route
from api.buyer.deps import Buyer
from api.buyer.schemas import AcceptBody, SignBody
from api.buyer.service import PREPARING_DOCUMENT, AcceptForm
from api.errors import ApiError
from api.lifecycle_client import ActionPending

router = APIRouter(prefix="/api/v1/buyer", tags=["buyer"], route_class=body_limited_route())


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
    view = buyer.view(proposal, dealer, status)
    if view["declined_for_claim"]:
        view["message"] = (
            "Un sinistre étant survenu depuis l'envoi de la proposition, elle ne peut pas être signée en "
            "ligne : contactez votre concessionnaire."
        )
    return view


@router.post("/{token}/sign", summary="Sign (local provider: the buyer types their full name)")
async def sign(token: str, body: SignBody, request: Request, buyer: Buyer) -> dict[str, Any]:
    try:
        proposal, status = await buyer.sign(token, body.full_name, request)
    except ActionPending as pending:
        if pending.event != PREPARING_DOCUMENT:
            raise
        # The contract to sign is still being made: 202, sign again once it is there.
        raise pending.at(f"/api/v1/buyer/{token}/contract.pdf") from None
    _, dealer = await buyer.find(token)
    return buyer.view(proposal, dealer, status)


@router.post("/{token}/withdraw", summary="Withdraw from a signed contract, inside the legal window")
async def withdraw(token: str, buyer: Buyer) -> dict[str, Any]:
    proposal, status = await buyer.simple(token, "withdraw")
    _, dealer = await buyer.find(token)
    return buyer.view(proposal, dealer, status)


@router.post("/{token}/decline", summary="Refuse the proposal")
async def decline(token: str, buyer: Buyer) -> dict[str, Any]:
    proposal, status = await buyer.simple(token, "decline")
    _, dealer = await buyer.find(token)
    return buyer.view(proposal, dealer, status)


@router.post(
    "/{token}/abandon",
    summary="Go back from signing to the proposal (signing cannot finish, or the buyer changed their mind)",
)
async def abandon(token: str, buyer: Buyer) -> dict[str, Any]:
    proposal, status = await buyer.simple(token, "abandon")
    _, dealer = await buyer.find(token)
    return buyer.view(proposal, dealer, status)


@router.get("/{token}/contract.pdf", summary="The contract to review before signing")
async def contract_pdf(token: str, buyer: Buyer) -> Response:
    """202 (Retry-After) while the worker is still making it."""
    try:
        content = await buyer.contract_pdf(token)
    except ActionPending as pending:
        raise pending.at(f"/api/v1/buyer/{token}/contract.pdf") from None
    return Response(content, media_type="application/pdf")


@router.get("/{token}/documents/{name}.pdf", summary="Signed contract (`signed`) or general conditions")
async def document(token: str, name: str, buyer: Buyer) -> Response:
    proposal, _ = await buyer.find(token)
    try:
        content = buyer.document(proposal, name, token)
    except ActionPending as pending:
        raise pending.at(f"/api/v1/buyer/{token}/documents/{name}.pdf") from None
    if content is None:
        raise ApiError(404, "not_found", "Ce document n'existe pas (encore) pour cette proposition.")
    return Response(content, media_type="application/pdf")
