"""The rules beyond the transition tables: who fires what, until when, and why not.

Written out again here as data (the design's actors and deadlines), so a rule that moves
in the machines shows up as a difference.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from statemachines.listing import ListingMachine, ListingModel, restore_listing
from statemachines.proposal import (
    ProposalMachine,
    ProposalModel,
    from_read_model,
    new_proposal,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SAVED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

PROPOSAL_ACTORS = {
    "send_to_buyer": {"dealer"},
    "resend": {"dealer"},
    "view": {"buyer"},
    "accept": {"buyer"},
    "start_in_person": {"dealer"},
    "sign": {"buyer", "dealer", "provider"},
    "abandon": {"buyer", "dealer", "provider"},
    "withdraw": {"buyer", "dealer"},
    "decline": {"buyer"},
    "cancel": {"dealer"},
    "expire": {"timer"},
    "window_closes": {"timer"},
    "remind": {"timer"},
}
LISTING_ACTORS = {
    "complete_survey": {"owner"},
    "publish": {"owner"},
    "unpublish": {"owner"},
    "mark_sold": {"owner"},
    "edit": {"owner"},
    "share_report": {"owner"},
    "contact_owner": {"public"},
    "publication_ends": {"timer"},
    "sold_period_ends": {"timer"},
}


@pytest.mark.parametrize(
    ("machine", "expected"), [(ProposalMachine, PROPOSAL_ACTORS), (ListingMachine, LISTING_ACTORS)]
)
def test_who_may_fire_each_event(machine: type, expected: dict[str, set[str]]) -> None:
    assert {event: {str(a) for a in actors} for event, actors in machine.actors.items()} == expected
    assert set(expected) == {str(e.id) for e in machine().events}


def signed_at(moment: datetime, kind: str = "service") -> ProposalMachine:
    machine = new_proposal(kind, SAVED)
    machine.fire("start_in_person", now=moment)
    machine.fire("sign", now=moment)
    return machine


def test_an_actor_not_allowed_is_refused_with_its_own_code() -> None:
    machine = new_proposal("service", SAVED)

    refusal = machine.refusal("cancel", now=NOW, actor="buyer")
    assert refusal is not None
    assert (refusal.code, refusal.reason) == ("not_permitted", "a buyer cannot cancel a proposal")
    assert machine.refusal("cancel", now=NOW, actor="dealer") is None
    # What a buyer may do in a draft: nothing; the dealer: send, sign face to face, cancel.
    assert machine.allowed(now=NOW, actor="buyer") == []
    assert machine.allowed(now=NOW, actor="dealer") == ["cancel", "send_to_buyer", "start_in_person"]


def test_withdrawal_is_guarded_by_the_window_given_now() -> None:
    machine = signed_at(NOW)
    deadline = machine.model.withdrawal_deadline
    assert deadline is not None

    assert machine.can("withdraw", now=deadline, actor="buyer")  # its very last instant
    late = machine.refusal("withdraw", now=deadline + timedelta(microseconds=1), actor="buyer")
    assert late is not None
    assert late.code == "transition_not_allowed"
    assert late.reason == f"the withdrawal window ended at {deadline.isoformat()}"
    assert "withdraw" not in machine.allowed(now=deadline + timedelta(seconds=1))


def test_timers_are_the_machines_deadlines_and_fire_only_when_due() -> None:
    machine = new_proposal("insurance", SAVED)
    assert machine.next_timer() == ("expire", SAVED + timedelta(days=30))
    assert machine.due_timer(SAVED + timedelta(days=29)) is None
    assert machine.due_timer(SAVED + timedelta(days=30)) == "expire"

    machine.fire("send_to_buyer", now=NOW)  # the validity now runs from the first sending
    assert machine.next_deadline() == NOW + timedelta(days=30)

    signed = signed_at(NOW, "insurance")
    deadline = signed.model.withdrawal_deadline
    assert signed.next_timer() == ("window_closes", deadline)
    assert signed.due_timer(deadline) == "window_closes"
    signed.fire("window_closes", now=deadline)
    assert signed.next_timer() is None  # binding: nothing more happens by itself


def test_timer_events_are_nobodys_to_fire() -> None:
    machine = new_proposal("service", SAVED)
    late = SAVED + timedelta(days=31)

    assert "expire" not in machine.allowed(now=late)
    assert machine.allowed(now=late, actor="timer") == ["expire"]
    refusal = machine.refusal("expire", now=late, actor="dealer")
    assert refusal is not None and refusal.code == "not_permitted"


def test_corrections_stop_once_signing_has_started() -> None:
    machine = new_proposal("service", SAVED)
    assert machine.accepts_corrections(NOW)
    machine.fire("send_to_buyer", now=NOW)
    machine.fire("view", now=NOW)
    assert machine.accepts_corrections(NOW)
    machine.fire("accept", now=NOW)
    assert not machine.accepts_corrections(NOW)


@pytest.mark.parametrize("origin", ["draft", "sent", "viewed"])
def test_the_read_model_answers_what_the_workflow_would(origin: str) -> None:
    # The read model does not know where signing started; the answers do not depend on it.
    workflow_side = ProposalMachine(
        model=ProposalModel(state="signing", signing_origin=origin, expires_at=SAVED + timedelta(days=30))
    )
    read_side = from_read_model("signing", expires_at=SAVED + timedelta(days=30), withdrawal_deadline=None)
    for actor in [None, "buyer", "dealer", "provider", "timer"]:
        assert read_side.allowed(now=NOW, actor=actor) == workflow_side.allowed(now=NOW, actor=actor)


def test_nothing_but_the_survey_before_the_survey() -> None:
    machine = restore_listing()
    for action in ["publish", "edit", "share_report", "contact_owner", "mark_sold"]:
        refusal = machine.refusal(action, now=NOW, actor="owner")
        assert refusal is not None
        assert (refusal.code, refusal.reason) == ("survey_required", "complete the satisfaction survey first")
    assert machine.allowed(now=NOW, actor="owner") == ["complete_survey"]


@pytest.mark.parametrize(
    ("state", "published", "events"),
    [
        ("private", True, ["edit", "publish"]),
        ("private", False, ["edit"]),
        ("private", None, ["edit"]),
        ("published", True, ["edit"]),
        ("published", False, ["edit", "unpublish"]),
        ("expired", True, ["edit", "publish"]),
        ("expired", False, ["edit"]),
    ],
)
def test_an_edit_publishes_or_unpublishes_as_its_box_says(
    state: str, published: bool | None, events: list[str]
) -> None:
    machine = restore_listing(state)

    assert machine.edit_events(published) == events
    assert machine.edit_refusal(now=NOW, published=published) is None


def test_a_sold_listing_cannot_be_edited_but_its_report_can_be_shared() -> None:
    machine = ListingMachine(model=ListingModel(state="sold", visible_when_sold=True))

    refusal = machine.edit_refusal(now=NOW, published=None)
    assert refusal is not None and refusal.reason == "cannot edit a listing in state sold"
    assert machine.can("share_report", now=NOW, actor="owner")
    contact = machine.refusal("contact_owner", now=NOW, actor="public")
    assert contact is not None and contact.reason == "a listing in state sold takes no messages"
    assert not machine.accepts_contact()
    assert machine.is_publicly_visible()


def test_each_publication_runs_three_months_and_a_sale_one_more_month() -> None:
    machine = restore_listing()
    machine.fire("complete_survey", now=NOW, publish=True)
    event, ends = machine.next_timer() or ("", NOW)
    assert event == "publication_ends"
    assert datetime(2026, 6, 2, tzinfo=UTC) <= ends < datetime(2026, 6, 3, tzinfo=UTC)

    machine.fire("mark_sold", now=NOW + timedelta(days=10))
    event, ends = machine.next_timer() or ("", NOW)
    assert event == "sold_period_ends"
    assert machine.model.publication_ends_at is None
    assert datetime(2026, 4, 12, tzinfo=UTC) <= ends < datetime(2026, 4, 13, tzinfo=UTC)
    assert machine.due_timer(ends - timedelta(seconds=1)) is None
    assert machine.due_timer(ends) == "sold_period_ends"
