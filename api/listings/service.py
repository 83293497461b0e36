"""Reads of the listing read model, the public contact form, and the report PDF.

Lists and searches read the database (DESIGN §2): the public search and detail see only
publicly visible listings (published, or sold during their last month).

The contact form is rate-limited, has a honeypot and length limits, and mails the owner.
Only published, unsold listings take messages. The message is stored, then handed to the
listing's workflow (`contact_owner` update), whose email activity mails the owner with the
sender as Reply-To; history holds the message's id, not its text or the sender's address.

The report PDF is the stored one, or rendered on the spot when the workflow has not made
it yet (the page `/r/{token}` and the owner's download share it).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import structlog
from sqlalchemy import ColumnElement, Select, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from activities.reports import ReportRenderer, load_inspection, report_context
from api.errors import ApiError
from api.lifecycle_client import EventRefused, ListingWorkflows, WorkflowGone
from api.listings.schemas import ContactBody
from api.paging import Found, Keyset, PageParams, fetch_page
from api.security import rate_limit
from carflow.settings import Settings
from db.documents import DocumentStore
from db.models import ContactMessage, Inspection, InspectionPhoto, Listing
from db.search_text import contains_param, like_escaped, normalize
from statemachines.lifecycle import Actor
from statemachines.listing import ListingEvent, ListingMachine, restore_listing
from workflows.listing_contract import UPDATE_CONTACT_OWNER, ContactRequest

log = structlog.get_logger(__name__)

PAGE_SIZE = 20
NOT_FOUND_EN = "No such listing."
CONTACT_CLOSED_EN = "This vehicle has been sold: the seller no longer takes messages."


@dataclass(frozen=True)
class Row:
    listing: Listing
    inspection: Inspection


def lifecycle_of(listing: Listing) -> ListingMachine:
    """The listing's machine standing where the read model says, to ask what it allows."""
    return restore_listing(
        listing.state,
        listing.visible_when_sold,
        publication_ends_at=listing.publication_ends_at,
        sold_period_ends_at=listing.sold_period_ends_at,
    )


def owner_may_publish(listing: Listing, now: datetime) -> bool:
    """Whether the owner's preview offers « Publier mon annonce » (the machine says when)."""
    return lifecycle_of(listing).can(ListingEvent.PUBLISH, now=now, actor=Actor.OWNER)


# --- queries ----------------------------------------------------------------------------------


async def public_row(session: AsyncSession, listing_id: uuid.UUID) -> Row | None:
    """A listing the public may see (published, or sold while public in its last month)."""
    return await _row(session, Listing.id == listing_id, Listing.publicly_visible.is_(True))


async def any_row(session: AsyncSession, listing_id: uuid.UUID) -> Row | None:
    return await _row(session, Listing.id == listing_id)


async def _row(session: AsyncSession, *where: ColumnElement[bool]) -> Row | None:
    """The listing matching `where`, with its inspection's checkpoints and photos loaded."""
    found = (
        await session.execute(
            select(Listing, Inspection)
            .join(Inspection, Inspection.id == Listing.inspection_id)
            .options(selectinload(Inspection.checkpoints), selectinload(Inspection.photos))
            .where(*where)
        )
    ).first()
    return Row(found[0], found[1]) if found else None


NEWEST = Keyset("listings", (Listing.published_at, Listing.id))
# The sorts besides newest first; each is a keyset on a partial index of public listings.
SORTS = {
    "newest": NEWEST,
    "price_asc": Keyset("listings_price_asc", (Listing.price_cents, Listing.id), descending=False),
    "price_desc": Keyset("listings_price_desc", (Listing.price_cents, Listing.id)),
    "mileage_asc": Keyset("listings_mileage_asc", (Listing.mileage_km, Listing.id), descending=False),
}
Sort = Literal["newest", "price_asc", "price_desc", "mileage_asc"]


@dataclass(frozen=True)
class SearchQuery:
    make: str | None = None
    model: str | None = None
    max_price_cents: int | None = None
    location: str | None = None
    sort: Sort = "newest"


