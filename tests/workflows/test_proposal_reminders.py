"""Reminders to a buyer who has not signed: durable timers, on the right days, once each,
never after signing (time-skipping server, real worker, SMTP sink)."""

from __future__ import annotations

from datetime import timedelta

from proposal_harness import Proposals, fire, record_history, status

from support import Sink, eventually
from workflows.proposal_contract import EventRequest, ProposalStatus

DAY = timedelta(days=1)
REMINDER = "Rappel : "


def reminders(sink: Sink) -> list[str]:
    return [s for s in sink.subjects() if s.startswith(REMINDER)]


async def test_an_unsigned_buyer_is_reminded_7_days_after_sending_and_3_days_before_the_end(
    proposals: Proposals, sink: Sink
) -> None:
    handle = await proposals.create(send_now=True, reminders=(7, 3))
    sent = await status(handle)
    assert sent.state == "sent"
    first_sent_at = sent.first_sent_at
    assert first_sent_at is not None

    await proposals.env.sleep(7 * DAY - timedelta(minutes=5))
    assert reminders(sink) == []
    await proposals.env.sleep(timedelta(minutes=10))
    await eventually(lambda: _count(sink, 1))
    [mail] = [m for m in sink.messages() if str(m["Subject"]).startswith(REMINDER)]
    assert mail["To"] == "marie@example.com"
    assert "/p/" in mail.get_body(("plain",)).get_content()

    # Viewing does not re-arm anything; the second reminder comes 3 days before the end.
    await fire(handle, "view", actor="buyer")
    end = sent.expires_at
    await proposals.env.sleep(end - 3 * DAY - await proposals.env.get_current_time() - timedelta(minutes=5))
    assert len(reminders(sink)) == 1
    await proposals.env.sleep(timedelta(minutes=10))
    await eventually(lambda: _count(sink, 2))

    # Then the proposal expires, the dealer is told, and no third reminder ever comes.
    await proposals.env.sleep(3 * DAY)
    assert (await handle.result()).state == "expired"
    assert len(reminders(sink)) == 2
    assert any("expirée" in s for s in sink.subjects())
    await record_history(handle, "reminded_twice_expired")


async def test_no_reminder_once_signed(proposals: Proposals, sink: Sink) -> None:
    handle = await proposals.create(send_now=True, reminders=(7, 3))
    await fire(handle, "view", actor="buyer")
    await fire(handle, "accept", actor="buyer")
    assert (await fire(handle, "sign", actor="buyer")).state == "signed"

    # Past both reminder days and the end of the proposal's validity (binding by then).
    await proposals.env.sleep(29 * DAY)
    assert (await handle.result()).state == "binding"
    assert reminders(sink) == []


async def test_a_workflow_without_reminder_settings_sends_none(proposals: Proposals, sink: Sink) -> None:
    handle = await proposals.create(send_now=True)
    await proposals.env.sleep(31 * DAY)
    assert (await handle.result()).state == "expired"
    assert reminders(sink) == []


async def _count(sink: Sink, expected: int) -> bool:
    return len(reminders(sink)) >= expected


async def test_a_reminder_due_while_signing_waits_and_is_sent_once_if_signing_is_abandoned(
    proposals: Proposals, sink: Sink
) -> None:
    handle = await proposals.create(send_now=True, reminders=(7, 3))
    await fire(handle, "view", actor="buyer")
    await handle.execute_update(
        "accept", EventRequest(actor="buyer", signature_provider="local"), result_type=ProposalStatus
    )
    # The reminder's day passes while the buyer is signing: the timer wakes, nothing is sent.
    await proposals.env.sleep(8 * DAY)
    assert (await status(handle)).state == "signing"
    assert reminders(sink) == []
    # Back to where signing started: the reminder missed is due, and goes out once.
    assert (await fire(handle, "abandon", actor="buyer")).state == "viewed"
    await eventually(lambda: _count(sink, 1))
    # The expiry still comes on its day (and the reminder 3 days before it, once).
    await proposals.env.sleep(23 * DAY)
    assert (await handle.result()).state == "expired"
    assert len(reminders(sink)) == 2
    await record_history(handle, "i11_lean_v4_reminder_paused_while_signing")
