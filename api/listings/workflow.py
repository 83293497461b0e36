"""The API's side of the listing workflow contract (workflows/listing_contract.py).

Starting a listing's workflow, asking its status, and firing owner actions (updates), with
Temporal's answers turned into the API's errors: a refused action is a 409 naming the state
and what is allowed instead (`survey_required` while the survey is not done), bad input a
422 naming the field, a Temporal that does not answer a 503, never a hung request.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

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
from statemachines.listing import ListingState
from workflows.listing_contract import (
    INVALID_INPUT_ERROR_TYPE,
    QUERY_STATUS,
    REFUSED_ERROR_TYPE,
    WORKFLOW_TYPE,
    ListingStart,
    ListingStatus,
    listing_workflow_id,
)
from workflows.search_attributes import EMAIL_FAILED, LISTING_STATE

log = structlog.get_logger(__name__)

START_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT = timedelta(seconds=30)
QUERY_TIMEOUT = timedelta(seconds=3)

_UNAVAILABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
}
_GONE = {RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION}
SURVEY_FIRST_MESSAGE = "Complete the satisfaction survey first: it comes before anything else."


class ActionRefused(ApiError):
    """409: the lifecycle does not allow `action` now; says what is allowed instead."""

    def __init__(self, action: str, state: str, allowed: list[str], reason: str | None = None) -> None:
        if state == ListingState.PENDING_SURVEY and action != "complete_survey":
            super().__init__(
                409,
                "survey_required",
                SURVEY_FIRST_MESSAGE,
                event=action,
                state=state,
                allowed_events=allowed or ["complete_survey"],
            )
            return
        message = reason if reason and not reason.startswith("cannot ") else None
        super().__init__(
            409,
            "transition_not_allowed",
            message or f"cannot {action.replace('_', ' ')} a listing in state {state}",
            event=action,
            state=state,
            allowed_events=allowed,
        )
        if reason:
            self.details["reason"] = reason


class WorkflowGone(Exception):
    """The listing's workflow does not exist or has closed (archived)."""


def unavailable(what: str) -> ApiError:
    return ApiError(
        503,
        "workflow_unavailable",
        f"The listing's workflow did not answer ({what}); please retry in a moment.",
    )


class ListingWorkflows:
    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def handle(self, listing_id: uuid.UUID) -> WorkflowHandle:
        return self.client.get_workflow_handle(listing_workflow_id(listing_id))

    async def start(self, start: ListingStart) -> None:
        """Start the listing's workflow; starting it again is harmless. Raises RPCError."""
        try:
            await self.client.start_workflow(
                WORKFLOW_TYPE,
                start,
                id=listing_workflow_id(start.listing_id),
                task_queue=self.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=start.summary,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(LISTING_STATE, ListingState.PENDING_SURVEY.value),
                        SearchAttributePair(EMAIL_FAILED, False),
                    ]
                ),
                rpc_timeout=START_TIMEOUT,
            )
        except WorkflowAlreadyStartedError:
            log.info("listing_workflow_already_closed", listing_id=start.listing_id)

    async def exists(self, listing_id: uuid.UUID) -> bool | None:
        try:
            await self.handle(listing_id).describe(rpc_timeout=QUERY_TIMEOUT)
        except RPCError as err:
            return False if err.status == RPCStatusCode.NOT_FOUND else None
        return True

    async def status(self, listing_id: uuid.UUID) -> ListingStatus | None:
        """The workflow's own view, or None if it cannot be asked right now (or has closed)."""
        try:
            status: ListingStatus = await self.handle(listing_id).query(
                QUERY_STATUS, result_type=ListingStatus, rpc_timeout=QUERY_TIMEOUT
            )
        except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError, TimeoutError) as err:
            log.info("listing_status_unavailable", listing_id=str(listing_id), error=str(err)[:200])
            return None
        return status

    async def fire(
        self, listing_id: uuid.UUID, action: str, argument: Any, *, update_id: str | None = None
    ) -> ListingStatus:
        """Run an owner action (update); raises ActionRefused, ApiError 422/503, or WorkflowGone."""
        try:
            status = await execute_update_bounded(
                self.handle(listing_id),
                action,
                argument,
                update_id=update_id,
                result_type=ListingStatus,
                within=UPDATE_TIMEOUT,
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            detail: dict[str, Any] = {}
            if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
                detail = cause.details[0]
            if isinstance(cause, ApplicationError) and cause.type == REFUSED_ERROR_TYPE:
                raise ActionRefused(
                    action,
                    str(detail.get("state", "unknown")),
                    list(detail.get("allowed_events", [])),
                    detail.get("reason") or cause.message,
                ) from None
            if isinstance(cause, ApplicationError) and cause.type == INVALID_INPUT_ERROR_TYPE:
                field = str(detail.get("field", "body"))
                raise ApiError(
                    422,
                    "validation_error",
                    f"Invalid request: {field}: {cause.message}",
                    fields=[{"field": field, "message": cause.message}],
                ) from None
            log.warning("listing_action_failed", listing_id=str(listing_id), action=action, error=str(cause))
            raise ApiError(
                409, "action_failed", f"could not {action.replace('_', ' ')} the listing"
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