# The text filters: the column holding each normalized, and its bind parameter's name.
TEXT_FILTERS = (("make", Listing.make_key), ("model", Listing.model_key), ("location", Listing.location_key))
SearchShape = tuple[bool, bool, bool, bool]  # make, model, location, max price given


def search_values(query: SearchQuery) -> tuple[SearchShape, dict[str, Any]]:
    """The search's filters as a statement shape and the values of its bind parameters
    (normalized: case and accents ignored; LIKE wildcards matched literally)."""
    values: dict[str, Any] = {}
    for name, _column in TEXT_FILTERS:
        needle = normalize(getattr(query, name))
        if needle:
            values[name] = like_escaped(needle)
    if query.max_price_cents is not None:
        values["max_price_cents"] = query.max_price_cents
    shape = (*(name in values for name, _column in TEXT_FILTERS), "max_price_cents" in values)
    return cast(SearchShape, shape), values


def searched(selected: Select[Any], make: bool, model: bool, location: bool, max_price: bool) -> Select[Any]:
    """`selected` narrowed to the public listings matching a filter shape, unordered. Listings
    only: make and model are copied on them, normalized (`*_key`), so neither filter nor
    count reads inspections."""
    # Plain `publicly_visible` (not IS TRUE): the partial indexes' predicate, as PostgreSQL proves it.
    stmt = selected.where(Listing.publicly_visible)
    for (name, column), given in zip(TEXT_FILTERS, (make, model, location), strict=True):
        if given:
            stmt = stmt.where(contains_param(column, name))
    if max_price:
        # A listing without a price (0 €) cannot be said to be under a budget.
        stmt = stmt.where(Listing.price_cents > 0, Listing.price_cents <= bindparam("max_price_cents"))
    return stmt


def search_query(query: SearchQuery) -> Select[Any]:
    """The public listings (entities) matching the filters, values bound: the search page's."""
    shape, values = search_values(query)
    return searched(select(Listing), *shape).params(values)


def with_inspection(stmt: Select[Any]) -> Select[Any]:
    """The page's rows with their inspection (joined for the page's rows, not the count)."""
    return stmt.add_columns(Inspection).join(Inspection, Inspection.id == Listing.inspection_id)


async def first_photos(
    session: AsyncSession, inspection_ids: list[uuid.UUID]
) -> dict[uuid.UUID, InspectionPhoto]:
    """Each inspection's first photo (its thumbnail in the results): one query for a page."""
    if not inspection_ids:
        return {}
    found = await session.scalars(
        select(InspectionPhoto)
        .where(InspectionPhoto.inspection_id.in_(inspection_ids))
        .order_by(InspectionPhoto.inspection_id, InspectionPhoto.position)
    )
    first: dict[uuid.UUID, InspectionPhoto] = {}
    for photo in found:
        first.setdefault(photo.inspection_id, photo)
    return first


async def search(session: AsyncSession, query: SearchQuery, params: PageParams) -> tuple[list[Row], Found]:
    found = await fetch_page(session, search_query(query), SORTS[query.sort], params, widen=with_inspection)
    return [Row(listing, inspection) for listing, inspection in found.items], found


# What a result of the JSON search shows (`PublicListingOut`), as plain columns: a page of
# listing and inspection entities cost more CPU than its query. The sorts' keys are among them.
CARD_COLUMNS = (
    Listing.id,
    Listing.price_cents,
    Listing.negotiable,
    Listing.location,
    Listing.state,
    Listing.visible_when_sold,
    Listing.published_at,
    Listing.mileage_km,
)
INSPECTION_CARD_COLUMNS = (
    Inspection.vehicle_make,
    Inspection.vehicle_model,
    Inspection.vehicle_version,
    Inspection.vehicle_registration,
    Inspection.vehicle_first_registration,
    Inspection.vehicle_mileage_km,
    Inspection.vehicle_fuel,
    Inspection.vehicle_gearbox,
    Inspection.vehicle_color,
    Inspection.inspected_at,
)


