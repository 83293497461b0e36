"""Proposal rows as the API shows them, and the dealer-scoped lookups and lists behind them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.paging import Keyset, PageParams, fetch_page
from api.proposals.schemas import (
    ProposalDetail,
    ProposalPage,
    SellerPage,
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


# The columns a list item shows (`ProposalOut`), selected as such by the JSON list: a page
# of ORM entities cost more CPU than its query (identity map, attribute instrumentation).
ITEM_COLUMNS = (
    Proposal.id,
    Proposal.contract_number,
    Proposal.state,
    Proposal.expires_at,
    Proposal.created_at,
    Proposal.replaces_id,
    Proposal.product_code,
    Proposal.product_label,
    Proposal.product_kind,
    Proposal.price_cents,
    Proposal.duration_months,
    Proposal.buyer_first_name,
    Proposal.buyer_last_name,
    Proposal.buyer_email,
    Proposal.buyer_mobile,
    Proposal.buyer_address_line1,
    Proposal.buyer_postal_code,
    Proposal.buyer_city,
    Proposal.vehicle_vin,
    Proposal.vehicle_registration,
    Proposal.vehicle_make,
    Proposal.vehicle_model,
    Proposal.vehicle_first_registration,
    Proposal.vehicle_mileage_km,
    Proposal.seller_name,
    Proposal.seller_email,
    Proposal.seller_phone,
    Proposal.first_sent_at,
    Proposal.last_sent_at,
    Proposal.sent_count,
    Proposal.view_count,
    Proposal.first_viewed_at,
    Proposal.last_viewed_at,
    Proposal.signed_at,
    Proposal.withdrawal_deadline,
    Proposal.contract_status,
    Proposal.email_failed,
    Proposal.email_error,
    Proposal.email_delayed_since,
    Proposal.email_delay_reason,
)


def proposal_fields(row: Any) -> dict[str, Any]:
    """`ProposalOut`'s fields, nested, from a `Proposal` or a row of `ITEM_COLUMNS`.

    A plain dict validated once by the page (or detail) schema: one pass in pydantic's core
    instead of six model constructors per row.
    """
    return {
        "id": row.id,
        "contract_number": row.contract_number,
        "state": row.state,
        "expires_at": row.expires_at,
        "created_at": row.created_at,
        "replaces_id": row.replaces_id,
        "product": {
            "code": row.product_code,
            "label": row.product_label,
            "kind": row.product_kind,
            "price_cents": row.price_cents,
            "duration_months": row.duration_months,
        },
        "buyer": {
            "first_name": row.buyer_first_name,
            "last_name": row.buyer_last_name,
            "email": row.buyer_email,
            "mobile": row.buyer_mobile,
            "address": {
                "line1": row.buyer_address_line1,
                "postal_code": row.buyer_postal_code,
                "city": row.buyer_city,
            },
        },
        "vehicle": {
            "vin": row.vehicle_vin,
            "registration": row.vehicle_registration,
            "make": row.vehicle_make,
            "model": row.vehicle_model,
            "first_registration": row.vehicle_first_registration,
            "mileage_km": row.vehicle_mileage_km,
        },
        "seller": {"name": row.seller_name, "email": row.seller_email, "phone": row.seller_phone},
        "first_sent_at": row.first_sent_at,
        "last_sent_at": row.last_sent_at,
        "sent_count": row.sent_count,
        "view_count": row.view_count,
        "first_viewed_at": row.first_viewed_at,
        "last_viewed_at": row.last_viewed_at,
        "signed_at": row.signed_at,
        "withdrawal_deadline": row.withdrawal_deadline,
        "contract_status": row.contract_status,
        "email_failed": row.email_failed,
        "email_error": row.email_error,
        "email_delayed": row.email_delayed_since is not None,
        "email_delayed_since": row.email_delayed_since,
        "email_delay_reason": row.email_delay_reason,
    }


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
    base = proposal_fields(row)
    if status is None:
        return ProposalDetail.model_validate(
            {**base, "allowed_events": lifecycle_of(row).allowed(now=now), "status_source": "read_model"}
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
    return ProposalDetail.model_validate(
        {**base, "allowed_events": status.allowed_events, "status_source": "workflow"}
    )


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


def proposal_items_query(
    dealer_id: uuid.UUID, *, states: Sequence[str] = (), q: str | None = None
) -> Select[Any]:
    """What the JSON list reads: `proposals_query`'s rows, as `ITEM_COLUMNS` only."""
    # cast: mypy types a select of 40 columns as their tuple, which Select[Any] does not accept.
    return cast(Select[Any], proposals_query(dealer_id, states=states, q=q).with_only_columns(*ITEM_COLUMNS))


async def list_proposals(
    session: AsyncSession,
    dealer_id: uuid.UUID,
    *,
    states: Sequence[str] = (),
    q: str | None,
    params: PageParams,
) -> ProposalPage:
    query = proposal_items_query(dealer_id, states=states, q=q)
    found = await fetch_page(session, query, PROPOSALS, params, as_rows=True)
    return ProposalPage.model_validate({**found.__dict__, "items": [proposal_fields(r) for r in found.items]})


def sellers_query(dealer_id: uuid.UUID) -> Select[Any]:
    return select(Seller).where(Seller.dealer_id == dealer_id)


async def list_sellers(session: AsyncSession, dealer_id: uuid.UUID, *, params: PageParams) -> SellerPage:
    found = await fetch_page(session, sellers_query(dealer_id), SELLERS, params)
    return SellerPage.model_validate(found, from_attributes=True)
