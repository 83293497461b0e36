"""The API's side of the proposal workflow contract (workflows/proposal_contract.py).

Starting a workflow, firing an event (an update), reading the status (a query), and turning
what Temporal answers into the API's errors: a refused event is a 409 naming the state and
the allowed events; a Temporal that does not answer is a 503, never a hung request.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.temporal import execute_update_bounded
from carflow.settings import Settings
from statemachines.proposal import SIGNING_ORIGINS, ProposalState, allowed_events
from workflows.proposal_contract import (
    QUERY_STATUS,
    REFUSED_ERROR_TYPE,
    USER_EVENTS,
    WORKFLOW_TYPE,
    EventRequest,
    ProposalStart,
    ProposalStatus,
    proposal_workflow_id,
)
from workflows.search_attributes import CONTRACT_NUMBER, DEALER_ID, EMAIL_FAILED, PROPOSAL_STATE

log = structlog.get_logger(__name__)

# Bounds on every call, so a stopped worker or a slow cluster gives a 503 within seconds.
START_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT = timedelta(seconds=30)
# A detail page falls back to the read model when the workflow is slow to answer.
QUERY_TIMEOUT = timedelta(seconds=3)

_UNAVAILABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
}
# Gone: never started, or the lifecycle ended and the workflow closed. A closed workflow
# answers updates with NOT_FOUND (FAILED_PRECONDITION on some server versions).
_GONE = {RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION}

# How refusal messages name an event: "cannot cancel a proposal in state signed".
_VERBS = {
    "send_to_buyer": "send",
    "start_in_person": "start in-person signing of",
}


class EventRefused(ApiError):
    """409: the machine does not allow `event` in `state`; says what is allowed instead."""

    def __init__(
        self,
        event: str,
        state: str,
        allowed: list[str],
        reason: str | None = None,
        *,
        verb: str | None = None,
    ) -> None:
        message = f"cannot {verb or _VERBS.get(event, event)} a proposal in state {state}"
        # The workflow adds a reason when the machine alone does not explain the refusal
        # (e.g. the withdrawal window has ended).
        if reason and not reason.startswith("cannot "):
            message += f": {reason}"
        super().__init__(
            409, "transition_not_allowed", message, event=event, state=state, allowed_events=allowed
        )
        if reason:
            self.details["reason"] = reason


class WorkflowGone(Exception):
    """The proposal's workflow does not exist or has closed; the caller asks the read model."""


def unavailable(what: str) -> ApiError:
    return ApiError(
        503,
        "workflow_unavailable",
        f"The proposal's workflow did not answer ({what}); please retry in a moment.",
    )


def read_model_allowed_events(state: str) -> list[str]:
    """The user events the machine allows in `state`, for when the workflow cannot be asked.

    The read model does not record where signing started from, which only decides where
    `abandon` returns to, not whether it is allowed: any origin gives the same answer.
    """
    try:
        if state == ProposalState.SIGNING:
            events = allowed_events(state, signing_origin=min(SIGNING_ORIGINS))
        else:
            events = allowed_events(state)
    except ValueError:  # a state this code does not know: allow nothing rather than guess
        log.warning("unknown_proposal_state", state=state)
        return []
    return [e for e in events if e in USER_EVENTS]


def user_events(status: ProposalStatus) -> list[str]:
    # Timers (`expire`, `window_closes`) are nobody's to fire.
    return [e for e in status.allowed_events if e in USER_EVENTS]


class ProposalWorkflows:
    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def handle(self, proposal_id: uuid.UUID) -> WorkflowHandle:
        return self.client.get_workflow_handle(proposal_workflow_id(proposal_id))

    async def start(self, start: ProposalStart) -> None:
        """Start the proposal's workflow; starting it again is harmless (idempotent retries).

        A running workflow with this id is reused; a closed one is not started twice (its
        proposal already lived its life). Raises RPCError when Temporal refuses or is down.
        """
        try:
            await self.client.start_workflow(
                WORKFLOW_TYPE,
                start,
                id=proposal_workflow_id(start.proposal_id),
                task_queue=self.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                # Shown in the Temporal UI's list, so ADV staff recognise the proposal.
                static_summary=start.summary,
                # Searchable from the first second; the workflow keeps them current.
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(PROPOSAL_STATE, ProposalState.DRAFT.value),
                        SearchAttributePair(DEALER_ID, start.dealer_id),
                        SearchAttributePair(CONTRACT_NUMBER, start.contract_number),
                        SearchAttributePair(EMAIL_FAILED, False),
                    ]
                ),
                rpc_timeout=START_TIMEOUT,
            )
        except WorkflowAlreadyStartedError:
            log.info("proposal_workflow_already_closed", proposal_id=start.proposal_id)

    async def exists(self, proposal_id: uuid.UUID) -> bool | None:
        """Whether the workflow exists; None when Temporal cannot tell us."""
        try:
            await self.handle(proposal_id).describe(rpc_timeout=QUERY_TIMEOUT)
        except RPCError as err:
            return False if err.status == RPCStatusCode.NOT_FOUND else None
        return True

    async def status(self, proposal_id: uuid.UUID) -> ProposalStatus | None:
        """The workflow's own view of the proposal, or None if it cannot be asked right now."""
        try:
            status: ProposalStatus = await self.handle(proposal_id).query(
                QUERY_STATUS, result_type=ProposalStatus, rpc_timeout=QUERY_TIMEOUT
            )
        except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError, TimeoutError) as err:
            log.info("proposal_status_unavailable", proposal_id=str(proposal_id), error=str(err)[:200])
            return None
        return status

    async def fire(
        self,
        proposal_id: uuid.UUID,
        event: str,
        request: EventRequest,
        *,
        update_id: str | None = None,
    ) -> ProposalStatus:
        """Fire a user event; raises EventRefused (409), WorkflowGone, or ApiError 503.

        `update_id` makes a retried call fire the event once: Temporal answers a repeated
        update id with the first outcome.
        """
        try:
            status = await execute_update_bounded(
                self.handle(proposal_id),
                event,
                request,
                update_id=update_id,
                result_type=ProposalStatus,
                within=UPDATE_TIMEOUT,
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == REFUSED_ERROR_TYPE:
                detail = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
                raise EventRefused(
                    event,
                    str(detail.get("state", "unknown")),
                    [e for e in detail.get("allowed_events", []) if e in USER_EVENTS],
                    detail.get("reason") or cause.message,
                ) from None
            log.warning(
                "proposal_event_failed", proposal_id=str(proposal_id), event_name=event, error=str(cause)
            )
            message = (
                cause.message if isinstance(cause, ApplicationError) else "the workflow reported an error"
            )
            raise ApiError(
                409, "event_failed", f"could not {_VERBS.get(event, event)} the proposal: {message}"
            ) from None
        except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
            raise unavailable("is the worker running?") from None
        except RPCError as err:
            if err.status in _GONE:
                raise WorkflowGone(str(err)) from None
            if err.status in _UNAVAILABLE:
                raise unavailable(err.status.name.lower()) from None
            raise
        return status
