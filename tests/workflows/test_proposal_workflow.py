"""ProposalWorkflow on the time-skipping server with a real worker, database and SMTP sink."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from proposal_harness import Proposals, fire, paris, record_history, status
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from statemachines.deadlines import withdrawal_deadline
from support import Sink
from workflows.proposal_contract import REFUSED_ERROR_TYPE, SIGNAL_RETRY_EMAILS

DAY = timedelta(days=1)


async def refused(handle, event: str) -> dict:  # noqa: ANN001
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await fire(handle, event)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == REFUSED_ERROR_TYPE, cause
    return cause.details[0]


async def test_unsent_proposal_expires_30_days_after_saving(proposals: Proposals, sink: Sink) -> None:
    handle = await proposals.create()
    saved_at = (await proposals.row(handle)).created_at
    await proposals.env.sleep(30 * DAY - timedelta(minutes=5))
    assert (await status(handle)).state == "draft"
    await proposals.env.sleep(timedelta(minutes=10))
    final = await handle.result()
    assert final.state == "expired"
    assert final.expires_at == saved_at + 30 * DAY
    row = await proposals.row(handle)
    assert (row.state, row.expires_at) == ("expired", saved_at + 30 * DAY)
    # The dealer is told; the buyer never got anything.
    [notice] = sink.messages()
    assert notice["To"] == "garage@example.com"
    assert "expirée" in notice["Subject"]
    await record_history(handle, "expired_unsent")


async def test_sent_proposal_expires_30_days_after_first_sending_even_if_resent(
    proposals: Proposals, sink: Sink
) -> None:
    handle = await proposals.create()
    await proposals.env.sleep(10 * DAY)
    sent = await fire(handle, "send_to_buyer")
    assert sent.state == "sent"
    first_sent_at = sent.first_sent_at
    assert sent.expires_at == first_sent_at + 30 * DAY

    await proposals.env.sleep(29 * DAY)
    resent = await fire(handle, "resend")
    assert resent.expires_at == first_sent_at + 30 * DAY  # resending never extends
    assert resent.sent_count == 2

    await proposals.env.sleep(DAY - timedelta(minutes=1))
    assert (await status(handle)).state == "sent"
    await proposals.env.sleep(timedelta(minutes=2))
    assert (await handle.result()).state == "expired"
    subjects = sink.subjects()
    assert subjects.count("Garage des Tilleuls vous propose un entretien 24 mois") == 2
    assert any("expirée" in s for s in subjects)
    await record_history(handle, "sent_resent_expired")


async def test_send_now_mails_the_buyer_a_link_and_the_dealer_contact(
    proposals: Proposals, sink: Sink
) -> None:
    handle = await proposals.create(send_now=True)
    for _ in range(50):
        if sink.messages():
            break
        await asyncio.sleep(0.1)
    [mail] = sink.messages()
    assert mail["To"] == "marie@example.com"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"{proposals.settings.public_url}/p/" in text
    assert "01 23 45 67 89" in text and "garage@example.com" in text
    row = await proposals.row(handle)
    assert (row.state, row.sent_count) == ("sent", 1)
    assert paris(row.expires_at).strftime("%d/%m/%Y") in text
    await fire(handle, "cancel")
    assert (await handle.result()).state == "cancelled"


@pytest.mark.parametrize(("kind", "days"), [("service", 14), ("insurance", 30)])
async def test_signed_contract_becomes_binding_when_the_window_closes(
    proposals: Proposals, kind: str, days: int
) -> None:
    handle = await proposals.create(kind=kind)
    # Sign on a day whose window's last day is a Saturday: the window runs to Monday.
    now = await proposals.env.get_current_time()
    while paris(now + days * DAY).weekday() != 5:
        now += DAY
    await proposals.env.sleep(now - await proposals.env.get_current_time())
    await fire(handle, "start_in_person")
    signed = await fire(handle, "sign")
    assert signed.state == "signed"
    deadline = signed.withdrawal_deadline
    assert deadline == withdrawal_deadline(signed.signed_at, kind)
    assert paris(deadline).weekday() == 0 and paris(deadline).strftime("%H:%M:%S") == "23:59:59"
    row = await proposals.row(handle)
    assert (row.state, row.contract_status) == ("signed", "active")

    await proposals.env.sleep(deadline - await proposals.env.get_current_time() - timedelta(minutes=1))
    assert (await status(handle)).state == "signed"
    assert "withdraw" in (await status(handle)).allowed_events
    await proposals.env.sleep(timedelta(minutes=2))
    assert (await handle.result()).state == "binding"
    row = await proposals.row(handle)
    assert (row.state, row.contract_status) == ("binding", "active")
    await record_history(handle, f"signed_binding_{kind}")


async def test_withdrawal_inside_the_window_confirms_by_email(proposals: Proposals, sink: Sink) -> None:
    handle = await proposals.create()
    await fire(handle, "start_in_person")
    await fire(handle, "sign")
    await proposals.env.sleep(5 * DAY)
    withdrawn = await fire(handle, "withdraw")
    assert withdrawn.state == "withdrawn"
    assert (await handle.result()).state == "withdrawn"
    assert (await proposals.row(handle)).contract_status == "withdrawn"
    assert any("rétractation" in s for s in sink.subjects())
    await record_history(handle, "signed_withdrawn")


async def test_withdrawal_after_the_window_is_refused(proposals: Proposals) -> None:
    handle = await proposals.create(kind="service")
    await fire(handle, "start_in_person")
    signed = await fire(handle, "sign")
    # The workflow has ended in binding; the API maps this to 409 from the read model.
    await proposals.env.sleep(signed.withdrawal_deadline - signed.signed_at + timedelta(minutes=1))
    assert (await handle.result()).state == "binding"
    with pytest.raises(Exception):  # noqa: B017 - completed workflow: update rejected by the server
        await fire(handle, "withdraw")


async def test_remote_journey_view_accept_sign(proposals: Proposals) -> None:
    handle = await proposals.create(send_now=True)
    first = await fire(handle, "view", actor="buyer")
    second = await fire(handle, "view", actor="buyer")
    assert (first.state, first.view_count, second.view_count) == ("viewed", 1, 2)
    row = await proposals.row(handle)
    assert row.view_count == 2 and row.first_viewed_at is not None
    assert (await fire(handle, "accept", actor="buyer")).state == "signing"
    abandoned = await fire(handle, "abandon", actor="buyer")
    assert abandoned.state == "viewed"  # back where signing started
    await fire(handle, "accept", actor="buyer")
    assert (await fire(handle, "sign", actor="buyer")).state == "signed"
    await record_history(handle, "remote_journey_signed")


async def test_decline_ends_the_proposal(proposals: Proposals) -> None:
    handle = await proposals.create(send_now=True)
    await fire(handle, "view", actor="buyer")
    assert (await fire(handle, "decline", actor="buyer")).state == "declined"
    assert (await handle.result()).state == "declined"


async def test_illegal_events_are_refused_before_history(proposals: Proposals) -> None:
    handle = await proposals.create()
    for event in ("resend", "view", "accept", "sign", "abandon", "withdraw", "decline"):
        details = await refused(handle, event)
        assert details["state"] == "draft"
        assert details["allowed_events"] == ["cancel", "send_to_buyer", "start_in_person"]
    # A rejected update leaves no update event and no activity in history.
    kinds = {EventType.Name(e.event_type) for e in (await handle.fetch_history()).events}
    assert not {k for k in kinds if "UPDATE" in k or "ACTIVITY" in k}, kinds
    row = await proposals.row(handle)
    assert (row.state, row.state_version) == ("draft", 0)


async def test_two_concurrent_signatures_exactly_one_wins(proposals: Proposals) -> None:
    handle = await proposals.create()
    await fire(handle, "start_in_person")
    results = await asyncio.gather(fire(handle, "sign"), fire(handle, "sign"), return_exceptions=True)
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].cause.details[0]["state"] == "signed"


async def test_smtp_outage_marks_email_failed_then_adv_retry_sends_once(
    proposals: Proposals, sink: Sink
) -> None:
    sink.stop()
    handle = await proposals.create(send_now=True)
    for _ in range(300):
        current = await status(handle)
        if current.email_failed:
            break
        await proposals.env.sleep(timedelta(minutes=1))
    assert current.email_failed, current
    assert "refused connection" in (current.email_error or "")
    # The read model follows the workflow's own flag by one projection activity.
    for _ in range(100):
        row = await proposals.row(handle)
        if row.email_failed:
            break
        await asyncio.sleep(0.05)
    assert row.email_failed and "refused connection" in row.email_error
    assert row.state == "sent"  # still valid, nothing lost

    sink.start()
    await handle.signal(SIGNAL_RETRY_EMAILS)
    for _ in range(100):
        row = await proposals.row(handle)
        if not row.email_failed and sink.messages():
            break
        await asyncio.sleep(0.1)
    assert len(sink.messages()) == 1
    assert (row.email_failed, row.email_error) == (False, None)
    await fire(handle, "cancel")
    await handle.result()
    assert len(sink.messages()) == 1


# The design's table, as data: the user events each state allows.
ALLOWED_IN = {
    "draft": {"send_to_buyer", "start_in_person", "cancel"},
    "sent": {"resend", "view", "start_in_person", "cancel"},
    "viewed": {"resend", "view", "accept", "start_in_person", "decline", "cancel"},
    "signing": {"sign", "abandon"},
    "signed": {"withdraw"},
}
PATHS = {
    "draft": [],
    "sent": ["send_to_buyer"],
    "viewed": ["send_to_buyer", "view"],
    "signing": ["send_to_buyer", "view", "accept"],
    "signed": ["start_in_person", "sign"],
}


@pytest.mark.parametrize("state", list(PATHS))
async def test_every_illegal_event_in_every_live_state_is_refused_and_changes_nothing(
    proposals: Proposals, state: str
) -> None:
    from workflows.proposal_contract import USER_EVENTS

    handle = await proposals.create()
    for event in PATHS[state]:
        await fire(handle, event)
    before = await proposals.row(handle)
    assert before.state == state
    for event in sorted(set(USER_EVENTS) - ALLOWED_IN[state]):
        details = await refused(handle, event)
        assert details["state"] == state
        assert set(details["allowed_events"]) == ALLOWED_IN[state]
    after = await proposals.row(handle)
    assert (after.state, after.state_version) == (state, before.state_version)
    assert set((await status(handle)).allowed_events) == ALLOWED_IN[state]
