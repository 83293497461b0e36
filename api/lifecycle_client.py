"""The API's one client of the lifecycle workflows, whatever their kind (proposal, listing).

Starting a workflow, asking whether it exists and its status (a query), firing an event
(an update), and turning what Temporal answers into the API's answers: a refused event is
a 409 naming the state and the allowed events (`survey_required` before a listing's
survey), bad input a 422 naming the field, a Temporal that does not answer a 503, never a
hung request. An update that has not finished within the bound is **pending, not failed**
(`ActionPending`): the workflow has it, or will get it once a worker polls again, and a
retry with the same update id attaches to it instead of firing twice. What each kind is
called and how its ids are made comes from its contract (`workflows/*_contract.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar

import structlog
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.update_deadline import accept_within, with_deadlines
from api.update_ids import update_id_for
from carflow.settings import Settings
from statemachines.listing import SURVEY_REQUIRED
from workflows.contract import (
    INVALID_INPUT_ERROR_TYPE,
    QUERY_STATUS,
    REFUSED_ERROR_TYPE,
    LifecycleKind,
)
from workflows.listing_contract import LISTING, ListingStatus
from workflows.proposal_contract import PROPOSAL, ProposalStatus
from workflows.update_deadline import LATE_ERROR_TYPE

log = structlog.get_logger(__name__)

StatusT = TypeVar("StatusT")

# Bounds on every call, so a stopped worker or a slow cluster gives a 503 within seconds.
START_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT = timedelta(seconds=30)
# Once the workflow has accepted an event (its validator passed), how long the API waits for
# the outcome before answering "pending": the event will happen, the caller polls.
RESULT_TIMEOUT = UPDATE_TIMEOUT
# A read falls back to the read model when the workflow is slow to answer.
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

SURVEY_FIRST_MESSAGE = "Complete the satisfaction survey first: it comes before anything else."


def verb(kind: LifecycleKind, event: str) -> str:
    """How a message names an event: "send" for send_to_buyer, "share the report of"..."""
    return kind.machine.verbs.get(event, event.replace("_", " "))


class StartInput(Protocol):
    summary: str

    def search_attributes(self) -> TypedSearchAttributes: ...


class EventRefused(ApiError):
    """409: the machine does not allow `event` now; says what is allowed instead."""

    def __init__(
        self,
        kind: LifecycleKind,
        event: str,
        state: str,
        allowed: list[str],
        reason: str | None = None,
        *,
        code: str | None = None,
        as_verb: str | None = None,
    ) -> None:
        if code == SURVEY_REQUIRED:
            super().__init__(
                409,
                SURVEY_REQUIRED,
                SURVEY_FIRST_MESSAGE,
                event=event,
                state=state,
                allowed_events=allowed or ["complete_survey"],
            )
            return
        message = f"cannot {as_verb or verb(kind, event)} a {kind.name} in state {state}"
        # The machine adds a reason when the state alone does not explain the refusal
        # (the withdrawal window has ended, the listing takes no messages).
        if reason and not reason.startswith("cannot "):
            message += f": {reason}"
        super().__init__(
            409, "transition_not_allowed", message, event=event, state=state, allowed_events=allowed
        )
        if reason:
            self.details["reason"] = reason


class WorkflowGone(Exception):
    """The workflow does not exist or has closed; the caller asks the read model."""


class ActionNotApplied(ApiError):
    """503: the workflow did not take the event in time, so it never will; retrying may."""

    def __init__(self, kind: LifecycleKind, event: str) -> None:
        super().__init__(
            503,
            "action_not_applied",
            f"The {kind.name}'s workflow could not take the request in time ({verb(kind, event)}): "
            "it has not been done and will not be. Please send the same request again in a moment.",
            headers={"Retry-After": "5"},
            message_fr="Votre demande n'a pas pu être prise en compte à temps : elle n'a pas été "
            "appliquée. Merci de la renouveler dans quelques instants.",
        )


class NotStarted(ApiError):
    """503: the workflow of what the request saved could not be started; it was taken back."""

    def __init__(self, kind: LifecycleKind) -> None:
        super().__init__(
            503,
            "temporal_unavailable",
            f"Could not start the {kind.name}'s workflow; nothing was created. Please retry.",
        )


class ActionPending(Exception):
    """The event was handed to the workflow but has not finished within the bound.

    Not a failure: the workflow accepted it (its validator passed) and is still working, or no
    worker has picked it up yet and it will run when one does. Nothing the caller stored for
    it may be rolled back. JSON routes answer `202 Accepted` with where to look (`location`,
    set by the route that knows its resource); pages say "en cours" and refresh.
    """

    def __init__(
        self, kind: str, target_id: object, event: str, *, accepted: bool, update_id: str | None
    ) -> None:
        super().__init__(f"{event} on {kind} {target_id} is pending")
        self.kind = kind
        self.target_id = str(target_id)
        self.event = event
        self.accepted = accepted
        self.update_id = update_id
        self.location: str | None = None  # where the caller polls: the resource's URL
        self.resource: dict[str, Any] | None = None  # the resource as it stands meanwhile

    def at(self, location: str, resource: dict[str, Any] | None = None) -> ActionPending:
        """Says where the caller follows the action, and what the resource looks like now."""
        self.location, self.resource = location, resource
        return self


class LifecycleClient(Generic[StatusT]):
    """One kind's workflows, addressed by the id of the proposal or listing they run."""

    def __init__(self, client: Client, settings: Settings, kind: LifecycleKind) -> None:
        # Its updates say when the API stops waiting (api/update_deadline.py).
        self.client = with_deadlines(client)
        self.settings = settings
        self.kind = kind

    def unavailable(self, what: str) -> ApiError:
        return ApiError(
            503,
            "workflow_unavailable",
            f"The {self.kind.name}'s workflow did not answer ({what}); please retry in a moment.",
        )

    def handle(self, target_id: object) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(self.kind.workflow_id(target_id))

    async def start(self, target_id: object, start: StartInput) -> None:
        """Start the workflow; starting it again is harmless (idempotent retries).

        A running workflow with this id is reused; a closed one is not started twice (its
        lifecycle already ran). Raises RPCError when Temporal refuses or is down.
        """
        try:
            await self.client.start_workflow(
                self.kind.workflow_type,
                start,
                **self._start_options(target_id, start),
                rpc_timeout=START_TIMEOUT,
            )
        except WorkflowAlreadyStartedError:
            log.info("workflow_already_closed", kind=self.kind.name, target_id=str(target_id))

    def _start_options(self, target_id: object, start: StartInput) -> dict[str, Any]:
        return {
            "id": self.kind.workflow_id(target_id),
            "task_queue": self.settings.task_queue,
            "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
            "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
            # Shown in the Temporal UI's list, so ADV staff recognise it.
            "static_summary": start.summary,
            "search_attributes": start.search_attributes(),
        }

    async def start_or_undo(
        self, target_id: object, start: StartInput, undo: Callable[[], Awaitable[None]]
    ) -> None:
        """Start the workflow of what the request just saved, or take that back with `undo`.

        The start may have reached Temporal even though its answer did not reach us: then
        the workflow runs and nothing is undone. Otherwise a Temporal that refused or is
        down is a 503 saying nothing was created.
        """
        try:
            await self.start(target_id, start)
        except Exception as err:
            await self._undo_unless_started(target_id, err, undo)

    async def start_and_fire(
        self,
        target_id: object,
        start: StartInput,
        undo: Callable[[], Awaitable[None]],
        event: str,
        argument: Any,
        *,
        update_id: str,
    ) -> StatusT:
        """Start the workflow and fire its first event in one call (update-with-start): one
        round trip and one workflow task instead of two of each.

        If the workflow was not started, as `start_or_undo` (`undo`, then a 503 saying nothing
        was created). Once it is, the event's outcome is `fire`'s: done, refused, pending...
        and a retry with the same update id attaches to the same event.
        """
        operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            self.kind.workflow_type, start, **self._start_options(target_id, start)
        )

        def send() -> Awaitable[WorkflowUpdateHandle[Any]]:
            return self.client.start_update_with_start_workflow(
                event,
                argument,
                start_workflow_operation=operation,
                id=update_id,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                result_type=self.kind.status_type,
                rpc_timeout=UPDATE_TIMEOUT,
            )

        try:
            return await self._update(target_id, event, update_id, send)
        except WorkflowAlreadyStartedError:
            # Closed long ago (its lifecycle ran): nothing new was started, the event is
            # asked of it as of any workflow.
            log.info("workflow_already_closed", kind=self.kind.name, target_id=str(target_id))
            return await self.fire(target_id, event, argument, update_id=update_id)
        except ActionPending:
            raise  # accepted, so started
        except Exception as err:
            # Refused, not applied, Temporal unreachable...: whether the start happened is
            # Temporal's to say (the answer may have been lost), as for `start_or_undo`.
            await self._undo_unless_started(target_id, err, undo)
            raise

    async def _undo_unless_started(
        self, target_id: object, err: Exception, undo: Callable[[], Awaitable[None]]
    ) -> None:
        """After a start that raised `err`: nothing to do if the workflow exists after all
        (the answer was lost); otherwise `undo`, and a Temporal that refused or is down is a
        503 saying nothing was created. Returns only when the workflow exists."""
        name = self.kind.name
        # ApiError, WorkflowGone: an update-with-start's failure, already mapped.
        if isinstance(err, RPCError | ApiError | WorkflowGone) and await self.exists(target_id):
            log.warning(f"{name}_start_answer_lost", **{f"{name}_id": str(target_id)})
            return
        await undo()
        if isinstance(err, RPCError | ApiError | WorkflowGone):
            log.warning(f"{name}_start_failed", error=str(err)[:200])
            raise NotStarted(self.kind) from None
        raise err

    async def exists(self, target_id: object) -> bool | None:
        """Whether the workflow exists; None when Temporal cannot tell us."""
        try:
            await self.handle(target_id).describe(rpc_timeout=QUERY_TIMEOUT)
        except RPCError as err:
            return False if err.status == RPCStatusCode.NOT_FOUND else None
        return True

    async def status(self, target_id: object) -> StatusT | None:
        """The workflow's own view, or None if it cannot be asked right now (or has closed)."""
        try:
            status: StatusT = await self.handle(target_id).query(
                QUERY_STATUS, result_type=self.kind.status_type, rpc_timeout=QUERY_TIMEOUT
            )
        except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError, TimeoutError) as err:
            log.info(
                "workflow_status_unavailable",
                kind=self.kind.name,
                target_id=str(target_id),
                error=str(err)[:200],
            )
            return None
        return status

    async def fire(
        self,
        target_id: object,
        event: str,
        argument: Any,
        *,
        update_id: str | None = None,
        version: int | None = None,
    ) -> StatusT:
        """Fire an event (an update); returns the workflow's status once it has finished.

        Raises EventRefused (409), ApiError 422/409/503, WorkflowGone, or ActionPending when
        the update has not finished within the bound. The update's id makes a retried call
        fire the event once (Temporal answers a repeated update id with the first outcome):
        `update_id` when the caller has one, else derived from the request — its
        Idempotency-Key, or the event and the read model's `version` it applies to.
        """
        update_id = update_id or update_id_for(event, version)

        def send() -> Awaitable[WorkflowUpdateHandle[Any]]:
            return self.handle(target_id).start_update(
                event,
                argument,
                id=update_id,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                result_type=self.kind.status_type,
                rpc_timeout=UPDATE_TIMEOUT,
            )

        return await self._update(target_id, event, update_id, send)

    async def _update(
        self,
        target_id: object,
        event: str,
        update_id: str | None,
        send: Callable[[], Awaitable[WorkflowUpdateHandle[Any]]],
    ) -> StatusT:
        """Send the update (`send`), wait for its outcome within the bounds, and turn what
        Temporal answers into the API's answers (see `fire`)."""
        accepted = False
        try:
            # The SDK keeps polling for the outcome while no worker runs (no per-RPC timeout
            # ends it): the overall bound turns that into ActionPending instead of a hang.
            with accept_within(UPDATE_TIMEOUT.total_seconds()):
                async with asyncio.timeout(UPDATE_TIMEOUT.total_seconds()):
                    update = await send()
            accepted = True
            async with asyncio.timeout(RESULT_TIMEOUT.total_seconds()):
                status: StatusT = await update.result(rpc_timeout=RESULT_TIMEOUT)
        except WorkflowUpdateFailedError as err:
            failure = self._failure(target_id, event, err.cause)
            refused_in = failure.details["state"] if isinstance(failure, EventRefused) else None
            if refused_in is not None and self.kind.machine.done_in(event, refused_in):
                # Asked again once done for good (a second click on "Signer" that read the
                # proposal after the first signed it, so another update id): it happened.
                done = await self.status(target_id)
                if done is not None:
                    return done
            raise failure from None
        except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
            if not accepted:
                # Past its deadline the worker refuses it (workflows/update_deadline.py):
                # it will not happen, and the same request sent again is a new chance.
                log.warning(
                    "workflow_event_not_applied",
                    kind=self.kind.name,
                    target_id=str(target_id),
                    event_name=event,
                )
                raise ActionNotApplied(self.kind, event) from None
            log.warning(
                "workflow_event_pending",
                kind=self.kind.name,
                target_id=str(target_id),
                event_name=event,
                accepted=accepted,
            )
            raise ActionPending(
                self.kind.name, target_id, event, accepted=accepted, update_id=update_id
            ) from None
        except RPCError as err:
            if err.status in _GONE:
                raise WorkflowGone(str(err)) from None
            if err.status in _UNAVAILABLE:
                raise self.unavailable(err.status.name.lower()) from None
            raise
        return status

    def _failure(self, target_id: object, event: str, cause: BaseException | None) -> ApiError:
        detail: dict[str, Any] = {}
        if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
            detail = cause.details[0]
        if isinstance(cause, ApplicationError) and cause.type == REFUSED_ERROR_TYPE:
            return EventRefused(
                self.kind,
                event,
                str(detail.get("state", "unknown")),
                list(detail.get("allowed_events", [])),
                detail.get("reason") or cause.message,
                code=detail.get("code"),
            )
        if isinstance(cause, ApplicationError) and cause.type == LATE_ERROR_TYPE:
            # A retry attached to an earlier copy of the update that arrived too late.
            return ActionNotApplied(self.kind, event)
        if isinstance(cause, ApplicationError) and cause.type == INVALID_INPUT_ERROR_TYPE:
            field = str(detail.get("field", "body"))
            return ApiError(
                422,
                "validation_error",
                f"Invalid request: {field}: {cause.message}",
                fields=[{"field": field, "message": cause.message}],
            )
        log.warning(
            "workflow_event_failed",
            kind=self.kind.name,
            target_id=str(target_id),
            event_name=event,
            error=str(cause),
        )
        message = cause.message if isinstance(cause, ApplicationError) else "the workflow reported an error"
        return ApiError(
            409, "event_failed", f"could not {verb(self.kind, event)} the {self.kind.name}: {message}"
        )


ProposalWorkflows = LifecycleClient[ProposalStatus]
ListingWorkflows = LifecycleClient[ListingStatus]


def proposal_workflows(client: Client, settings: Settings) -> ProposalWorkflows:
    return LifecycleClient(client, settings, PROPOSAL)


def listing_workflows(client: Client, settings: Settings) -> ListingWorkflows:
    return LifecycleClient(client, settings, LISTING)
