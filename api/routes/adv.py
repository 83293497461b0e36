"""ADV (after-sales staff) operations API: stuck workflows and their retry (DESIGN §5).

Staff bearer tokens only: no token is a 401, a dealer's or an inspector's a 403. Every
retry, refused ones included, is written to the audit table and logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from api.deps import CurrentStaff, SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError
from carflow.observability_workflows import AdvOperations, RetryOutcome, WorkflowItem
from db.accounts import Principal
from db.models import AdvAuditEntry, utcnow

router = APIRouter(prefix="/api/v1/adv", tags=["adv"])

Kind = Literal["proposal", "listing"]
# What each retry result answers with (done is 200).
RETRY_STATUS = {"not_found": 404, "not_running": 409, "nothing_to_retry": 409, "failed": 503}


class WorkflowOut(BaseModel):
    kind: str = Field(description="`proposal` or `listing`")
    id: str = Field(description="The proposal's or listing's id")
    workflow_id: str
    state: str | None
    label: str | None = Field(description="Buyer or owner, vehicle, contract number")
    stuck: bool
    cause: str | None = Field(
        description="`workflow_task_failing`, `activity_paused`, `activity_failing`, `email_failed` "
        "or `signing_open`"
    )
    reason: str | None = Field(description="Plain text, e.g. the SMTP error")
    since: datetime | None = Field(description="Since when the problem lasts")
    attempts: int | None
    activity: str | None = Field(description="The failing activity's type")
    email_failed: bool
    started_at: datetime | None
    temporal_ui_url: str


class WorkflowPage(BaseModel):
    items: list[WorkflowOut]
    total: int
    page: int
    page_size: int


class RetryOut(BaseModel):
    kind: str
    id: str
    workflow_id: str
    result: str
    message: str
    actions: list[str]
    audit_id: uuid.UUID


class AuditOut(BaseModel):
    id: uuid.UUID
    at: datetime
    staff_id: uuid.UUID | None
    staff_name: str
    action: str
    kind: str
    target_id: str
    workflow_id: str
    result: str
    detail: str
    via: str


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int
    page: int
    page_size: int


def get_clock(request: Request) -> Callable[[], datetime]:
    """The ADV clock; tests may set `app.state.clock` to pin "now"."""
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utcnow)
    return clock


async def get_operations(
    _staff: CurrentStaff,  # first: a wrong token is a 401/403 even when Temporal is down
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    clock: Annotated[Callable[[], datetime], Depends(get_clock)],
) -> AdvOperations:
    return AdvOperations(settings, session, client, now=clock)


Operations = Annotated[AdvOperations, Depends(get_operations)]


def item_out(item: WorkflowItem) -> WorkflowOut:
    return WorkflowOut.model_validate(item, from_attributes=True)


@router.get(
    "/workflows",
    response_model=WorkflowPage,
    summary="Running proposal and listing workflows; `stuck=true` keeps those needing ADV",
)
async def list_workflows(
    operations: Operations,
    stuck: Annotated[bool, Query(description="Only stuck workflows, oldest problem first")] = False,
    kind: Annotated[Kind | None, Query(description="Only proposals or only listings")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> WorkflowPage:
    found = await operations.workflows(stuck=stuck, kind=kind, page=page, page_size=page_size)
    return WorkflowPage(
        items=[item_out(i) for i in found.items], total=found.total, page=page, page_size=page_size
    )


async def retry_and_audit(
    operations: AdvOperations, staff: Principal, kind: str, target_id: str, *, via: str
) -> tuple[RetryOutcome, AdvAuditEntry]:
    outcome = await operations.retry(kind, target_id)
    entry = await operations.audit(staff, "retry", outcome, via=via)
    return outcome, entry


async def _retry(operations: AdvOperations, staff: Principal, kind: str, target_id: str) -> RetryOut:
    outcome, entry = await retry_and_audit(operations, staff, kind, target_id, via="api")
    if not outcome.ok:
        code = "not_found" if outcome.result == "not_found" else outcome.result
        if outcome.result == "failed":
            code = "temporal_unavailable"
        raise ApiError(
            RETRY_STATUS[outcome.result],
            code,
            outcome.message,
            workflow_id=outcome.workflow_id,
            audit_id=str(entry.id),
        )
    return RetryOut(
        kind=outcome.kind,
        id=outcome.id,
        workflow_id=outcome.workflow_id,
        result=outcome.result,
        message=outcome.message,
        actions=outcome.actions,
        audit_id=entry.id,
    )


@router.post(
    "/proposals/{proposal_id}/retry",
    response_model=RetryOut,
    summary="Resume a proposal: retry its failed emails (signal) and reset failing activities",
)
async def retry_proposal(proposal_id: str, staff: CurrentStaff, operations: Operations) -> RetryOut:
    return await _retry(operations, staff, "proposal", proposal_id)


@router.post(
    "/listings/{listing_id}/retry",
    response_model=RetryOut,
    summary="Resume a listing: reset its failing activities",
)
async def retry_listing(listing_id: str, staff: CurrentStaff, operations: Operations) -> RetryOut:
    return await _retry(operations, staff, "listing", listing_id)


@router.get("/audit", response_model=AuditPage, summary="Who retried what, newest first")
async def audit_log(
    _staff: CurrentStaff,
    session: SessionDep,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> AuditPage:
    total = int(await session.scalar(select(func.count()).select_from(AdvAuditEntry)) or 0)
    rows = await session.scalars(
        select(AdvAuditEntry)
        .order_by(AdvAuditEntry.at.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return AuditPage(
        items=[AuditOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )
