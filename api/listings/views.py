"""Reads of the listing read model: the owner's listings, the public search and detail.

Lists and searches read the database (DESIGN §2); what one listing allows next comes from
its workflow when the caller asks it, else from the read model with the same rules.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from activities.reports import GRADES, report_context
from api.errors import ApiError
from api.listings.schemas import (
    CheckpointOut,
    InspectionSummaryOut,
    OwnerListingOut,
    PhotoOut,
    PublicListingDetail,
    PublicListingOut,
    VehicleOut,
    Warning_,
)
from carflow.formatting import euros, french_date, thousands, vehicle_title
from carflow.links import public_listing_url, report_url
from carflow.settings import Settings
from db.models import Inspection, Listing
from statemachines.listing import ListingState, accepts_contact, allowed_events
from workflows.listing_contract import OWNER_EVENTS, UPDATE_EDIT, UPDATE_SHARE_REPORT

PAGE_SIZE = 20
EDITABLE_STATES = {ListingState.PRIVATE, ListingState.PUBLISHED, ListingState.EXPIRED}
PRICE_MISSING_EN = "No price given (0 €): buyers will see no price on the listing."
PRICE_MISSING_FR = (
    "Vous n'avez pas indiqué de prix (0 €) : votre annonce s'affichera sans prix. "
    "Renseignez-le pour être mieux contacté."
)
NOT_FOUND_EN = "No such listing."


@dataclass(frozen=True)
class Row:
    listing: Listing
    inspection: Inspection


def read_model_allowed(state: str, visible_when_sold: bool = False) -> list[str]:
    """What the owner may do in `state`, as the workflow would answer (workflows/listing.py)."""
    if state == ListingState.PENDING_SURVEY:
        return ["complete_survey"]
    if state == ListingState.ARCHIVED:
        return []
    try:
        events = [e for e in allowed_events(state, visible_when_sold) if e in OWNER_EVENTS]
    except ValueError:
        return []
    if state in EDITABLE_STATES:
        events.append(UPDATE_EDIT)
    events.append(UPDATE_SHARE_REPORT)
    return events


# --- queries ------------------------------------------------------------------------------------


async def owner_rows(session: AsyncSession, owner_id: uuid.UUID) -> list[Row]:
    result = await session.execute(
        select(Listing, Inspection)
        .join(Inspection, Inspection.id == Listing.inspection_id)
        .where(Listing.owner_id == owner_id)
        .order_by(Inspection.inspected_at.desc(), Listing.created_at.desc())
    )
    return [Row(listing, inspection) for listing, inspection in result.all()]


async def owned_row(
    session: AsyncSession,
    owner_id: uuid.UUID,
    listing_id: uuid.UUID,
    *,
    full: bool = False,
    fresh: bool = False,
) -> Row:
    """The owner's listing, or 404 (another owner's listing is indistinguishable from none).

    `fresh` re-reads rows this session already holds (the records activity wrote them
    through another connection)."""
    query = select(Listing, Inspection).join(Inspection, Inspection.id == Listing.inspection_id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    if full:
        query = query.options(selectinload(Inspection.checkpoints), selectinload(Inspection.photos))
    found = (
        await session.execute(query.where(Listing.id == listing_id, Listing.owner_id == owner_id))
    ).first()
    if found is None:
        raise ApiError(404, "not_found", NOT_FOUND_EN)
    return Row(found[0], found[1])


async def public_row(session: AsyncSession, listing_id: uuid.UUID) -> Row | None:
    """A listing the public may see (published, or sold while public in its last month)."""
    found = (
        await session.execute(
            select(Listing, Inspection)
            .join(Inspection, Inspection.id == Listing.inspection_id)
            .options(selectinload(Inspection.checkpoints), selectinload(Inspection.photos))
            .where(Listing.id == listing_id, Listing.publicly_visible.is_(True))
        )
    ).first()
    return Row(found[0], found[1]) if found else None


async def any_row(session: AsyncSession, listing_id: uuid.UUID) -> Row | None:
    found = (
        await session.execute(
            select(Listing, Inspection)
            .join(Inspection, Inspection.id == Listing.inspection_id)
            .options(selectinload(Inspection.checkpoints), selectinload(Inspection.photos))
            .where(Listing.id == listing_id)
        )
    ).first()
    return Row(found[0], found[1]) if found else None


@dataclass(frozen=True)
class SearchQuery:
    make: str | None = None
    model: str | None = None
    max_price_cents: int | None = None
    location: str | None = None
    page: int = 1
    page_size: int = PAGE_SIZE


def _search(query: SearchQuery) -> Select[Listing, Inspection]:
    stmt = (
        select(Listing, Inspection)
        .join(Inspection, Inspection.id == Listing.inspection_id)
        .where(Listing.publicly_visible.is_(True))
    )
    if query.make:
        stmt = stmt.where(func.lower(Inspection.vehicle_make).contains(query.make.lower(), autoescape=True))
    if query.model:
        stmt = stmt.where(func.lower(Inspection.vehicle_model).contains(query.model.lower(), autoescape=True))
    if query.location:
        stmt = stmt.where(func.lower(Listing.location).contains(query.location.lower(), autoescape=True))
    if query.max_price_cents is not None:
        # A listing without a price (0 €) cannot be said to be under a budget.
        stmt = stmt.where(Listing.price_cents > 0, Listing.price_cents <= query.max_price_cents)
    return stmt


async def search(session: AsyncSession, query: SearchQuery) -> tuple[list[Row], int]:
    base = _search(query)
    total = int(await session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    result = await session.execute(
        base.order_by(Listing.published_at.desc(), Listing.created_at.desc(), Listing.id)
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    return [Row(listing, inspection) for listing, inspection in result.all()], total


# --- views ---------------------------------------------------------------------------------------


def vehicle_out(inspection: Inspection) -> VehicleOut:
    return VehicleOut(
        make=inspection.vehicle_make,
        model=inspection.vehicle_model,
        version=inspection.vehicle_version,
        registration=inspection.vehicle_registration,
        first_registration=inspection.vehicle_first_registration,
        mileage_km=inspection.vehicle_mileage_km,
        fuel=inspection.vehicle_fuel,
        gearbox=inspection.vehicle_gearbox,
        color=inspection.vehicle_color,
    )


def warnings_for(listing: Listing) -> list[Warning_]:
    if listing.state != ListingState.PENDING_SURVEY and listing.price_cents == 0:
        return [Warning_(field="price_cents", code="price_missing", message=PRICE_MISSING_EN)]
    return []


def owner_listing_out(settings: Settings, row: Row, allowed: list[str] | None = None) -> OwnerListingOut:
    listing, inspection = row.listing, row.inspection
    surveyed = listing.state != ListingState.PENDING_SURVEY
    return OwnerListingOut(
        id=listing.id,
        state=listing.state,
        allowed_events=allowed
        if allowed is not None
        else read_model_allowed(listing.state, listing.visible_when_sold),
        survey_completed=surveyed,
        vehicle=vehicle_out(inspection),
        inspection=InspectionSummaryOut(
            id=inspection.id,
            reference=inspection.reference,
            inspected_at=inspection.inspected_at,
            place=inspection.inspection_place,
        ),
        price_cents=listing.price_cents,
        negotiable=listing.negotiable,
        location=listing.location,
        publicly_visible=listing.publicly_visible,
        sold=listing.state == ListingState.SOLD or listing.sold_at is not None,
        published_at=listing.published_at,
        publication_ends_at=listing.publication_ends_at,
        sold_at=listing.sold_at,
        sold_period_ends_at=listing.sold_period_ends_at,
        report_url=report_url(settings, inspection.id) if surveyed else None,
        report_pdf_url=f"/api/v1/owner/listings/{listing.id}/report.pdf" if surveyed else None,
        public_url=public_listing_url(settings, listing.id) if listing.publicly_visible else None,
        warnings=warnings_for(listing),
    )


def public_listing_out(row: Row) -> PublicListingOut:
    listing, inspection = row.listing, row.inspection
    return PublicListingOut(
        id=listing.id,
        vehicle=vehicle_out(inspection),
        price_cents=listing.price_cents,
        negotiable=listing.negotiable,
        location=listing.location,
        sold=listing.state == ListingState.SOLD,
        accepts_contact=accepts_contact(listing.state),
        published_at=listing.published_at,
        inspected_at=inspection.inspected_at,
    )


def public_detail_out(row: Row) -> PublicListingDetail:
    inspection = row.inspection
    return PublicListingDetail(
        **public_listing_out(row).model_dump(),
        inspection_reference=inspection.reference,
        summary=inspection.summary,
        checkpoints=[
            CheckpointOut(
                section=c.section,
                label=c.label,
                grade=c.grade,
                grade_label=GRADES.get(c.grade, c.grade),
                comment=c.comment,
            )
            for c in inspection.checkpoints
        ],
        photos=[PhotoOut(url=p.url, caption=p.caption) for p in inspection.photos],
    )


def page_view(row: Row) -> dict[str, Any]:
    """What the listing pages show (public detail, owner's preview, search results)."""
    listing, inspection = row.listing, row.inspection
    return {
        "id": str(listing.id),
        "title": vehicle_title(inspection),
        "make": inspection.vehicle_make,
        "model": inspection.vehicle_model,
        "registration": inspection.vehicle_registration,
        "first_registration": inspection.vehicle_first_registration.strftime("%m/%Y"),
        "year": inspection.vehicle_first_registration.year,
        "mileage": f"{thousands(inspection.vehicle_mileage_km)} km",
        "fuel": inspection.vehicle_fuel,
        "gearbox": inspection.vehicle_gearbox,
        "color": inspection.vehicle_color,
        "price": euros(listing.price_cents) if listing.price_cents else None,
        "negotiable": listing.negotiable,
        "location": listing.location,
        "state": listing.state,
        "sold": listing.state == ListingState.SOLD,
        "accepts_contact": accepts_contact(listing.state),
        "publicly_visible": listing.publicly_visible,
        "published_on": french_date(listing.published_at),
        "publication_ends_on": french_date(listing.publication_ends_at),
        "sold_on": french_date(listing.sold_at),
        "sold_period_ends_on": french_date(listing.sold_period_ends_at),
        "inspected_on": french_date(inspection.inspected_at),
        "reference": inspection.reference,
    }


def detail_view(row: Row) -> dict[str, Any]:
    """The detailed listing: the page view plus the inspection's summary and checkpoints."""
    return {**page_view(row), "report": report_context(row.inspection)}
