"""Inspection intake: the owner's account (created or reused), the inspection, its listing.

The rows are written and committed first (the workflow's activities read them), then the
listing's workflow starts in `pending_survey`; if it cannot start, the rows written for this
intake are removed again and the inspector gets a 503 to retry. The password and the report
PDF are the workflow's first activities: the password never leaves the activity that mails it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.inspections.schemas import InspectionCreate
from api.lifecycle_client import ListingWorkflows
from carflow.formatting import vehicle_title
from carflow.links import inspection_reference, report_token_hash, report_url
from carflow.settings import Settings
from db.models import (
    Inspection,
    InspectionCheckpoint,
    InspectionPhoto,
    IntakeIdempotencyRecord,
    Listing,
    Owner,
)
from workflows.listing_contract import ListingStart

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Intake:
    owner: Owner
    owner_created: bool
    inspection: Inspection
    listing: Listing
    report_url: str
    replayed: bool = False  # an earlier request with the same Idempotency-Key made it


@dataclass(frozen=True)
class IntakeKey:
    """An intake's Idempotency-Key: the same key and body answer the same intake."""

    inspector_id: uuid.UUID
    key: str
    fingerprint: str


async def earlier_intake(session: AsyncSession, settings: Settings, key: IntakeKey) -> Intake | None:
    """The intake an earlier request with this key made; 409 if its body was another."""
    record = await session.scalar(
        select(IntakeIdempotencyRecord).where(
            IntakeIdempotencyRecord.inspector_id == key.inspector_id, IntakeIdempotencyRecord.key == key.key
        )
    )
    if record is None:
        return None
    if record.request_hash != key.fingerprint:
        raise ApiError(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different inspection; use a new key.",
        )
    inspection = await session.get(Inspection, record.inspection_id)
    listing = await session.scalar(select(Listing).where(Listing.inspection_id == record.inspection_id))
    assert inspection is not None and listing is not None  # written in one commit with the record
    owner = await session.get(Owner, inspection.owner_id)
    assert owner is not None
    return Intake(
        owner, record.owner_created, inspection, listing, report_url(settings, inspection.id), replayed=True
    )


async def create_inspection(
    session: AsyncSession,
    settings: Settings,
    workflows: ListingWorkflows,
    body: InspectionCreate,
    *,
    inspector_id: uuid.UUID | None,
    inspector_name: str,
    idempotency: IntakeKey | None = None,
) -> Intake:
    if idempotency is not None:
        earlier = await earlier_intake(session, settings, idempotency)
        if earlier is not None:
            # Started again (harmless if it runs): a crash may have come between the two.
            await workflows.start(earlier.listing.id, _start_input(earlier))
            return earlier
    email = body.owner.email.strip().lower()
    owner = await session.scalar(select(Owner).where(Owner.email == email))
    owner_created = owner is None
    if owner is None:
        owner = Owner(
            email=email,
            first_name=body.owner.first_name,
            last_name=body.owner.last_name,
            phone=body.owner.phone,
        )
        session.add(owner)
        try:
            await session.flush()
        except IntegrityError:  # the same new owner's other inspection, posted at the same time
            await session.rollback()
            owner = await session.scalar(select(Owner).where(Owner.email == email))
            if owner is None:
                raise
            owner_created = False
    inspection_id = uuid.uuid4()
    vehicle, report = body.vehicle, body.report
    inspection = Inspection(
        id=inspection_id,
        owner_id=owner.id,
        inspector_id=inspector_id,
        report_token_hash=report_token_hash(settings, inspection_id),
        reference=inspection_reference(inspection_id),
        vehicle_make=vehicle.make,
        vehicle_model=vehicle.model,
        vehicle_version=vehicle.version,
        vehicle_registration=vehicle.registration,
        vehicle_vin=vehicle.vin,
        vehicle_first_registration=vehicle.first_registration,
        vehicle_mileage_km=vehicle.mileage_km,
        vehicle_fuel=vehicle.fuel,
        vehicle_gearbox=vehicle.gearbox,
        vehicle_color=vehicle.color,
        inspected_at=report.inspected_at,
        inspection_place=report.place,
        inspector_name=report.inspector_name or inspector_name,
        summary=report.summary,
    )
    session.add(inspection)
    await session.flush()
    for position, checkpoint in enumerate(report.checkpoints, start=1):
        session.add(
            InspectionCheckpoint(
                inspection_id=inspection_id,
                position=position,
                section=checkpoint.section,
                label=checkpoint.label,
                grade=checkpoint.grade,
                comment=checkpoint.comment or None,
            )
        )
    for position, photo in enumerate(report.photos, start=1):
        session.add(
            InspectionPhoto(
                inspection_id=inspection_id, position=position, url=str(photo.url), caption=photo.caption
            )
        )
    listing = Listing(
        inspection_id=inspection_id,
        owner_id=owner.id,
        price_cents=body.listing.price_cents,
        negotiable=body.listing.negotiable,
        location=body.listing.location,
        state="pending_survey",
        state_version=0,
    )
    session.add(listing)
    if idempotency is not None:
        session.add(
            IntakeIdempotencyRecord(
                inspector_id=idempotency.inspector_id,
                key=idempotency.key,
                request_hash=idempotency.fingerprint,
                inspection_id=inspection_id,
                owner_created=owner_created,
            )
        )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        # A concurrent request with the same key won the race: its intake is the answer.
        earlier = await earlier_intake(session, settings, idempotency) if idempotency else None
        if earlier is None:
            raise
        return earlier
    intake = Intake(owner, owner_created, inspection, listing, report_url(settings, inspection_id))
    await workflows.start_or_undo(
        listing.id,
        _start_input(intake),
        lambda: _undo(session, listing, inspection, owner if owner_created else None),
    )
    log.info(
        "inspection_intake",
        listing_id=str(listing.id),
        inspection_id=str(inspection_id),
        owner_created=owner_created,
    )
    return intake


def _start_input(intake: Intake) -> ListingStart:
    inspection, listing = intake.inspection, intake.listing
    title = f"{vehicle_title(inspection)} {inspection.vehicle_registration}"
    return ListingStart(
        listing_id=str(listing.id),
        owner_id=str(intake.owner.id),
        inspection_id=str(inspection.id),
        summary=f"{title} — inspection {inspection.reference}",
        price_cents=listing.price_cents,
        negotiable=listing.negotiable,
        location=listing.location,
        new_owner=intake.owner_created,
    )


async def _undo(session: AsyncSession, listing: Listing, inspection: Inspection, owner: Owner | None) -> None:
    await session.execute(
        delete(IntakeIdempotencyRecord).where(IntakeIdempotencyRecord.inspection_id == inspection.id)
    )
    await session.execute(delete(Listing).where(Listing.id == listing.id))
    await session.execute(
        delete(InspectionCheckpoint).where(InspectionCheckpoint.inspection_id == inspection.id)
    )
    await session.execute(delete(InspectionPhoto).where(InspectionPhoto.inspection_id == inspection.id))
    await session.execute(delete(Inspection).where(Inspection.id == inspection.id))
    if owner is not None:
        await session.execute(delete(Owner).where(Owner.id == owner.id))
    await session.commit()
