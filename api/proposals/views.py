"""Proposal rows as the API shows them, and the dealer-scoped lookups and lists behind them."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.json_body import PlainJSON
from api.paging import Keyset, PageParams, fetch_page
from api.proposals.schemas import (
    ProposalDetail,
    SellerPage,
)
from db.models import Proposal, Seller
from db.search_text import compact, contains_param, like_escaped, needle_words
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


FilterShape = tuple[bool, int, bool]  # states given, how many words, the words run together


def filter_values(
    dealer_id: uuid.UUID, states: Sequence[str], q: str | None
) -> tuple[FilterShape, dict[str, Any]]:
    """The list's filters as a statement shape and the values of its bind parameters.

    Search: each word of `q`, normalized, somewhere in the proposal's `search_text`. Case,
    accents and word order do not matter ("dubois lea" finds Léa Dubois); a plate or mobile
    typed with or without separators finds it too (the text holds both forms). LIKE
    wildcards in `q` are matched literally.
    """
    words = needle_words(q) if q else []
    # "AB 123 CD", "06 12 34 56 78": the words run together also count.
    whole = compact(q) if len(words) > 1 else ""
    values: dict[str, Any] = {"dealer_id": dealer_id}
    if states:
        values["states"] = sorted(set(states))
    values.update({f"word_{i}": like_escaped(word) for i, word in enumerate(words)})
    if whole:
        values["whole"] = like_escaped(whole)
    return (bool(states), len(words), bool(whole)), values


def filtered(selected: Select[Any], has_states: bool, words: int, whole: bool) -> Select[Any]:
    """`selected` narrowed to the dealer's proposals matching a filter shape (`filter_values`
    has the values), unordered: the keyset orders them."""
    query = selected.where(Proposal.dealer_id == bindparam("dealer_id"))
    if has_states:
        query = query.where(Proposal.state.in_(bindparam("states", expanding=True)))
    if words:
        every_word = and_(*(contains_param(Proposal.search_text, f"word_{i}") for i in range(words)))
        whole_word = contains_param(Proposal.search_text, "whole")
        query = query.where(or_(every_word, whole_word) if whole else every_word)
    return query


@functools.cache
def _items_filter(has_states: bool, words: int, whole: bool) -> Select[Any]:
    # One statement per shape, for the life of the process (api/paging.py `bound`).
    # cast: mypy types a select of 40 columns as their tuple, which Select[Any] does not accept.
    return filtered(cast(Select[Any], select(*ITEM_COLUMNS)), has_states, words, whole)


def proposals_query(dealer_id: uuid.UUID, *, states: Sequence[str] = (), q: str | None = None) -> Select[Any]:
    """The dealer's proposals (entities) matching the filters, values bound: the pages' lists."""
    shape, values = filter_values(dealer_id, states, q)
    return filtered(select(Proposal), *shape).params(values)


def proposal_items_query(
    dealer_id: uuid.UUID, *, states: Sequence[str] = (), q: str | None = None
) -> Select[Any]:
    """What the JSON list reads, values bound (for tests to EXPLAIN): `ITEM_COLUMNS` only."""
    shape, values = filter_values(dealer_id, states, q)
    return _items_filter(*shape).params(values)


async def list_proposals(
    session: AsyncSession,
    dealer_id: uuid.UUID,
    *,
    states: Sequence[str] = (),
    q: str | None,
    params: PageParams,
) -> PlainJSON:
    """A `ProposalPage`, answered as is (api/json_body.py)."""
    shape, values = filter_values(dealer_id, states, q)
    found = await fetch_page(session, _items_filter(*shape), PROPOSALS, params, as_rows=True, bound=values)
    return PlainJSON({**found.__dict__, "items": [proposal_fields(r) for r in found.items]})


def sellers_query(dealer_id: uuid.UUID) -> Select[Any]:
    return select(Seller).where(Seller.dealer_id == dealer_id)


async def list_sellers(session: AsyncSession, dealer_id: uuid.UUID, *, params: PageParams) -> SellerPage:
    found = await fetch_page(session, sellers_query(dealer_id), SELLERS, params)
    return SellerPage.model_validate(found, from_attributes=True)
