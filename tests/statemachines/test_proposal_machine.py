"""The proposal machine against DESIGN §3's table, written out again here as data.

The expected table is deliberately not derived from the machine: a transition added or
lost in the machine must show up as a difference.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from statemachine.exceptions import TransitionNotAllowed

from statemachines.proposal import (
    PROPOSAL_EVENTS,
    PROPOSAL_FINAL_STATES,
    PROPOSAL_STATES,
    SIGNING_ORIGINS,
    ProposalEvent,
    ProposalMachine,
    ProposalModel,
    ProposalState,
    allowed_events,
    restore_proposal,
)
from statemachines.proposal import apply_event as fire_event

STATES = [
    "draft",
    "sent",
    "viewed",
    "signing",
    "signed",
    "binding",
    "expired",
    "withdrawn",
    "declined",
    "cancelled",
]
FINAL = {"binding", "expired", "withdrawn", "declined", "cancelled"}
EVENTS = [
    "send_to_buyer",
    "resend",
    "view",
    "accept",
    "start_in_person",
    "sign",
    "abandon",
    "withdraw",
    "window_closes",
    "decline",
    "cancel",
    "expire",
    "remind",
]
ORIGINS = ["draft", "sent", "viewed"]
# Every event takes `now`. Models standing in a state have both deadlines at NOW, so the
# timer events are due and a withdrawal is still inside its window (its last instant).
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def apply_event(machine: ProposalMachine, event: str) -> str:
    return fire_event(machine, event, now=NOW)


BACK_TO_ORIGIN = "<origin>"

# DESIGN §3, one entry per (from, event).
TABLE: dict[tuple[str, str], str] = {
    ("draft", "send_to_buyer"): "sent",
    ("sent", "resend"): "sent",
    ("viewed", "resend"): "viewed",
    ("sent", "view"): "viewed",
    ("viewed", "view"): "viewed",
    ("viewed", "accept"): "signing",
    ("draft", "start_in_person"): "signing",
    ("sent", "start_in_person"): "signing",
    ("viewed", "start_in_person"): "signing",
    ("signing", "sign"): "signed",
    ("signing", "abandon"): BACK_TO_ORIGIN,
    ("signed", "withdraw"): "withdrawn",
    ("signed", "window_closes"): "binding",
    ("viewed", "decline"): "declined",
    ("draft", "cancel"): "cancelled",
    ("sent", "cancel"): "cancelled",
    ("viewed", "cancel"): "cancelled",
    ("draft", "expire"): "expired",
    ("sent", "expire"): "expired",
    ("viewed", "expire"): "expired",
    ("signing", "expire"): "expired",
    ("sent", "remind"): "sent",
    ("viewed", "remind"): "viewed",
}
ILLEGAL = [(s, e) for s, e in product(STATES, EVENTS) if (s, e) not in TABLE]


def model_in(state: str, origin: str = "viewed") -> ProposalModel:
    """A model standing in `state`; a signing one needs an origin."""
    return ProposalModel(
        state=state,
        signing_origin=origin if state == "signing" else None,
        expires_at=NOW,
        withdrawal_deadline=NOW,
    )


def test_names_exported_match_the_design() -> None:
    assert list(PROPOSAL_STATES) == STATES
    assert [s.value for s in ProposalState] == STATES
    assert list(PROPOSAL_EVENTS) == EVENTS
    assert [e.value for e in ProposalEvent] == EVENTS
    assert set(PROPOSAL_FINAL_STATES) == FINAL
    assert set(SIGNING_ORIGINS) == set(ORIGINS)


def test_machine_declares_exactly_those_states_and_events() -> None:
    assert [s.id for s in ProposalMachine.states] == STATES
    assert {s.id for s in ProposalMachine.final_states} == FINAL
    assert ProposalMachine.initial_state is not None
    assert ProposalMachine.initial_state.id == "draft"
    assert sorted(e.id for e in ProposalMachine().events) == sorted(EVENTS)
    # The library's own method must stay reachable (see DESIGN: never name an event `send`).
    assert "send" not in EVENTS


def test_a_new_proposal_starts_in_draft() -> None:
    assert ProposalModel().state == "draft"
    assert ProposalMachine().current_state_value == "draft"


@pytest.mark.parametrize(("source", "event"), [k for k, v in TABLE.items() if v != BACK_TO_ORIGIN])
def test_every_row_of_the_table(source: str, event: str) -> None:
    model = model_in(source)
    if event == "remind":  # a reminder is due before the end of validity, not at it
        model.expires_at, model.next_reminder_at = NOW + timedelta(days=3), NOW
    machine = ProposalMachine(model=model)

    assert apply_event(machine, event) == TABLE[(source, event)]
    assert machine.model.state == TABLE[(source, event)]


@pytest.mark.parametrize("origin", ORIGINS)
def test_abandon_returns_to_where_signing_started(origin: str) -> None:
    model = ProposalModel(state=origin)
    machine = ProposalMachine(model=model)

    apply_event(machine, "start_in_person")
    assert (model.state, model.signing_origin) == ("signing", origin)

    assert apply_event(machine, "abandon") == origin
    assert (model.state, model.signing_origin) == (origin, None)


def test_abandon_after_accept_returns_to_viewed() -> None:
    machine = restore_proposal("viewed")
    apply_event(machine, "accept")
    assert machine.model.signing_origin == "viewed"

    assert apply_event(machine, "abandon") == "viewed"


@pytest.mark.parametrize("origin", ORIGINS)
def test_signing_can_be_taken_up_again_after_abandon(origin: str) -> None:
    machine = restore_proposal(origin)
    for _ in range(3):
        apply_event(machine, "start_in_person")
        apply_event(machine, "abandon")
    apply_event(machine, "start_in_person")

    assert apply_event(machine, "sign") == "signed"


@pytest.mark.parametrize("event", ["sign", "expire"])
def test_leaving_signing_otherwise_forgets_the_origin(event: str) -> None:
    machine = ProposalMachine(model=replace(model_in("signing"), signing_origin="sent"))

    apply_event(machine, event)

    assert machine.model.signing_origin is None


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_every_illegal_event_in_every_state_is_rejected(state: str, event: str) -> None:
    origins = ORIGINS if state == "signing" else [None]
    for origin in origins:
        model = replace(model_in(state), signing_origin=origin)
        before = replace(model)
        machine = ProposalMachine(model=model)

        with pytest.raises(TransitionNotAllowed):
            apply_event(machine, event)
        # Also through the library's own entry point, which workflows may call directly.
        with pytest.raises(TransitionNotAllowed):
            machine.send(event)

        assert model == before


@pytest.mark.parametrize("name", ["send", "draft", "signing", "model", "allowed_events", "", "x"])
def test_names_that_are_not_events_are_rejected_the_same_way(name: str) -> None:
    machine = restore_proposal("sent")

    with pytest.raises(TransitionNotAllowed):
        apply_event(machine, name)
    assert machine.model.state == "sent"


def test_events_can_be_given_as_enum_members() -> None:
    machine = restore_proposal("sent")

    assert apply_event(machine, ProposalEvent.VIEW) == ProposalState.VIEWED


@pytest.mark.parametrize("state", STATES)
def test_allowed_events_per_state(state: str) -> None:
    origins = ORIGINS if state == "signing" else [None]
    for origin in origins:
        expected = sorted(e for (s, e) in TABLE if s == state)

        assert allowed_events(state, origin) == expected
        # With both deadlines due, the machine's own answer (timers included) is the table,
        # but for the reminder: none once the validity is over.
        machine = ProposalMachine(model=replace(model_in(state), signing_origin=origin, next_reminder_at=NOW))
        at_the_end = [e for e in expected if e != "remind"]
        assert sorted({*machine.allowed(now=NOW), *machine.allowed(now=NOW, actor="timer")}) == at_the_end


def test_final_states_allow_nothing() -> None:
    for state in FINAL:
        assert allowed_events(state) == []


class EntrySpy:
    """A listener recording every state entry the machine performs."""

    def __init__(self) -> None:
        self.entered: list[str] = []

    def on_enter_state(self, target: object) -> None:
        self.entered.append(getattr(target, "id", "?"))


@pytest.mark.parametrize("state", STATES)
def test_restoring_enters_no_state_and_changes_nothing(state: str) -> None:
    origins = ORIGINS if state == "signing" else [None]
    for origin in origins:
        model = ProposalModel(state=state, signing_origin=origin)
        spy = EntrySpy()

        machine = ProposalMachine(model=model, listeners=[spy])

        assert spy.entered == []
        assert machine.current_state_value == state
        assert model == ProposalModel(state=state, signing_origin=origin)


def test_start_value_would_re_enter_the_state() -> None:
    # Why restoring goes through a model: the library's start_value runs entry callbacks.
    spy = EntrySpy()
    ProposalMachine(start_value="signed", listeners=[spy])
    assert spy.entered == ["signed"]


@pytest.mark.parametrize("origin", ORIGINS)
def test_restored_signing_keeps_its_origin(origin: str) -> None:
    machine = restore_proposal("signing", origin)

    assert machine.model.signing_origin == origin
    assert apply_event(machine, "abandon") == origin


@pytest.mark.parametrize(
    ("state", "origin"),
    [
        ("nowhere", None),
        ("signing", None),
        ("signing", "signed"),
        ("signing", "signing"),
        ("sent", "draft"),
    ],
)
def test_inconsistent_models_are_refused(state: str, origin: str | None) -> None:
    with pytest.raises(ValueError):
        ProposalModel(state=state, signing_origin=origin)


def test_allowed_events_in_signing_needs_the_origin() -> None:
    with pytest.raises(ValueError):
        allowed_events("signing")


def test_resend_and_view_only_count_and_never_move_the_validity() -> None:
    machine = restore_proposal("sent", expires_at=NOW)
    machine.model.first_sent_at = NOW

    apply_event(machine, "resend")
    assert (machine.model.state, machine.model.sent_count, machine.model.expires_at) == ("sent", 1, NOW)
    apply_event(machine, "view")
    apply_event(machine, "view")
    apply_event(machine, "resend")
    model = machine.model
    assert (model.state, model.view_count, model.sent_count, model.expires_at) == ("viewed", 2, 2, NOW)
    assert model.first_viewed_at == model.last_viewed_at == NOW


def test_a_full_remote_sale() -> None:
    machine = ProposalMachine(model=model_in("draft"))
    for event, state in [
        ("send_to_buyer", "sent"),
        ("view", "viewed"),
        ("accept", "signing"),
        ("sign", "signed"),
    ]:
        assert apply_event(machine, event) == state
    # Signing set the withdrawal window: the timer closes it at its end, not before.
    deadline = machine.model.withdrawal_deadline
    assert deadline is not None and deadline > NOW
    assert machine.next_deadline() == deadline
    with pytest.raises(TransitionNotAllowed):
        apply_event(machine, "window_closes")
    assert fire_event(machine, "window_closes", now=deadline) == "binding"
    assert machine.is_terminated


def test_reminders_come_on_their_days_once_each_and_only_while_the_buyer_can_act() -> None:
    saved = NOW - timedelta(days=1)
    machine = ProposalMachine(
        model=ProposalModel(
            saved_at=saved,
            expires_at=saved + timedelta(days=30),
            remind_after_sent=timedelta(days=7),
            remind_before_expiry=timedelta(days=3),
        )
    )
    fire_event(machine, "send_to_buyer", now=NOW)
    end = machine.model.expires_at
    assert end is not None
    assert machine.next_timer() == ("remind", NOW + timedelta(days=7))
    assert machine.due_timer(NOW + timedelta(days=7) - timedelta(seconds=1)) is None
    assert machine.due_timer(NOW + timedelta(days=7)) == "remind"
    fire_event(machine, "remind", now=NOW + timedelta(days=7))
    assert machine.next_timer() == ("remind", end - timedelta(days=3))
    fire_event(machine, "view", now=end - timedelta(days=4))
    fire_event(machine, "remind", now=end - timedelta(days=3))
    # Both sent: only the expiry is left, and a reminder is never fired twice.
    assert (machine.model.reminders_sent, machine.next_timer()) == (2, ("expire", end))
    assert not machine.can("remind", now=end - timedelta(days=1))

    fire_event(machine, "accept", now=end - timedelta(days=2))
    assert "remind" not in machine.allowed(now=end)  # signing: no reminder, whatever the clock


def test_without_reminder_settings_the_only_timer_is_the_expiry() -> None:
    saved = NOW - timedelta(days=1)
    machine = ProposalMachine(model=ProposalModel(saved_at=saved, expires_at=saved + timedelta(days=30)))
    fire_event(machine, "send_to_buyer", now=NOW)
    assert machine.model.next_reminder_at is None
    assert machine.next_timer() == ("expire", machine.model.expires_at)


def test_the_timer_wakes_for_a_reminder_paused_while_signing_never_after_the_deadline() -> None:
    saved = NOW - timedelta(days=1)
    machine = ProposalMachine(
        model=ProposalModel(
            saved_at=saved,
            expires_at=saved + timedelta(days=30),
            remind_after_sent=timedelta(days=7),
            remind_before_expiry=timedelta(days=3),
        )
    )
    fire_event(machine, "send_to_buyer", now=NOW)
    reminder, end = NOW + timedelta(days=7), machine.model.expires_at
    assert end is not None
    fire_event(machine, "view", now=NOW)
    assert machine.wake_at(NOW) == machine.next_deadline() == reminder
    # Signing: no reminder can fire, the deadline is the expiry, yet the timer keeps its
    # moment (an abandon goes back to viewed, where the reminder applies again).
    fire_event(machine, "accept", now=NOW)
    assert machine.next_deadline() == end
    assert machine.wake_at(NOW) == reminder
    # Woken then, nothing is due; the next wake is the expiry.
    assert machine.due_timer(reminder) is None
    assert machine.wake_at(reminder) == end
    # Abandoned after the reminder's day: it is due at once, sent once.
    fire_event(machine, "abandon", now=reminder + timedelta(days=1))
    assert machine.due_timer(reminder + timedelta(days=1)) == "remind"
    # Signed: the reminder is over for good, the one timer is the withdrawal window's.
    fire_event(machine, "remind", now=reminder + timedelta(days=1))
    fire_event(machine, "accept", now=reminder + timedelta(days=1))
    fire_event(machine, "sign", now=reminder + timedelta(days=1))
    assert machine.wake_at(reminder + timedelta(days=1)) == machine.model.withdrawal_deadline


@pytest.mark.parametrize("state", STATES)
def test_without_a_paused_timer_the_wake_is_the_deadline(state: str) -> None:
    machine = ProposalMachine(model=model_in(state))
    assert machine.wake_at(NOW - timedelta(days=1)) == machine.next_deadline()
