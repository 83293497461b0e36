"""What every lifecycle machine answers: which event, by whom, in which state, until when.

A kind of lifecycle (proposal, listing) is a python-statemachine machine deriving from
`LifecycleMachine`. Besides its states and transitions it declares:

* `actors`: who may fire each event (a person's role, the e-signature provider, or the
  workflow's own timer);
* `timers`: for each timer event, the model field holding its deadline, so the machine
  can say when its current state ends by itself (`next_deadline`) and whether that moment
  has come (`due_timer`);
* guards taking the event's arguments, `now` first of all (a withdrawal is legal until
  the window's end, whatever any timer did), and internal transitions for actions that
  must obey the lifecycle without changing state.

Workflows, API and pages ask these methods; none of them compares states to decide.
Pure rules only: passed through into Temporal's workflow sandbox, so no I/O, no clock
(`now` is always an argument) and callbacks that only update the machine's model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from statemachine import StateMachine
from statemachine.event import Event
from statemachine.exceptions import TransitionNotAllowed

__all__ = ["Actor", "LifecycleMachine", "Refusal", "TransitionNotAllowed", "apply_event"]

# The refusal codes the API turns into its error codes.
NOT_ALLOWED = "transition_not_allowed"
NOT_PERMITTED = "not_permitted"


class Actor(StrEnum):
    DEALER = "dealer"
    BUYER = "buyer"
    OWNER = "owner"
    PUBLIC = "public"
    STAFF = "staff"
    PROVIDER = "provider"  # the e-signature provider's callback
    TIMER = "timer"  # the workflow's own durable timer


@dataclass(frozen=True)
class Refusal:
    """Why an event cannot be fired now: `code` for programs, `reason` for people (English)."""

    event: str
    state: str
    code: str
    reason: str


class LifecycleMachine(StateMachine):
    """Base of the lifecycle machines (abstract: it declares no state).

    Build a machine over a model object whose `state` field holds the current state:
    `Machine(model=Model(...))` enters no state, so restoring fires no callback.
    """

    noun: ClassVar[str] = "lifecycle"
    actors: ClassVar[Mapping[str, frozenset[Actor]]] = {}
    timers: ClassVar[Mapping[str, str]] = {}
    # Timer events that pause, rather than end, in a state where they are not allowed because
    # that state can go back to one where they are (a proposal's reminder while signing: an
    # abandon returns to where it was). Their deadline stays a moment to wake at (`wake_at`).
    paused_timers: ClassVar[Mapping[str, frozenset[str]]] = {}
    # How refusals name an event that reads badly as a bare identifier.
    verbs: ClassVar[Mapping[str, str]] = {}
    # Events done once for good, and the state only they lead to: asked again from there (a
    # double-clicked "Signer" that arrives once the first has signed), the answer is that
    # state, as the first request's was, not a refusal of something that did happen.
    done_states: ClassVar[Mapping[str, str]] = {}

    @property
    def state(self) -> str:
        return str(self.current_state_value)

    @property
    def ended(self) -> bool:
        """In a final state: nothing can happen any more."""
        return any(state.final for state in self.configuration)

    # --- asking -----------------------------------------------------------------------------

    def allowed(self, *, now: datetime, actor: Actor | str | None = None, **context: Any) -> list[str]:
        """Events legal now, guards evaluated with `now` and `context`, sorted.

        With an `actor`, only those it may fire; without, those any person may fire (timer
        events are the workflow's own, never offered).
        """
        enabled = {str(event.id) for event in self.enabled_events(now=now, **context)}
        return sorted(name for name in enabled if self._may(name, actor))

    def can(self, event: str, *, now: datetime, actor: Actor | str | None = None, **context: Any) -> bool:
        return self.refusal(event, now=now, actor=actor, **context) is None

    @classmethod
    def done_in(cls, event: str, state: str) -> bool:
        """`event` is one of `done_states` and `state` is where it led: asked again, it is
        answered with that state (api/lifecycle_client.py), not refused."""
        return cls.done_states.get(event) == state

    def refusal(
        self, event: str, *, now: datetime, actor: Actor | str | None = None, **context: Any
    ) -> Refusal | None:
        """None when `actor` may fire `event` now; otherwise why not."""
        state = self.state
        gate = self._gate(event)
        if gate is not None:
            return gate
        if event not in self.actors:
            return Refusal(event, state, NOT_ALLOWED, f"unknown action {event}")
        if actor is not None and actor not in self.actors[event]:
            return Refusal(event, state, NOT_PERMITTED, f"a {actor} cannot {self._verb(event)} a {self.noun}")
        if event not in {str(e.id) for e in self.allowed_events}:
            return Refusal(event, state, NOT_ALLOWED, self._not_in_state(event))
        if event not in {str(e.id) for e in self.enabled_events(now=now, **context)}:
            return Refusal(event, state, NOT_ALLOWED, self._guard_failed(event, now))
        return None

    def next_timer(self) -> tuple[str, datetime] | None:
        """The timer event that ends the current state by itself, and when; None if none."""
        possible = {str(e.id) for e in self.allowed_events}
        pending = [
            (getattr(self.model, field), event)
            for event, field in self.timers.items()
            if event in possible and getattr(self.model, field) is not None
        ]
        if not pending:
            return None
        deadline, event = min(pending)
        return str(event), deadline

    def next_deadline(self) -> datetime | None:
        """When the current state ends by itself (its timer event's deadline), if it does."""
        timer = self.next_timer()
        return None if timer is None else timer[1]

    def wake_at(self, now: datetime) -> datetime | None:
        """When the workflow's one durable timer should wake: the current deadline, or the
        deadline of a timer paused in this state if that comes first (and is still ahead).

        Waking early is harmless (nothing is due, the timer is set again), and keeping the
        timer of the state signing started from saves cancelling and restarting it twice in
        every signed lifecycle (into signing, and out of it). Never later than
        `next_deadline`.
        """
        deadline = self.next_deadline()
        paused = [getattr(self.model, self.timers[event]) for event in self.paused_timers.get(self.state, ())]
        upcoming = [at for at in paused if at is not None and at > now]
        if deadline is not None:
            upcoming.append(deadline)
        return min(upcoming, default=None)

    def due_timer(self, now: datetime) -> str | None:
        """The timer event whose deadline has come at `now`, if any."""
        for event in self.allowed(now=now, actor=Actor.TIMER):
            if event in self.timers:
                return event
        return None

    # --- acting -----------------------------------------------------------------------------

    def fire(self, event: str, *, now: datetime, **context: Any) -> str:
        """Fire `event` at `now`; returns the new state. TransitionNotAllowed when illegal."""
        return apply_event(self, event, now=now, **context)

    # --- refusal wording, refined by the kinds ----------------------------------------------

    def _may(self, event: str, actor: Actor | str | None) -> bool:
        actors = self.actors.get(event, frozenset())
        if actor is None:
            return bool(actors - {Actor.TIMER})
        return actor in actors

    def _gate(self, event: str) -> Refusal | None:
        """A refusal that comes before any other (a listing's survey comes first)."""
        return None

    def _verb(self, event: str) -> str:
        return self.verbs.get(event, event)

    def _not_in_state(self, event: str) -> str:
        return f"cannot {event} a {self.noun} in state {self.state}"

    def _guard_failed(self, event: str, now: datetime) -> str:
        return self._not_in_state(event)


def apply_event(machine: StateMachine, event: str, **kwargs: Any) -> str:
    """Fire `event` by name and return the new state value.

    Raises `TransitionNotAllowed` when the event is illegal in the current state, unknown,
    or not an event at all.
    """
    # `StateMachine.send` looks the name up with getattr, so a state id or a method name
    # ("draft", "model", "send") would blow up with an AttributeError instead of being
    # refused; every caller must see one exception type for "not allowed".
    if event not in {str(e.id) for e in machine.events}:
        raise TransitionNotAllowed(Event(id=event, name=event), machine.configuration)
    machine.send(event, **kwargs)
    return str(machine.current_state_value)
