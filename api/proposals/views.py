"""Proposal rows as the API shows them, and the dealer-scoped lookups and lists behind them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.paging import Keyset, PageParams, fetch_page
from api.proposals.schemas import (
    AddressOut,
    BuyerOut,
    ProductOut,
    ProposalDetail,
    ProposalOut,
    ProposalPage,
    SellerOut,
    SellerPage,
    VehicleOut,
)
from db.models import Proposal, Seller
from db.search_text import compact, needle_words
from statemachines.proposal import ProposalMachine, from_read_model
from workflows.proposal_contract import ProposalStatus


def not_found() -> ApiError:
    # The same answer for "no such proposal" and "another dealer's proposal": a dealer must
    # not learn that an id exists elsewhere.
    return ApiError(404, "not_found", "Proposal not found.")


async def get_owned_proposal(session: AsyncSession, dealer_id: uuid.UUID, raw_id: str) -> Proposal:
    try:
        proposal_id = uuid.UUID(raw_id)
    except ValueError:
        raise not_found() from None
    row = await session.scalar(
        select(Proposal).where(Proposal.id == proposal_id, Proposal.dealer_id == dealer_id)
    )
    if row is None:
        raise not_found()
    return row


def proposal_out(row: Proposal) -> ProposalOut:
    return ProposalOut(
        id=row.id,
        contract_number=row.contract_number,
        state=row.state,
        expires_at=row.expires_at,
        created_at=row.created_at,
        replaces_id=row.replaces_id,
        product=ProductOut(
            code=row.product_code,
            label=row.product_label,
            kind=row.product_kind,
            price_cents=row.price_cents,
            duration_months=row.duration_months,
        ),
        buyer=BuyerOut(
            first_name=row.buyer_first_name,
            last_name=row.buyer_last_name,
            email=row.buyer_email,
            mobile=row.buyer_mobile,
            address=AddressOut(
                line1=row.buyer_address_line1, postal_code=row.buyer_postal_code, city=row.buyer_city
            ),
        ),
        vehicle=VehicleOut(
            vin=row.vehicle_vin,
            registration=row.vehicle_registration,
            make=row.vehicle_make,
            model=row.vehicle_model,
            first_registration=row.vehicle_first_registration,
            mileage_km=row.vehicle_mileage_km,
        ),
        seller=SellerOut(name=row.seller_name, email=row.seller_email, phone=row.seller_phone),
        first_sent_at=row.first_sent_at,
        last_sent_at=row.last_sent_at,
        sent_count=row.sent_count,
        view_count=row.view_count,
        first_viewed_at=row.first_viewed_at,
        last_viewed_at=row.last_viewed_at,
        signed_at=row.signed_at,
        withdrawal_deadline=row.withdrawal_deadline,
        contract_status=row.contract_status,
        email_failed=row.email_failed,
        email_error=row.email_error,
        email_delayed=row.email_delayed_since is not None,
        email_delayed_since=row.email_delayed_since,
        email_delay_reason=row.email_delay_reason,
    )


def lifecycle_of(source: Proposal | ProposalStatus) -> ProposalMachine:
    """The proposal's machine as the read model (or a workflow status) knows it."""
    return from_read_model(
        source.state, expires_at=source.expires_at, withdrawal_deadline=source.withdrawal_deadline
    )


def proposal_detail(row: Proposal, status: ProposalStatus | None, now: datetime) -> ProposalDetail:
    """The row's content with the freshest lifecycle data available.

    The workflow's status wins when we have it: the read model is written by an activity
    and can be a moment behind (or far behind while the worker is down). Without it, the
    allowed events come from the same machine, standing where the read model says.
    """
    base = proposal_out(row).model_dump()
    if status is None:
        return ProposalDetail(
            **base, allowed_events=lifecycle_of(row).allowed(now=now), status_source="read_model"
        )
    base.update(
        state=status.state,
        expires_at=status.expires_at,
        first_sent_at=status.first_sent_at,
        signed_at=status.signed_at,
        withdrawal_deadline=status.withdrawal_deadline,
        sent_count=status.sent_count,
        view_count=status.view_count,
        email_failed=status.email_failed,
        email_error=status.email_error,
    )
    return ProposalDetail(**base, allowed_events=status.allowed_events, status_source="workflow")


PROPOSALS = Keyset("proposals", (Proposal.created_at, Proposal.id))
SELLERS = Keyset("sellers", (Seller.last_used_at, Seller.id))


def search_condition(q: str) -> ColumnElement[bool] | None:
    """Each word of `q`, normalized, somewhere in the proposal's `search_text`.

    Case, accents and word order do not matter ("dubois lea" finds Léa Dubois); a plate or
    mobile typed with or without separators finds it too (the text holds both forms).
    None when `q` has no word. LIKE wildcards in `q` are matched literally.
    """
    words = needle_words(q)
    if not words:
        return None
    every_word = and_(*(Proposal.search_text.contains(word, autoescape=True) for word in words))
    whole = compact(q)
    if len(words) > 1 and whole:
        # "AB 123 CD", "06 12 34 56 78": the words run together also count.
        return or_(every_word, Proposal.search_text.contains(whole, autoescape=True))
    return every_word


def proposals_query(dealer_id: uuid.UUID, *, states: Sequence[str] = (), q: str | None = None) -> Select[Any]:
    """The dealer's proposals matching the filters, unordered (the keyset orders them)."""
    query: Select[Any] = select(Proposal).where(Proposal.dealer_id == dealer_id)
    if states:
        query = query.where(Proposal.state.in_(sorted(set(states))))
    condition = search_condition(q) if q else None
    if condition is not None:
        query = query.where(condition)
    return query


async def list_proposals(
    session: AsyncSession,
    dealer_id: uuid.UUID,
    *,
    states: Sequence[str] = (),
    q: str | None,
    params: PageParams,
) -> ProposalPage:
    found = await fetch_page(session, proposals_query(dealer_id, states=states, q=q), PROPOSALS, params)
    return ProposalPage.model_validate(
        {**found.__dict__, "items": [proposal_out(row) for row in found.items]}
    )


def sellers_query(dealer_id: uuid.UUID) -> Select[Any]:
    return select(Seller).where(Seller.dealer_id == dealer_id)


async def list_sellers(session: AsyncSession, dealer_id: uuid.UUID, *, params: PageParams) -> SellerPage:
    found = await fetch_page(session, sellers_query(dealer_id), SELLERS, params)
    return SellerPage.model_validate(found, from_attributes=True)