@functools.cache
def _card_filter(make: bool, model: bool, location: bool, max_price: bool) -> Select[Any]:
    # One statement per shape, for the life of the process (api/paging.py `bound`).
    # cast: mypy types a select of columns as their tuple, which Select[Any] does not accept.
    return searched(cast(Select[Any], select(*CARD_COLUMNS)), make, model, location, max_price)


def card_query(query: SearchQuery) -> Select[Any]:
    """What the JSON search reads, values bound (for tests to EXPLAIN): the card columns."""
    shape, values = search_values(query)
    return _card_filter(*shape).params(values)


def with_inspection_card(stmt: Select[Any]) -> Select[Any]:
    """The page's rows with their inspection's card columns (joined for the page, not the count)."""
    return stmt.add_columns(*INSPECTION_CARD_COLUMNS).join(Inspection, Inspection.id == Listing.inspection_id)


async def search_cards(session: AsyncSession, query: SearchQuery, params: PageParams) -> Found:
    """The JSON search's page: rows holding both the listing's and the inspection's columns."""
    shape, values = search_values(query)
    return await fetch_page(
        session,
        _card_filter(*shape),
        SORTS[query.sort],
        params,
        widen=with_inspection_card,
        as_rows=True,
        bound=values,
    )


# --- the contact form -------------------------------------------------------------------------


async def send_contact(
    session: AsyncSession,
    workflows: ListingWorkflows | None,
    listing_id: uuid.UUID,
    body: ContactBody,
    *,
    ip: str,
    now: datetime,
) -> bool:
    """True when the message was passed on; False when the honeypot caught it (say "sent")."""
    row = await public_row(session, listing_id)
    if row is None:
        raise ApiError(404, "not_found", NOT_FOUND_EN)
    if not lifecycle_of(row.listing).accepts_contact():
        raise ApiError(409, "contact_closed", CONTACT_CLOSED_EN, state=row.listing.state)
    for limit, subject in (
        (rate_limit.CONTACT_PER_IP, ip),
        (rate_limit.CONTACT_PER_LISTING, str(listing_id)),
    ):
        await rate_limit.enforce(
            session, limit, subject, now, "Too many messages sent; please try again later."
        )
    if body.website:
        log.info("contact_honeypot", listing_id=str(listing_id))
        return False
    if workflows is None:
        raise ApiError(503, "temporal_unavailable", "Temporal is not reachable; please retry in a moment.")
    message = ContactMessage(
        listing_id=listing_id, name=body.name, email=str(body.email), phone=body.phone, message=body.message
    )
    session.add(message)
    await session.commit()
    try:
        await workflows.fire(
            listing_id,
            UPDATE_CONTACT_OWNER,
            ContactRequest(message_id=str(message.id)),
            update_id=f"contact-{message.id}",
        )
    except (EventRefused, WorkflowGone) as err:
        await session.execute(delete(ContactMessage).where(ContactMessage.id == message.id))
        await session.commit()
        state = err.details.get("state") if isinstance(err, EventRefused) else "archived"
        raise ApiError(409, "contact_closed", CONTACT_CLOSED_EN, state=state) from None
    except Exception:
        await session.execute(delete(ContactMessage).where(ContactMessage.id == message.id))
        await session.commit()
        raise
    return True


# --- the report -------------------------------------------------------------------------------


async def report_pdf(
    session: AsyncSession, settings: Settings, inspection_id: uuid.UUID
) -> tuple[bytes, Inspection]:
    """The stored report PDF; rendered now if the workflow has not made it yet."""
    store = DocumentStore(settings.documents_dir)
    inspection = await load_inspection(session, inspection_id)
    if inspection is None:
        raise ApiError(404, "not_found", "No such report.")
    if inspection.report_pdf_sha256:
        stored = store.get(inspection.report_pdf_sha256)
        if stored is not None:
            return stored, inspection
    pdf = await ReportRenderer().pdf_async(report_context(inspection))
    inspection.report_pdf_sha256 = store.put(pdf)
    await session.commit()
    return pdf, inspection
