"""The owner's listings as the owner API shows them, and what the owner may do next.

What one listing allows next comes from its workflow when the caller asks it, else from
the read model with the same rules (`read_model_allowed`).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Response

from api.listings.service import Row, lifecycle_of
from api.listings.views import vehicle_out
from api.owners.schemas import InspectionSummaryOut, OwnerListingOut, Warning_
from carflow.links import public_listing_url, report_url
from carflow.settings import Settings
from db.models import Inspection, Listing
from statemachines.listing import Actor

PRICE_MISSING_EN = "No price given (0 €): buyers will see no price on the listing."
PRICE_MISSING_FR = (
    "Vous n'avez pas indiqué de prix (0 €) : votre annonce s'affichera sans prix. "
    "Renseignez-le pour être mieux contacté."
)


def read_model_allowed(listing: Listing, now: datetime) -> list[str]:
    """What the owner may do next, as the workflow would answer: the same machine."""
    return lifecycle_of(listing).allowed(now=now, actor=Actor.OWNER)


def warnings_for(listing: Listing) -> list[Warning_]:
    if lifecycle_of(listing).surveyed() and listing.price_cents == 0:
        return [Warning_(field="price_cents", code="price_missing", message=PRICE_MISSING_EN)]
    return []


def owner_listing_out(
    settings: Settings, row: Row, now: datetime, allowed: list[str] | None = None
) -> OwnerListingOut:
    listing, inspection = row.listing, row.inspection
    surveyed = lifecycle_of(listing).surveyed()
    return OwnerListingOut(
        id=listing.id,
        state=listing.state,
        allowed_events=allowed if allowed is not None else read_model_allowed(listing, now),
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
        sold=listing.sold_at is not None,
        published_at=listing.published_at,
        publication_ends_at=listing.publication_ends_at,
        sold_at=listing.sold_at,
        sold_period_ends_at=listing.sold_period_ends_at,
        report_url=report_url(settings, inspection.id) if surveyed else None,
        report_pdf_url=f"/api/v1/owner/listings/{listing.id}/report.pdf" if surveyed else None,
        public_url=public_listing_url(settings, listing.id) if listing.publicly_visible else None,
        warnings=warnings_for(listing),
    )


def report_pdf_response(pdf: bytes, inspection: Inspection) -> Response:
    """The inspection report as the owner downloads it (API and pages): never cached."""
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="rapport-expertise-{inspection.reference}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
