"""The lifecycle engine shared by every kind of workflow (proposal, listing).

A lifecycle workflow holds one machine (statemachines/) and lives until the machine ends
and its side effects are done. The engine owns what is the same for every kind:

* the main loop: run the queued side effects, fire the machine's timer when its deadline
  comes (durable timers), otherwise wait for the next transition;
* one transition at a time (a lock: handlers interleave at every await) and a version
  counter that orders the read model's writes;
* the queue of side effects (emails, documents, SMS, envelopes), each an activity with a
  retry budget; once it is spent the workflow flags itself (`EmailFailed`) and waits for
  an ADV retry signal instead of losing the effect or failing;
* updates with validators that ask the machine, refusals that name the state and the
  allowed events, the status query, the projection to the read model (an activity, before
  an update returns) and the search attributes and details shown to ADV staff.

A kind supplies data and hooks only: its machine, its inputs and statuses, what an event
queues, how an effect is performed, and what it projects and publishes. Command order is
part of the contract with running workflows: the replay test over recorded histories
guards it (tests/workflows/test_replay.py).
"""

from __future__ import annotations

import asyncio
import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from statemachines.lifecycle import NOT_ALLOWED, Actor, LifecycleMachine, Refusal, TransitionNotAllowed
    from workflows.contract import (
        PATCH_LEAN_LIFECYCLE,
        PATCH_LEAN_LIFECYCLE_V2,
        PATCH_LEAN_LIFECYCLE_V3,
        PATCH_LEAN_LIFECYCLE_V4,
        QUERY_STATUS,
        REFUSED_ERROR_TYPE,
        SIGNAL_RETRY_EMAILS,
    )

StatusT = TypeVar("StatusT")
MachineT = TypeVar("MachineT", bound=LifecycleMachine)

PROJECTION_TIMEOUT = timedelta(seconds=30)
# Long activities (PDFs, envelopes) heartbeat (activities/heartbeat.py): one that died with its
# worker is retried after this, not after its whole start-to-close timeout. Changing a
# timeout changes no command, so running workflows replay unchanged.
HEARTBEAT_TIMEOUT = timedelta(seconds=20)
PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# About 10 minutes of retries (5 s doubling, capped at 2 min) before ADV is asked to look.
EFFECT_BACKOFF = {
    "initial_interval": timedelta(seconds=5),
    "backoff_coefficient": 2.0,
    "maximum_interval": timedelta(minutes=2),
    "maximum_attempts": 8,
}


def effect_retry(*non_retryable: str) -> RetryPolicy:
    """The retry budget of a side effect; `non_retryable` errors go to ADV at once."""
    return RetryPolicy(**EFFECT_BACKOFF, non_retryable_error_types=list(non_retryable))  # type: ignore[arg-type]


@dataclass
class Effect:
    """One queued side effect. `key` makes it happen once (outbox rows, Message-IDs)."""

    kind: str
    key: str
    recipient: str | None = None
    ref_id: str | None = None  # the database row it is about (a contact message, a share)


def lifecycle_update(event: str, argument: type, status: type) -> Any:
    """An update handler firing `event`, with the validator that asks the machine first.

    The SDK reads the argument's type from the handler's annotations to decode it, so
    they are set here from the classes themselves.
    """

    async def handler(self: LifecycleWorkflow[Any, Any], request: Any) -> Any:
        return await self._handle(event, request)

    def validator(self: LifecycleWorkflow[Any, Any], request: Any) -> None:
        self._validate(event, request)

    handler.__name__ = handler.__qualname__ = event
    handler.__annotations__ = {"request": argument, "return": status}
    validator.__annotations__ = {"request": argument, "return": None}
    update = workflow.update(name=event)(handler)
    update.validator(validator)
    return update


