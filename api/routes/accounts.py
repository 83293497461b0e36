"""Who am I: lets any token holder check their token, and a dealer see their account."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import CurrentDealer, CurrentPrincipal, SessionDep
from api.errors import ApiError
from db.models import Dealer

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class Me(BaseModel):
    role: str
    id: uuid.UUID
    name: str


class DealerAccount(BaseModel):
    id: uuid.UUID
    name: str
    remote_sale_enabled: bool
    email: str | None
    phone: str | None
    address: str | None


@router.get("/me", response_model=Me, summary="The account behind the bearer token")
async def me(principal: CurrentPrincipal) -> Me:
    return Me(role=principal.role.value, id=principal.id, name=principal.name)


@router.get("/dealer", response_model=DealerAccount, summary="The calling dealer's account")
async def dealer_account(dealer: CurrentDealer, session: SessionDep) -> DealerAccount:
    row = await session.scalar(select(Dealer).where(Dealer.id == dealer.id))
    if row is None:  # token outlived its account between two queries
        raise ApiError(404, "not_found", "Dealer account not found.")
    return DealerAccount.model_validate(row, from_attributes=True)
