"""ADV (after-sales staff) operations API: stuck workflows and their retry (DESIGN §5).

Staff bearer tokens only: no token is a 401, a dealer's or an inspector's a 403. Every
retry, refused ones included, is written to the audit table and logged.
"""

# No `from __future__ import annotations`: the retry routes' annotations name a loop's kind.

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from api.adv.deps import Operations, workflows_unseen
from api.adv.schemas import AuditPage, RetryOut, WorkflowOut, WorkflowPage
from api.adv.service import AdvOperations, WorkflowItem, retry_and_audit
from api.adv.stuck import BadCursor
from api.adv.visibility import WorkflowsUnseen
from api.deps import CurrentStaff, SessionDep
from api.errors import ApiError
from api.paging import Keyset, PageParams, fetch_page, page_params
from api.query_params import STRICT_QUERY
from db.accounts import Principal
from db.models import AdvAuditEntry

router = APIRouter(prefix="/api/v1/adv", tags=["adv"], dependencies=[STRICT_QUERY])
AUDIT_LOG = Keyset("adv_audit", (AdvAuditEntry.at, AdvAuditEntry.id))

Kind = Literal["proposal", "listing"]
# What each retry result answers with (done is 200).
RETRY_STATUS = {"not_found": 404, "not_running": 409, "failed": 503}


def item_out(item: WorkflowItem) -> WorkflowOut:
    return WorkflowOut.model_validate(item, from_attributes=True)


@router.get(
    "/workflows",
    response_model=WorkflowPage,
    summary="Running proposal and listing workflows; `stuck=true` keeps those needing ADV",
    description="From indexed data only (visibility's reported problems, the worker's recorded "
    "activity failures, the read model); `GET /adv/{kind}s/{id}` describes one workflow. "
    "503 `temporal_unavailable` when Temporal cannot be asked, never an empty list.",
)
async def list_workflows(
    operations: Operations,
    stuck: Annotated[bool, Query(description="Only stuck workflows, by cause, oldest problem first")] = False,
    kind: Annotated[Kind | None, Query(description="Only proposals or only listings")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="`next_cursor` of the page before")
    ] = None,
) -> WorkflowPage:
    try:
        found = await operations.workflows(
            stuck=stuck, kind=kind, page=page, page_size=page_size, cursor=cursor
        )
    except WorkflowsUnseen as exc:
        raise workflows_unseen(str(exc)) from None
    except BadCursor as exc:
        raise ApiError(422, "invalid_cursor", str(exc)) from None
    return WorkflowPage(
        items=[item_out(i) for i in found.items],
        total=found.total,
        page=page,
        page_size=page_size,
        next_cursor=found.next_cursor,
    )


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
    # The outcome as it is (its other fields are for the audit), with its audit entry.
    return RetryOut.model_validate({**asdict(outcome), "audit_id": entry.id})


# One retry endpoint per kind, its path naming the kind's own id (`proposal_id`, `listing_id`).
RETRY_SUMMARIES = {
    "proposal": "Resume a proposal: retry its failed emails (signal) and reset failing activities",
    "listing": "Resume a listing: reset its failing activities",
}


def _add_retry_route(kind: str, summary: str) -> None:
    async def retry(
        target_id: Annotated[str, Path(alias=f"{kind}_id")], staff: CurrentStaff, operations: Operations
    ) -> RetryOut:
        return await _retry(operations, staff, kind, target_id)

    router.add_api_route(
        f"/{kind}s/{{{kind}_id}}/retry",
        retry,
        methods=["POST"],
        name=f"retry_{kind}",
        response_model=RetryOut,
        summary=summary,
    )


for _kind, _summary in RETRY_SUMMARIES.items():
    _add_retry_route(_kind, _summary)


def _add_detail_route(kind: str) -> None:
    async def detail(
        target_id: Annotated[str, Path(alias=f"{kind}_id", max_length=100)], operations: Operations
    ) -> WorkflowOut:
        found = await operations.item(kind, target_id)
        if found is None:
            raise ApiError(404, "not_found", f"No running workflow for {kind} {target_id}.")
        return item_out(found)

    router.add_api_route(
        f"/{kind}s/{{{kind}_id}}",
        detail,
        methods=["GET"],
        name=f"adv_{kind}",
        response_model=WorkflowOut,
        summary=f"One running {kind} workflow, described now (activities, workflow task, email)",
    )


for _kind in RETRY_SUMMARIES:
    _add_detail_route(_kind)


@router.get("/audit", response_model=AuditPage, summary="Who retried what, newest first")
async def audit_log(
    _staff: CurrentStaff,
    session: SessionDep,
    params: Annotated[PageParams, Depends(page_params(50))],
) -> AuditPage:
    found = await fetch_page(session, select(AdvAuditEntry), AUDIT_LOG, params)
    return AuditPage.model_validate(found, from_attributes=True)
