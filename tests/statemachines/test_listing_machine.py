"""The listing machine against DESIGN §4's table, written out again here as data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import product

import pytest
from statemachine.exceptions import TransitionNotAllowed

from statemachines.listing import (
    LISTING_EVENTS,
    LISTING_FINAL_STATES,
    LISTING_STATES,
    ListingEvent,
    ListingMachine,
    ListingModel,
    ListingState,
    accepts_contact,
    allowed_events,
    is_publicly_visible,
    public_flags,
)
from statemachines.listing import apply_event as fire_event
from statemachines.listing import restore_listing as restore_with_dates

STATES = ["pending_survey", "private", "published", "expired", "sold", "archived"]
FINAL = {"archived"}
EVENTS = [
    "complete_survey",
    "publish",
    "unpublish",
    "publication_ends",
    "mark_sold",
    "sold_period_ends",
]
# The owner's and the public's actions that obey the lifecycle without changing state.
INTERNAL = ["edit", "share_report", "contact_owner"]
BY_CHOICE = "<private or published>"
# Every event takes `now`; models standing in a state have their deadlines at NOW, so
# the timer events are due.
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def apply_event(machine: ListingMachine, event: str, **kwargs: object) -> str:
    return fire_event(machine, event, now=NOW, **kwargs)


def restore_listing(state: str = "pending_survey", visible_when_sold: bool = False) -> ListingMachine:
    return ListingMachine(model=model_in(state, visible_when_sold))


def model_in(state: str, visible_when_sold: bool = False) -> ListingModel:
    return ListingModel(
        state=state,
        visible_when_sold=visible_when_sold,
        publication_ends_at=NOW if state == "published" else None,
        sold_period_ends_at=NOW if state == "sold" else None,
    )


# DESIGN §4, one entry per (from, event).
TABLE: dict[tuple[str, str], str] = {
    ("pending_survey", "complete_survey"): BY_CHOICE,
    ("private", "publish"): "published",
    ("published", "unpublish"): "private",
    ("published", "publication_ends"): "expired",
    ("expired", "publish"): "published",
    ("private", "mark_sold"): "sold",
    ("published", "mark_sold"): "sold",
    ("expired", "mark_sold"): "sold",
    ("sold", "sold_period_ends"): "archived",
}
ILLEGAL = [(s, e) for s, e in product(STATES, EVENTS) if (s, e) not in TABLE]
# Where each internal action is possible (nothing before the survey, nothing once archived;
# the report can still be shared once sold; messages only while published).
INTERNAL_TABLE: dict[str, set[str]] = {
    "pending_survey": set(),
    "private": {"edit", "share_report"},
    "published": {"edit", "share_report", "contact_owner"},
    "expired": {"edit", "share_report"},
    "sold": {"share_report"},
    "archived": set(),
}


def test_names_exported_match_the_design() -> None:
    assert list(LISTING_STATES) == STATES
    assert [s.value for s in ListingState] == STATES
    assert list(LISTING_EVENTS) == EVENTS + INTERNAL
    assert [e.value for e in ListingEvent] == EVENTS + INTERNAL
    assert set(LISTING_FINAL_STATES) == FINAL


def test_machine_declares_exactly_those_states_and_events() -> None:
    assert [s.id for s in ListingMachine.states] == STATES
    assert {s.id for s in ListingMachine.final_states} == FINAL
    assert ListingMachine.initial_state is not None
    assert ListingMachine.initial_state.id == "pending_survey"
    assert sorted(e.id for e in ListingMachine().events) == sorted(EVENTS + INTERNAL)


@pytest.mark.parametrize(("source", "event"), [k for k, v in TABLE.items() if v != BY_CHOICE])
def test_every_row_of_the_table(source: str, event: str) -> None:
    machine = restore_listing(source)

    assert apply_event(machine, event) == TABLE[(source, event)]
    assert machine.model.state == TABLE[(source, event)]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"publish": True}, "published"),
        ({"publish": False}, "private"),
        # Publishing is opt-in: without an answer the listing stays private.
        ({}, "private"),
        ({"publish": None}, "private"),
    ],
)
def test_completing_the_survey_follows_the_publish_choice(kwargs: dict[str, object], expected: str) -> None:
    machine = restore_listing()

    assert apply_event(machine, "complete_survey", **kwargs) == expected


def test_the_choice_also_goes_through_the_library_send() -> None:
    machine = ListingMachine(model=ListingModel())
    machine.send("complete_survey", publish=True, now=NOW)
    assert machine.model.state == "published"


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_every_illegal_event_in_every_state_is_rejected(state: str, event: str) -> None:
    for visible in [False, True] if state in ("sold", "archived") else [False]:
        model = model_in(state, visible)
        before = replace(model)
        machine = ListingMachine(model=model)

        with pytest.raises(TransitionNotAllowed):
            apply_event(machine, event, publish=True)
        with pytest.raises(TransitionNotAllowed):
            machine.send(event)

        assert model == before


@pytest.mark.parametrize("name", ["send", "private", "model", "", "sell"])
def test_names_that_are_not_events_are_rejected_the_same_way(name: str) -> None:
    machine = restore_listing("published")

    with pytest.raises(TransitionNotAllowed):
        apply_event(machine, name)
    assert machine.model.state == "published"


@pytest.mark.parametrize("state", STATES)
def test_allowed_events_per_state(state: str) -> None:
    expected = sorted(e for (s, e) in TABLE if s == state)

    assert allowed_events(state) == expected
    machine = restore_listing(state)
    owner_and_timers = {*machine.allowed(now=NOW, actor="owner"), *machine.allowed(now=NOW, actor="timer")}
    assert sorted(owner_and_timers - set(INTERNAL)) == expected


@pytest.mark.parametrize("state", STATES)
def test_internal_actions_per_state_change_nothing(state: str) -> None:
    for action in INTERNAL:
        model = model_in(state)
        before = replace(model)
        machine = ListingMachine(model=model, listeners=[spy := EntrySpy()])
        if action in INTERNAL_TABLE[state]:
            assert apply_event(machine, action) == state
            assert spy.entered == []  # internal: the state is neither left nor entered
            assert model == before
        else:
            with pytest.raises(TransitionNotAllowed):
                apply_event(machine, action)


@pytest.mark.parametrize(("source", "visible"), [("private", False), ("published", True), ("expired", False)])
def test_a_sale_records_whether_the_listing_was_public(source: str, visible: bool) -> None:
    machine = restore_listing(source)

    apply_event(machine, ListingEvent.MARK_SOLD)
    assert (machine.model.state, machine.model.visible_when_sold) == ("sold", visible)
    assert is_publicly_visible("sold", machine.model.visible_when_sold) is visible

    fire_event(machine, "sold_period_ends", now=machine.model.sold_period_ends_at)
    # Kept once archived: it is a fact about the sale.
    assert (machine.model.state, machine.model.visible_when_sold) == ("archived", visible)
    assert not is_publicly_visible("archived", visible)


def test_sold_while_private_never_becomes_visible() -> None:
    machine = restore_listing("pending_survey")
    apply_event(machine, "complete_survey", publish=False)
    apply_event(machine, "mark_sold")

    states_seen = [machine.model.state]
    fire_event(machine, "sold_period_ends", now=machine.model.sold_period_ends_at)
    states_seen.append(machine.model.state)

    assert states_seen == ["sold", "archived"]
    assert not any(is_publicly_visible(s, machine.model.visible_when_sold) for s in states_seen)


class EntrySpy:
    def __init__(self) -> None:
        self.entered: list[str] = []

    def on_enter_state(self, target: object) -> None:
        self.entered.append(getattr(target, "id", "?"))


@pytest.mark.parametrize("state", STATES)
def test_restoring_enters_no_state_and_changes_nothing(state: str) -> None:
    for visible in [False, True] if state in ("sold", "archived") else [False]:
        model = model_in(state, visible)
        spy = EntrySpy()

        machine = ListingMachine(model=model, listeners=[spy])

        assert spy.entered == []
        assert machine.current_state_value == state
        assert model == model_in(state, visible)


@pytest.mark.parametrize(("state", "visible"), [("nowhere", False), ("published", True), ("private", True)])
def test_inconsistent_models_are_refused(state: str, visible: bool) -> None:
    with pytest.raises(ValueError):
        ListingModel(state=state, visible_when_sold=visible)


@pytest.mark.parametrize(
    ("state", "visible_when_sold", "visible", "contact"),
    [
        ("pending_survey", False, False, False),
        ("private", False, False, False),
        ("published", False, True, True),
        ("expired", False, False, False),
        ("sold", True, True, False),
        ("sold", False, False, False),
        ("archived", True, False, False),
        ("archived", False, False, False),
    ],
)
def test_public_visibility_and_contact_form(
    state: str, visible_when_sold: bool, visible: bool, contact: bool
) -> None:
    assert is_publicly_visible(state, visible_when_sold) is visible
    assert accepts_contact(state) is contact


def test_an_expired_listing_can_be_published_again() -> None:
    machine = restore_listing()
    assert apply_event(machine, "complete_survey", publish=True) == "published"
    for event, state in [
        ("publication_ends", "expired"),
        ("publish", "published"),
        ("publication_ends", "expired"),
        ("publish", "published"),
        ("unpublish", "private"),
        ("publish", "published"),
    ]:
        # Each publication runs 3 months from its own start; the timer fires at its end.
        now = machine.model.publication_ends_at if event == "publication_ends" else NOW
        assert fire_event(machine, event, now=now) == state
    assert machine.model.publications == 4


@pytest.mark.parametrize(
    ("state", "visible_when_sold"),
    [(state, False) for state in STATES] + [("sold", True), ("archived", True)],
)
def test_public_flags_cached_per_state_are_the_machines_answers_whatever_the_dates(
    state: str, visible_when_sold: bool
) -> None:
    # The search pages read these once per state: they must not depend on a listing's dates.
    cached = public_flags(state, visible_when_sold)
    for ends in (None, datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)):
        machine = restore_with_dates(
            state, visible_when_sold, publication_ends_at=ends, sold_period_ends_at=ends
        )
        assert (cached.sold, cached.accepts_contact) == (machine.is_sold(), machine.accepts_contact())
    assert cached.sold is (state == "sold")
    assert cached.accepts_contact is (state == "published")
