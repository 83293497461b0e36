"""Proposal rows as the API shows them, and the dealer-scoped lookups and lists behind them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.paging import fetch_page
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


def _search_condition(q: str) -> ColumnElement[bool]:
    """Case-insensitive substring match on the buyer, the vehicle and the contract number.

    lower() + LIKE behaves the same on SQLite and PostgreSQL (ILIKE is PostgreSQL only).
    A registration typed without dashes ("AB123CD") still finds "AB-123-CD".
    SQLite's lower() only folds ASCII, so the term is also matched as typed: "Émile" finds
    "Émile" everywhere, "émile" finds it on PostgreSQL only.
    """
    typed = q.strip()
    term = typed.lower()
    columns = [
        Proposal.buyer_first_name,
        Proposal.buyer_last_name,
        Proposal.buyer_first_name + " " + Proposal.buyer_last_name,
        Proposal.buyer_email,
        Proposal.vehicle_registration,
        Proposal.vehicle_vin,
        Proposal.vehicle_make,
        Proposal.vehicle_model,
        Proposal.contract_number,
    ]
    conditions = [func.lower(column).contains(term, autoescape=True) for column in columns]
    if typed != term:
        conditions += [column.contains(typed, autoescape=True) for column in columns]
    compact = "".join(ch for ch in term if ch not in " -")
    if compact:
        conditions.append(
            func.lower(func.replace(Proposal.vehicle_registration, "-", "")).contains(
                compact, autoescape=True
            )
        )
    return or_(*conditions)


async def list_proposals(
    session: AsyncSession,
    dealer_id: uuid.UUID,
    *,
    state: str | None,
    q: str | None,
    page: int,
    page_size: int,
) -> ProposalPage:
    query: Select[Proposal] = select(Proposal).where(Proposal.dealer_id == dealer_id)
    if state is not None:
        query = query.where(Proposal.state == state)
    if q and q.strip():
        query = query.where(_search_condition(q))
    # The id breaks ties so paging is stable when two proposals share a timestamp.
    query = query.order_by(Proposal.created_at.desc(), Proposal.id.desc())
    found = await fetch_page(session, query, page, page_size)
    return ProposalPage(
        items=[proposal_out(row) for row in found.items], total=found.total, page=page, page_size=page_size
    )


async def list_sellers(
    session: AsyncSession, dealer_id: uuid.UUID, *, page: int, page_size: int
) -> SellerPage:
    query = (
        select(Seller)
        .where(Seller.dealer_id == dealer_id)
        .order_by(Seller.last_used_at.desc(), Seller.name, Seller.id)
    )
    return SellerPage.model_validate(await fetch_page(session, query, page, page_size), from_attributes=True)
