"""What ADV staff see and do: running workflows, which are stuck and why, and the retry.

A workflow is stuck when (DESIGN §5, thresholds in Settings):
* one of its activities keeps failing: `adv_stuck_attempts` failed attempts in a row, or
  failing for `adv_stuck_minutes` (from `describe()`: the pending activity's attempt and
  last failure; the first scheduling time comes from history, since the server moves
  `scheduled_time` to the next attempt);
* it gave up on an email and waits for an ADV retry (`EmailFailed`);
* a proposal has been in `signing` for `adv_signing_stuck_hours`;
* an operator paused one of its activities (`temporal activity pause`);
* its workflow task keeps failing (a bug or a bad deploy: no retry fixes that).

The lists come from indexed data (api/adv/stuck.py: visibility's reported problems, the
worker's `activity_failures`, the read model), never from describing every workflow; a
workflow is described on its detail view (`item`), before a retry, and when visibility
says its workflow task fails (for the error message, a page's few at most).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.common.v1 import WorkflowExecution as ExecutionRef
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import ResetActivityRequest
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from api.adv.stuck import (
    ACTIVITY_FAILING,
    ACTIVITY_PAUSED,
    EMAIL_FAILED_CAUSE,
    SIGNING_OPEN,
    WORKFLOW_TASK_FAILING,
    AdvLists,
    walk,
)
from api.adv.visibility import RPC_TIMEOUT, ProblemWatch
from carflow.records import fields_of
from carflow.settings import Settings
from db.accounts import Principal
from db.models import AdvAuditEntry, Inspection, Listing, OutboxEmail, Proposal
from statemachines.proposal import Actor, from_read_model
from workflows.contract import SIGNAL_RETRY_EMAILS
from workflows.kinds import KINDS
from workflows.listing_contract import LISTING
from workflows.proposal_contract import PROPOSAL
from workflows.search_attributes import EMAIL_FAILED

log = structlog.get_logger("adv")

DESCRIBE_CONCURRENCY = 16


def temporal_ui_url(settings: Settings, workflow_id: str) -> str:
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{settings.temporal_ui_url}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"


@dataclass
class WorkflowRef:
    """A running proposal or listing workflow, as the read model and visibility know it."""

    kind: str
    id: str
    workflow_id: str
    state: str | None = None
    label: str | None = None
    started_at: datetime | None = None
    email_failed: bool = False


@dataclass
class WorkflowItem(WorkflowRef):
    """A workflow as ADV sees it: where to look at it, and whether and why it is stuck."""

    temporal_ui_url: str = field(kw_only=True)
    stuck: bool = False
    cause: str | None = None
    reason: str | None = None
    since: datetime | None = None
    attempts: int | None = None
    activity: str | None = None


@dataclass
class _Candidate(WorkflowRef):
    in_read_model: bool = False
    email_error: str | None = None
    updated_at: datetime | None = None  # of the read model row: when the state last changed
    order: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))


@dataclass
class _Problem:
    cause: str
    reason: str
    since: datetime | None = None
    attempts: int | None = None
    activity: str | None = None


@dataclass
class Page:
    items: list[WorkflowItem]
    total: int
    page: int
    page_size: int
    next_cursor: str | None = None


@dataclass
class RetryOutcome:
    kind: str
    id: str
    workflow_id: str
    result: str  # done | not_found | not_running | failed
    message: str
    actions: list[str] = field(default_factory=list)
    reason_before: str | None = None

    @property
    def ok(self) -> bool:
        return self.result == "done"


class AdvOperations:
    def __init__(
        self,
        settings: Settings,
        session: AsyncSession,
        client: Client,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        watch: ProblemWatch,
    ) -> None:
        self.settings = settings
        self.session = session
        self.client = client
        self.now = now
        self.watch = watch  # the API process's view of visibility (app.state.adv_problems)

    # --- listing -------------------------------------------------------------------------

    async def workflows(
        self,
        *,
        stuck: bool,
        kind: str | None = None,
        page: int = 1,
        page_size: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """A page of the stuck (or running) list, from indexed data only (api/adv/stuck.py).

        Raises `WorkflowsUnseen` when Temporal does not answer the stuck list's visibility
        query, `BadCursor` for a cursor this list did not give.
        """
        lists = AdvLists(self.settings, self.session, self.client, self.now, self.watch)
        sections = lists.stuck_sections(kind) if stuck else lists.running_sections(kind)
        listed = await walk(sections, cursor=cursor, page=page, page_size=page_size)
        if not stuck:
            await lists.flag_stuck(listed.entries)
        labels = await lists.describe_from_read_model(listed.entries)
        items = []
        for entry in listed.entries:
            item = WorkflowItem(
                entry.kind,
                entry.id,
                entry.workflow_id,
                state=entry.state,
                label=labels.get(entry.workflow_id),
                started_at=entry.started_at,
                email_failed=entry.email_failed,
                temporal_ui_url=temporal_ui_url(self.settings, entry.workflow_id),
                stuck=entry.stuck,
                cause=entry.cause,
                reason=entry.reason,
                since=entry.since,
                attempts=entry.attempts,
                activity=entry.activity,
            )
            if item.cause == WORKFLOW_TASK_FAILING:
                await self._with_task_failure(item)  # a few broken workflows: their error message
            items.append(item)
        failed_emails = await self._failed_outbox(
            [i.workflow_id for i in items if i.cause == EMAIL_FAILED_CAUSE]
        )
        for item in items:
            if item.cause == EMAIL_FAILED_CAUSE and item.workflow_id in failed_emails:
                item.since, item.attempts = failed_emails[item.workflow_id]
        return Page(items, listed.total, page, page_size, listed.next_cursor)

    async def _with_task_failure(self, item: WorkflowItem) -> None:
        """The failing workflow task's message, attempts and start, from describe and history."""
        try:
            description = await self.client.get_workflow_handle(item.workflow_id).describe(
                rpc_timeout=RPC_TIMEOUT
            )
        except RPCError as err:
            log.warning("adv_describe_failed", workflow_id=item.workflow_id, error=str(err)[:200])
            return
        if item.label is None:
            item.label = await description.static_summary()
        for problem in await self._workflow_task_problem(description):
            item.reason, item.since, item.attempts = problem.reason, problem.since, problem.attempts

    async def item(self, kind: str, target_id: str) -> WorkflowItem | None:
        """One workflow as ADV sees it, described: None when it is not running."""
        candidate = await self._read_model(kind, target_id) or _Candidate(
            kind, target_id, KINDS[kind].workflow_id(target_id)
        )
        [found] = await self._describe_all([candidate])
        return found

    async def _read_model_candidates(self, only: tuple[str, uuid.UUID] | None = None) -> list[_Candidate]:
        """Proposals and listings whose lifecycle is not over, or that wait for an email retry."""
        found = []
        if only is None or only[0] == PROPOSAL.name:
            query = select(Proposal)
            if only is None:
                query = query.where(
                    or_(Proposal.state.not_in(list(PROPOSAL.final_states)), Proposal.email_failed.is_(True))
                )
            else:
                query = query.where(Proposal.id == only[1])
            for proposal in await self.session.scalars(query):
                candidate = self._from_row(PROPOSAL.name, proposal)
                candidate.label = (
                    f"{proposal.buyer_first_name} {proposal.buyer_last_name} · {proposal.vehicle_make} "
                    f"{proposal.vehicle_model} {proposal.vehicle_registration} · {proposal.contract_number}"
                )
                found.append(candidate)
        if only is None or only[0] == LISTING.name:
            listings = select(Listing, Inspection).join(Inspection, Listing.inspection_id == Inspection.id)
            if only is None:
                listings = listings.where(
                    or_(Listing.state.not_in(list(LISTING.final_states)), Listing.email_failed.is_(True))
                )
            else:
                listings = listings.where(Listing.id == only[1])
            for listing, inspection in (await self.session.execute(listings)).all():
                candidate = self._from_row(LISTING.name, listing)
                candidate.label = (
                    f"{inspection.vehicle_make} {inspection.vehicle_model} {inspection.vehicle_registration}"
                    f" · expertise {inspection.reference}"
                )
                found.append(candidate)
        return found

    def _from_row(self, kind: str, row: Proposal | Listing) -> _Candidate:
        return _Candidate(
            kind,
            str(row.id),
            KINDS[kind].workflow_id(row.id),
            state=row.state,
            started_at=row.created_at,
            in_read_model=True,
            email_failed=row.email_failed,
            email_error=row.email_error,
            updated_at=row.updated_at,
            order=row.created_at,
        )

    async def _read_model(self, kind: str, target_id: str) -> _Candidate | None:
        try:
            row_id = uuid.UUID(target_id)
        except ValueError:
            return None
        found = await self._read_model_candidates(only=(kind, row_id))
        return found[0] if found else None

    # --- describing ------------------------------------------------------------------------

    async def _describe_all(self, candidates: Iterable[_Candidate]) -> list[WorkflowItem | None]:
        limit = asyncio.Semaphore(DESCRIBE_CONCURRENCY)

        async def one(candidate: _Candidate) -> WorkflowItem | None:
            async with limit:
                return await self._describe(candidate)

        items = await asyncio.gather(*(one(c) for c in candidates))
        # Email details come from the outbox, read here once (one session is not concurrent-safe).
        failed_emails = await self._failed_outbox(
            [i.workflow_id for i in items if i and i.cause == EMAIL_FAILED_CAUSE]
        )
        for item in items:
            if item is not None and item.cause == EMAIL_FAILED_CAUSE and item.workflow_id in failed_emails:
                item.since, item.attempts = failed_emails[item.workflow_id]
        return list(items)

    async def _describe(self, candidate: _Candidate) -> WorkflowItem | None:
        handle = self.client.get_workflow_handle(candidate.workflow_id)
        description: WorkflowExecutionDescription | None = None
        try:
            description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None  # never started, or already deleted
            log.warning("adv_describe_failed", workflow_id=candidate.workflow_id, error=str(err)[:200])
        if description is not None and description.status != WorkflowExecutionStatus.RUNNING:
            return None
        item = WorkflowItem(
            **fields_of(candidate, WorkflowRef),
            temporal_ui_url=temporal_ui_url(self.settings, candidate.workflow_id),
        )
        problems: list[_Problem] = []
        if description is not None:
            attributes = description.typed_search_attributes
            item.state = item.state or attributes.get(KINDS[candidate.kind].state_attribute)
            item.email_failed = item.email_failed or bool(attributes.get(EMAIL_FAILED))
            item.started_at = item.started_at or description.start_time
            if item.label is None:
                item.label = await description.static_summary()
            problems += await self._workflow_task_problem(description)
            problems += await self._activity_problems(description)
        if item.email_failed:
            error = candidate.email_error or "see the workflow's current details"
            problems.append(
                _Problem(
                    EMAIL_FAILED_CAUSE,
                    f"email failed, waiting for an ADV retry: {error}",
                    since=candidate.updated_at,
                )
            )
        problems += self._signing_problem(candidate)
        if problems:
            first = problems[0]
            item.stuck = True
            item.cause, item.reason, item.since = first.cause, first.reason, first.since
            item.attempts, item.activity = first.attempts, first.activity
        return item

    async def _activity_problems(self, description: WorkflowExecutionDescription) -> list[_Problem]:
        problems = []
        for pending in description.raw_description.pending_activities:
            name = pending.activity_type.name
            if pending.paused:
                problems.append(
                    _Problem(
                        ACTIVITY_PAUSED,
                        f"activity {name} (id {pending.activity_id}) is paused"
                        + (
                            f", last failure: {pending.last_failure.message}"
                            if pending.last_failure.message
                            else ""
                        )
                        + "; `temporal activity unpause` or an ADV retry resumes it",
                        since=_ts(pending.pause_info.pause_time) if pending.HasField("pause_info") else None,
                        attempts=pending.attempt,
                        activity=name,
                    )
                )
                continue
            failures = _failures(pending)
            if failures == 0:
                continue
            since = await self._first_scheduled(description, pending)
            failing_for = self.now() - since if since is not None else timedelta(0)
            if failures < self.settings.adv_stuck_attempts and failing_for < timedelta(
                minutes=self.settings.adv_stuck_minutes
            ):
                continue
            problems.append(
                _Problem(
                    ACTIVITY_FAILING,
                    f"{name} failing ({failures} failed attempt{'s' if failures > 1 else ''}): "
                    f"{pending.last_failure.message or 'no message'}",
                    since=since,
                    attempts=pending.attempt,
                    activity=name,
                )
            )
        return problems

    async def _workflow_task_problem(self, description: WorkflowExecutionDescription) -> list[_Problem]:
        """A workflow task failing again and again: a bug or a bad deploy, not an outage."""
        raw = description.raw_description
        if not raw.HasField("pending_workflow_task") or raw.pending_workflow_task.attempt < 2:
            return []
        task = raw.pending_workflow_task
        failures = task.attempt - 1
        since = _ts(task.original_scheduled_time)
        failing_for = self.now() - since if since is not None else timedelta(0)
        if failures < self.settings.adv_stuck_attempts and failing_for < timedelta(
            minutes=self.settings.adv_stuck_minutes
        ):
            return []
        message = None
        async for event in self._history(description):
            if event.HasField("workflow_task_failed_event_attributes"):
                message = event.workflow_task_failed_event_attributes.failure.message
        return [
            _Problem(
                WORKFLOW_TASK_FAILING,
                f"workflow task failing ({failures} failed attempts): {message or 'no message'}; "
                "the worker's code cannot run this workflow: fix or roll back the worker "
                "(docs/operations.md, worker down)",
                since=since,
                attempts=task.attempt,
            )
        ]

    async def _first_scheduled(
        self, description: WorkflowExecutionDescription, pending: PendingActivityInfo
    ) -> datetime | None:
        """When the activity was first scheduled: `scheduled_time` moves with each retry."""
        found = None
        async for event in self._history(description):
            if (
                event.HasField("activity_task_scheduled_event_attributes")
                and event.activity_task_scheduled_event_attributes.activity_id == pending.activity_id
            ):
                found = event.event_time.ToDatetime(tzinfo=UTC)  # the last scheduling of this id
        return found

    async def _history(self, description: WorkflowExecutionDescription) -> AsyncIterator[HistoryEvent]:
        handle = self.client.get_workflow_handle(description.id, run_id=description.run_id)
        try:
            async for event in handle.fetch_history_events(rpc_timeout=RPC_TIMEOUT):
                yield event
        except RPCError as err:
            log.warning("adv_history_unavailable", workflow_id=description.id, error=str(err)[:200])

    def _signing_problem(self, candidate: _Candidate) -> list[_Problem]:
        if candidate.kind != PROPOSAL.name or candidate.state is None:
            return []
        waiting = from_read_model(candidate.state, expires_at=None, withdrawal_deadline=None)
        if not waiting.can("sign", now=self.now(), actor=Actor.BUYER):
            return []  # not waiting for the buyer's signature
        if candidate.updated_at is None:
            return []  # known from visibility only: no reliable start of signing
        threshold = timedelta(hours=self.settings.adv_signing_stuck_hours)
        open_for = self.now() - candidate.updated_at
        if open_for < threshold:
            return []
        hours = int(open_for.total_seconds() // 3600)
        return [
            _Problem(
                SIGNING_OPEN,
                f"signing open for {hours} h (threshold {self.settings.adv_signing_stuck_hours} h): "
                "the buyer has not signed; call them, or let the proposal expire",
                since=candidate.updated_at,
            )
        ]

    async def _failed_outbox(self, workflow_ids: list[str]) -> dict[str, tuple[datetime, int]]:
        """First failure time and send attempts of each workflow's unsent email.

        Email idempotency keys start with the workflow id (`proposal-<id>:proposal_sent:1`).
        """
        found: dict[str, tuple[datetime, int]] = {}
        if not workflow_ids:
            return found
        # One query for the page (the partial index holds the unsent rows only). The keys'
        # prefixes compared with IN, one per prefix length (the kinds' ids have a length each):
        # a LIKE per workflow made building the statement cost more CPU than the whole page.
        by_length: dict[int, list[str]] = {}
        for workflow_id in workflow_ids:
            prefix = f"{workflow_id}:"
            by_length.setdefault(len(prefix), []).append(prefix)
        rows = await self.session.scalars(
            select(OutboxEmail)
            .where(
                OutboxEmail.status != "sent",
                OutboxEmail.last_error.is_not(None),
                or_(
                    *(
                        func.substr(OutboxEmail.idempotency_key, 1, length).in_(prefixes)
                        for length, prefixes in sorted(by_length.items())
                    )
                ),
            )
            .order_by(OutboxEmail.created_at)
        )
        for row in rows:
            workflow_id = row.idempotency_key.partition(":")[0]
            if workflow_id in workflow_ids and workflow_id not in found:
                found[workflow_id] = (row.created_at, row.attempts)
        return found

    # --- retry -------------------------------------------------------------------------------

    async def retry(self, kind: str, target_id: str) -> RetryOutcome:
        """Resume a workflow: its retry signal, and a reset of any failing or paused activity."""
        workflow_id = KINDS[kind].workflow_id(target_id)
        outcome = RetryOutcome(kind, target_id, workflow_id, "failed", "")
        if await self._read_model(kind, target_id) is None:
            outcome.result, outcome.message = "not_found", f"no {kind} {target_id}"
            return outcome
        handle = self.client.get_workflow_handle(workflow_id)
        try:
            description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                outcome.result, outcome.message = "not_found", f"no workflow {workflow_id}"
            else:
                outcome.message = f"Temporal did not answer: {err.status.name if err.status else err}"
            return outcome
        if description.status != WorkflowExecutionStatus.RUNNING:
            status = description.status.name.lower() if description.status else "closed"
            outcome.result = "not_running"
            outcome.message = f"workflow {workflow_id} is {status}: there is nothing to retry"
            return outcome
        current = await self.item(kind, target_id)
        outcome.reason_before = current.reason if current is not None else None

        try:
            # Every lifecycle listens to it: its failed side effect is tried again.
            await handle.signal(SIGNAL_RETRY_EMAILS, rpc_timeout=RPC_TIMEOUT)
            outcome.actions.append(f"signal {SIGNAL_RETRY_EMAILS}")
            for pending in description.raw_description.pending_activities:
                if pending.paused or _failures(pending) > 0:
                    outcome.actions.append(await self._reset_activity(description, pending))
        except RPCError as err:
            outcome.message = f"Temporal refused: {err.message[:200]}"
            return outcome
        outcome.result = "done"
        outcome.message = "; ".join(outcome.actions)
        self.watch.forget()  # the page shown next asks Temporal again (an unpaused activity)
        if current is not None and current.cause == WORKFLOW_TASK_FAILING:
            outcome.message += "; but its workflow task is failing: only a fixed worker resumes it"
        return outcome

    async def _reset_activity(
        self, description: WorkflowExecutionDescription, pending: PendingActivityInfo
    ) -> str:
        """Retry a failing activity now (attempt back to 1; unpaused), if the server can."""
        try:
            await self.client.workflow_service.reset_activity(
                ResetActivityRequest(
                    namespace=self.client.namespace,
                    execution=ExecutionRef(workflow_id=description.id, run_id=description.run_id),
                    id=pending.activity_id,
                    identity=self.client.identity,
                ),
                timeout=RPC_TIMEOUT,
            )
        except RPCError as err:
            if err.status == RPCStatusCode.UNIMPLEMENTED:
                return f"activity {pending.activity_id} not reset (not supported by this server)"
            raise
        return f"activity {pending.activity_id} ({pending.activity_type.name}) reset"

    # --- audit ---------------------------------------------------------------------------------

    async def audit(self, staff: Principal, action: str, outcome: RetryOutcome, *, via: str) -> AdvAuditEntry:
        detail = outcome.message
        if outcome.reason_before:
            detail += f" | was: {outcome.reason_before}"
        entry = AdvAuditEntry(
            at=self.now(),
            staff_id=staff.id,
            staff_name=staff.name,
            action=action,
            kind=outcome.kind,
            target_id=outcome.id[:100],
            workflow_id=outcome.workflow_id[:200],
            result=outcome.result,
            detail=detail[:2000],
            via=via,
        )
        self.session.add(entry)
        await self.session.commit()
        # Looked up per call (not cached at import) so tests can capture it.
        structlog.get_logger("adv").info(
            "adv_retry",
            staff_id=str(staff.id),
            staff_name=staff.name,
            kind=outcome.kind,
            target_id=outcome.id,
            workflow_id=outcome.workflow_id,
            result=outcome.result,
            actions=outcome.actions,
            detail=outcome.message,
            reason_before=outcome.reason_before,
            via=via,
            audit_id=str(entry.id),
        )
        return entry

    async def recent_audit(self, limit: int = 20, offset: int = 0) -> list[AdvAuditEntry]:
        return await recent_audit(self.session, limit, offset)


async def recent_audit(session: AsyncSession, limit: int = 20, offset: int = 0) -> list[AdvAuditEntry]:
    """The latest ADV actions: needs the database only (shown while Temporal is down too)."""
    rows = await session.scalars(
        select(AdvAuditEntry).order_by(AdvAuditEntry.at.desc()).offset(offset).limit(limit)
    )
    return list(rows)


async def retry_and_audit(
    operations: AdvOperations, staff: Principal, kind: str, target_id: str, *, via: str
) -> tuple[RetryOutcome, AdvAuditEntry]:
    outcome = await operations.retry(kind, target_id)
    entry = await operations.audit(staff, "retry", outcome, via=via)
    return outcome, entry


def _failures(pending: PendingActivityInfo) -> int:
    """Failed attempts so far: attempt N (running, or waiting in backoff) follows N-1 failures."""
    return max(pending.attempt - 1, 1) if pending.HasField("last_failure") else 0


def _ts(stamp) -> datetime | None:  # noqa: ANN001 - a protobuf Timestamp
    return stamp.ToDatetime(tzinfo=UTC) if stamp.seconds else None