class LifecycleWorkflow(ABC, Generic[MachineT, StatusT]):
    """Base of the lifecycle workflows; subclasses declare `@workflow.defn` and `@workflow.run`."""

    # Supplied by each kind.
    projection_activity: ClassVar[str]
    # Whose allowed events the status and refusals list (None: anyone's but the timers').
    status_actor: ClassVar[Actor | None] = None
    # The default actor of an update whose input does not say (`EventRequest.actor` does).
    default_actors: ClassVar[dict[str, Actor]] = {}
    # How the details shown in the Temporal UI name the current state's deadline.
    deadline_labels: ClassVar[dict[str, str]] = {}

    def __init__(self, machine: MachineT, effects: Sequence[Effect] = ()) -> None:
        self.machine = machine
        self.version = 0
        self.effects: list[Effect] = list(effects)
        self.effect_failed = False
        self.effect_error: str | None = None
        # The effect whose activity runs now: a transition meanwhile may drop the others.
        self.running: Effect | None = None
        # One transition at a time: handlers interleave at every await.
        self.lock = asyncio.Lock()

    @property
    def state(self) -> str:
        return self.machine.state

    # --- main loop: side effects and timers ---------------------------------------------------

    async def _live(self) -> None:
        """Run the lifecycle to its end; then wait for the handlers still writing."""
        self._publish()
        await self._begin()
        if self._lean():
            await self._live_lean()
            return
        while not (self.machine.ended and not self.effects):
            if self.effects and not self.effect_failed:
                await self._run_next_effect()
                continue
            seen = self.version
            deadline = self.machine.next_deadline()
            if deadline is not None and deadline <= workflow.now():
                async with self.lock:
                    await self._deadline_passed()
                continue
            timeout = None if deadline is None else deadline - workflow.now()
            try:
                await workflow.wait_condition(functools.partial(self._woken, seen), timeout=timeout)
            except TimeoutError:
                async with self.lock:
                    await self._deadline_passed()
        # The update that ended the lifecycle may still be writing its projection.
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _live_lean(self) -> None:
        """The main loop behind PATCH_LEAN_LIFECYCLE: one durable timer per deadline, started
        when the deadline is set and restarted only when it moves (a view, an email sent or an
        update that leaves it where it was does not touch it). Behind PATCH_LEAN_LIFECYCLE_V2
        the timer wakes at the machine's `wake_at`, which may come before the deadline (a
        paused reminder): then nothing is due, and the timer is set again."""
        timer: asyncio.Task[None] | None = None
        timer_deadline = None
        while not (self.machine.ended and not self.effects):
            if self.effects and not self.effect_failed:
                await self._run_next_effect()
                continue
            seen = self.version
            deadline = self._wake_at()
            if deadline is not None and deadline <= workflow.now():
                async with self.lock:
                    await self._deadline_passed()
                continue
            if deadline != timer_deadline:
                if timer is not None:
                    timer.cancel()
                timer, timer_deadline = None, deadline
                if deadline is not None:
                    timer = asyncio.create_task(workflow.sleep(deadline - workflow.now()))
            due = timer

            def woken(seen: int = seen, due: asyncio.Task[None] | None = due) -> bool:
                return self._woken(seen) or (due is not None and due.done())

            await workflow.wait_condition(woken)
            if due is not None and due.done() and self.version == seen:
                timer, timer_deadline = None, None
                async with self.lock:
                    await self._deadline_passed()
        if timer is not None and not timer.done():
            timer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _lean(self) -> bool:
        """Whether this run keeps the lean history (recorded once per run: histories from
        before the patch replay the old way). A new run records only the latest version's
        marker; one recorded with an earlier version replays as it was."""
        return self._lean_v2() or workflow.patched(PATCH_LEAN_LIFECYCLE)

    def _lean_v2(self) -> bool:
        return self._lean_v3() or workflow.patched(PATCH_LEAN_LIFECYCLE_V2)

    def _lean_v3(self) -> bool:
        return self._lean_v4() or workflow.patched(PATCH_LEAN_LIFECYCLE_V3)

    def _lean_v4(self) -> bool:
        return workflow.patched(PATCH_LEAN_LIFECYCLE_V4)

    def _wake_at(self) -> datetime | None:
        """When the lean loop's timer wakes (see `_live_lean`)."""
        if self._lean_v2():
            return self.machine.wake_at(workflow.now())
        return self.machine.next_deadline()

    async def _begin(self) -> None:
        """What happens once the workflow has started (a kind may act at once)."""

    def _woken(self, seen_version: int) -> bool:
        """A transition happened (the deadline may have moved), or an effect can run."""
        return self.version != seen_version or bool(self.effects and not self.effect_failed)

    async def _deadline_passed(self) -> None:
        event = self.machine.due_timer(workflow.now())
        if event is None:
            return  # a transition moved or removed the deadline while the timer ran
        self._fire(event)
        await self._project()

    async def _run_next_effect(self) -> None:
        effect = self.effects[0]
        self.running = effect
        try:
            await self._perform(effect)
        except ActivityError as err:
            self.running = None
            cause = err.cause
            self.effect_failed = True
            self.effect_error = str(cause.message if isinstance(cause, ApplicationError) else cause or err)
            workflow.logger.warning(
                "effect %s failed; waiting for ADV retry: %s", effect.key, self.effect_error
            )
        else:
            self.running = None
            self.effects.remove(effect)
            if not self.effect_failed and self.effect_error is None:
                return
            self.effect_failed, self.effect_error = False, None
        async with self.lock:
            self.version += 1
            await self._project()

    def _waiting(self, kind: str) -> list[Effect]:
        """The queued effects of `kind` not running now (a transition may still drop them)."""
        return [e for e in self.effects if e.kind == kind and e is not self.running]

    def _drop(self, dropped: Sequence[Effect]) -> None:
        """Take waiting effects off the queue (superseded by one just queued).

        If the failed effect ADV was to retry is among them, nothing waits for ADV any more;
        the error stays noted until the next effect goes out, which clears it in the read model.
        """
        head_failed = self.effect_failed and bool(self.effects) and any(e is self.effects[0] for e in dropped)
        self.effects = [e for e in self.effects if not any(e is d for d in dropped)]
        if head_failed:
            self.effect_failed = False

    @abstractmethod
    async def _perform(self, effect: Effect) -> None:
        """Run one side effect (an activity); raise ActivityError when it gave up."""

    # --- handlers shared by every kind --------------------------------------------------------

    @workflow.signal(name=SIGNAL_RETRY_EMAILS)
    def retry_effects(self) -> None:
        """ADV: try the failed side effect again (after the outage is over or the address fixed)."""
        if self.effect_failed:
            self.effect_failed = False

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> StatusT:
        return self._status()

    # --- transitions ------------------------------------------------------------------------------

    def _actor(self, event: str, request: Any) -> Actor | str | None:
        return getattr(request, "actor", None) or self.default_actors.get(event)

    def _refusal(self, event: str, request: Any, *, as_actor: bool = True) -> Refusal | None:
        actor = self._actor(event, request) if as_actor else None
        return self.machine.refusal(event, now=workflow.now(), actor=actor)

    def _check_input(self, event: str, request: Any) -> None:
        """Raise an ApplicationError for input the API should have refused (a kind's bounds)."""

    def _validate(self, event: str, request: Any, *, as_actor: bool = True) -> None:
        refusal = self._refusal(event, request, as_actor=as_actor)
        if refusal is not None:
            raise self._refused(refusal)
        self._check_input(event, request)

    def _allowed(self) -> list[str]:
        return self.machine.allowed(now=workflow.now(), actor=self.status_actor)

    def _refused(self, refusal: Refusal) -> ApplicationError:
        return ApplicationError(
            refusal.reason,
            {
                "state": self.state,
                "allowed_events": self._allowed(),
                "reason": refusal.reason,
                "event": refusal.event,
                "code": refusal.code,
            },
            type=REFUSED_ERROR_TYPE,
            non_retryable=True,
        )

    async def _handle(self, event: str, request: Any) -> StatusT:
        async with self.lock:
            # Re-checked under the lock: another update may have moved the state since the
            # validator ran (two concurrent "sign": exactly one wins). Who may fire it cannot
            # have changed, and is not re-checked: the validator did (it does not run on
            # replay, and histories recorded before the machine knew actors must replay).
            self._validate(event, request, as_actor=False)
            workflow.logger.info("%s by %s in state %s", event, self._actor(event, request), self.state)
            applied = self._apply(event, request)
            # Taken now: the main loop may start running them while the projection is written.
            awaited = self._answer_awaits(event) if self._lean_v3() else []
            if applied:
                await self._project()
        if awaited:
            # Outside the lock: the main loop runs the effects meanwhile. A failed effect
            # (this one, or one queued before it) ends the wait: the answer says so.
            await workflow.wait_condition(
                lambda: self.effect_failed or not any(e is a for e in self.effects for a in awaited)
            )
        return self._status()

    def _answer_awaits(self, event: str) -> list[Effect]:
        """The effects just queued that the update's answer waits for (behind
        PATCH_LEAN_LIFECYCLE_V3), so that its caller finds their result ready."""
        return []

    def _apply(self, event: str, request: Any) -> bool:
        """Carry out a validated update; returns whether the read model must be written."""
        self._fire(event)
        return True

    def _fire(self, event: str, **context: Any) -> None:
        try:
            self.machine.fire(event, now=workflow.now(), **context)
        except TransitionNotAllowed as exc:  # unreachable behind the validators; never hang the task
            raise self._refused(Refusal(event, self.state, NOT_ALLOWED, str(exc))) from None
        self._queue_effects(event)
        self.version += 1
        self._publish()

    def _queue_effects(self, event: str) -> None:
        """Queue the side effects `event` causes (emails, documents...)."""

    # --- what the world sees ------------------------------------------------------------------

    async def _project(self) -> None:
        self._publish()
        if self._lean():
            # Idempotent (the read model keeps the highest version) and quick: a local
            # activity, one marker in history instead of three events.
            await workflow.execute_local_activity(
                self.projection_activity,
                self._projection(),
                start_to_close_timeout=PROJECTION_TIMEOUT,
                retry_policy=PROJECTION_RETRY,
                summary=f"read model: {self.state}",
            )
            return
        await workflow.execute_activity(
            self.projection_activity,
            self._projection(),
            start_to_close_timeout=PROJECTION_TIMEOUT,
            retry_policy=PROJECTION_RETRY,
            summary=f"read model: {self.state}",
        )

    def _publish(self) -> None:
        """Search attributes and the UI's current details, for ADV staff."""
        attributes = list(self._search_attributes())
        if self._lean():
            # Only what changed since the start or the last upsert: one upsert per transition.
            current = workflow.info().typed_search_attributes
            attributes = [a for a in attributes if current.get(a.key) != a.value]
        if attributes:
            workflow.upsert_search_attributes(attributes)
        lines = [f"**State:** {self.state}", *self._detail_lines()]
        timer = self.machine.next_timer()
        if timer is not None:
            event, deadline = timer
            lines.append(f"**{self.deadline_labels.get(event, 'Next deadline')}:** {deadline.isoformat()}")
        if self.effect_failed:
            lines.append(
                f"**Side effect failing:** {self.effect_error} — signal `{SIGNAL_RETRY_EMAILS}` to retry"
            )
        workflow.set_current_details("\n\n".join(lines))

    def _detail_lines(self) -> list[str]:
        return []

    @abstractmethod
    def _search_attributes(self) -> Sequence[SearchAttributeUpdate[Any]]:
        """The search attributes as they are now."""

    @abstractmethod
    def _projection(self) -> Any:
        """The read model's row as the workflow sees it now."""

    @abstractmethod
    def _status(self) -> StatusT:
        """The answer of the status query and of every update."""

    def _lifecycle_projection(self) -> dict[str, Any]:
        """The projection's fields every kind has (`LifecycleProjection`)."""
        return {
            "version": self.version,
            "state": self.state,
            "email_failed": self.effect_failed,
            "email_error": self.effect_error,
        }

    def _lifecycle_status(self) -> dict[str, Any]:
        """The status's fields every kind has (`LifecycleStatus`)."""
        return {
            "state": self.state,
            "allowed_events": self._allowed(),
            "email_failed": self.effect_failed,
            "email_error": self.effect_error,
            "pending_emails": self._pending_keys(),
        }

    def _pending_keys(self) -> list[str]:
        return [effect.key for effect in self.effects]
