"""Event plumbing shared by the lifecycle machines.

Kept apart from the machines so both use the same rules for naming and rejecting events.
"""

from __future__ import annotations

from typing import Any

from statemachine import StateMachine
from statemachine.event import Event
from statemachine.exceptions import TransitionNotAllowed


def enabled_event_names(machine: StateMachine) -> list[str]:
    """Events legal in the machine's current state, guards evaluated, sorted by name."""
    return sorted(str(event.id) for event in machine.enabled_events())


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
