"""Response bodies of the ADV operations API (`/api/v1/adv`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.paging import PageFields


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
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page (stable while rows come and go); null on the last"
    )


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


class AuditPage(PageFields):
    items: list[AuditOut]
