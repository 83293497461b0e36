"""Inspection intake (DESIGN §5): `POST /api/v1/inspections`, with an inspector's token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from api.body_limit import body_limited_route
from api.deps import CurrentInspector, SessionDep, SettingsDep, TemporalDep
from api.inspections.schemas import InspectionCreate, InspectionCreated
from api.inspections.service import IntakeKey, create_inspection
from api.lifecycle_client import listing_workflows
from api.proposals.service import request_fingerprint

# Up to 200 checkpoints with comments: more room than the default 64 KiB.
router = APIRouter(prefix="/api/v1", tags=["inspections"], route_class=body_limited_route(512 * 1024))


@router.post(
    "/inspections",
    status_code=201,
    response_model=InspectionCreated,
    summary="Post an inspection: owner account, report PDF, listing workflow in pending_survey",
)
async def post_inspection(
    inspector: CurrentInspector,
    body: InspectionCreate,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Retrying with the same key and body answers the same intake; "
            "another body with the same key is a 409.",
        ),
    ] = None,
) -> InspectionCreated:
    """Creates the owner's account (or reuses it: same email), whose password is mailed to the
    owner by the listing workflow, which also renders the report PDF. The listing starts in
    `pending_survey`: nothing is public until the owner completes the survey and publishes."""
    intake = await create_inspection(
        session,
        settings,
        listing_workflows(client, settings),
        body,
        inspector_id=inspector.id,
        inspector_name=inspector.name,
        idempotency=IntakeKey(inspector.id, idempotency_key, request_fingerprint("inspection", body))
        if idempotency_key is not None
        else None,
    )
    if intake.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return InspectionCreated(
        inspection_id=intake.inspection.id,
        listing_id=intake.listing.id,
        owner_id=intake.owner.id,
        owner_created=intake.owner_created,
        reference=intake.inspection.reference,
        state=intake.listing.state,
        report_url=intake.report_url,
    )
