"""The listing read model as the public API and the pages show it.

Shared by the public listings (api/listings/) and the owner's space (api/owners/): the
vehicle, the public listing and its detail with the inspection, and the page view.
"""

from __future__ import annotations

from typing import Any

from activities.reports import GRADES, report_context
from api.listings.schemas import CheckpointOut, PhotoOut, PublicListingDetail, VehicleOut
from api.listings.service import Row
from carflow.formatting import euros, french_date, thousands, vehicle_title
from db.models import Inspection
from statemachines.listing import public_flags


def vehicle_fields(inspection: Any) -> dict[str, Any]:
    """`VehicleOut`'s fields from an `Inspection` (or a row with its vehicle columns)."""
    return {
        "make": inspection.vehicle_make,
        "model": inspection.vehicle_model,
        "version": inspection.vehicle_version,
        "registration": inspection.vehicle_registration,
        "first_registration": inspection.vehicle_first_registration,
        "mileage_km": inspection.vehicle_mileage_km,
        "fuel": inspection.vehicle_fuel,
        "gearbox": inspection.vehicle_gearbox,
        "color": inspection.vehicle_color,
    }


def vehicle_out(inspection: Inspection) -> VehicleOut:
    return VehicleOut.model_validate(vehicle_fields(inspection))


def public_listing_fields(listing: Any, inspection: Any) -> dict[str, Any]:
    """`PublicListingOut`'s fields, nested, from a listing and its inspection: entities, or
    twice the same row of the search's card columns (api/listings/service.py)."""
    flags = public_flags(listing.state, listing.visible_when_sold)
    return {
        "id": listing.id,
        "vehicle": vehicle_fields(inspection),
        "price_cents": listing.price_cents,
        "negotiable": listing.negotiable,
        "location": listing.location,
        "sold": flags.sold,
        "accepts_contact": flags.accepts_contact,
        "published_at": listing.published_at,
        "inspected_at": inspection.inspected_at,
    }


def public_detail_out(row: Row) -> PublicListingDetail:
    inspection = row.inspection
    return PublicListingDetail(
        **public_listing_fields(row.listing, row.inspection),
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
    flags = public_flags(listing.state, listing.visible_when_sold)
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
        "sold": flags.sold,
        "accepts_contact": flags.accepts_contact,
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
