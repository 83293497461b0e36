"""What the records activity writes into the dealer's timeline: the steps between the stored
facts and a newer projection (activities/records.timeline_steps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.records import timeline_steps
from workflows.proposal_contract import ProposalProjection

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
BEFORE_SENT = {"state": "draft", "sent_count": 0, "first_sent_at": None, "view_count": 0, "signed_at": None}


def projection(**facts: object) -> ProposalProjection:
    base: dict[str, object] = {
        "version": 2,
        "state": "sent",
        "proposal_id": "p",
        "expires_at": T0 + timedelta(30),
    }
    return ProposalProjection(**{**base, **facts})  # type: ignore[arg-type]


def test_a_first_sending_then_a_resend_then_a_view_each_at_the_machines_own_time() -> None:
    sent = projection(sent_count=1, first_sent_at=T0, last_sent_at=T0)
    assert timeline_steps(BEFORE_SENT, sent, NOW) == [("sent", T0, "1")]
    after_send = {**BEFORE_SENT, "state": "sent", "sent_count": 1, "first_sent_at": T0}
    later = T0 + timedelta(minutes=5)
    resent = projection(sent_count=2, first_sent_at=T0, last_sent_at=later)
    assert timeline_steps(after_send, resent, NOW) == [("resent", later, "2")]
    viewed = projection(state="viewed", sent_count=1, first_sent_at=T0, view_count=3, last_viewed_at=later)
    assert timeline_steps({**after_send, "view_count": 2, "state": "viewed"}, viewed, NOW) == [
        ("viewed", later, "3")
    ]


def test_state_changes_signature_expiry_and_abandon() -> None:
    viewed = {**BEFORE_SENT, "state": "viewed", "sent_count": 1, "first_sent_at": T0, "view_count": 1}
    facts = {"sent_count": 1, "first_sent_at": T0, "view_count": 1}
    assert timeline_steps(viewed, projection(state="signing", **facts), NOW) == [("signing", NOW, "viewed")]
    signing = {**viewed, "state": "signing"}
    assert timeline_steps(signing, projection(state="viewed", **facts), NOW) == [("abandoned", NOW, "viewed")]
    assert timeline_steps(signing, projection(state="signed", signed_at=T0, **facts), NOW) == [
        ("signed", T0, "")
    ]
    expires = T0 + timedelta(days=30)
    assert timeline_steps(viewed, projection(state="expired", expires_at=expires, **facts), NOW) == [
        ("expired", expires, "viewed")
    ]
    # Nothing changed (a projection of an internal event such as a reminder): no step.
    assert timeline_steps(viewed, projection(state="viewed", **facts), NOW) == []
