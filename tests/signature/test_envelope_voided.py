"""The DocuSign envelope dies with its proposal: cancelled (or replaced) and expired proposals
void their envelope at the provider (the emulator), so its signing link stops working.

Before: an envelope stayed signable at DocuSign after its proposal was cancelled or expired.
A real ProposalWorkflow on the time-skipping server, the real adapter against the emulator.
"""

from __future__ import annotations

from datetime import timedelta

from proposal_harness import Proposals, fire, record_history, status
from signature.docusign_emulator import DocuSignEmulator
from signature.test_docusign_webhook import envelope_for, signing_proposal

from activities.signature import DocuSignProvider


def void_calls(emulator: DocuSignEmulator, envelope_id: str) -> list:
    return [c for c in emulator.calls("PUT", rf"/envelopes/{envelope_id}$")]


async def test_cancel_after_going_back_from_signing_voids_the_envelope(
    proposals: Proposals, provider: DocuSignProvider, emulator: DocuSignEmulator
) -> None:
    handle = await signing_proposal(proposals)
    envelope_id = await envelope_for(handle, proposals, provider)
    assert emulator.envelopes[envelope_id].status == "sent"
    await fire(handle, "abandon", actor="buyer")
    cancelled = await fire(handle, "cancel")
    assert cancelled.state == "cancelled"
    final = await handle.result()  # the workflow closes once the void is done
    assert final.state == "cancelled"
    assert emulator.envelopes[envelope_id].status == "voided"
    assert "cancelled" in (emulator.envelopes[envelope_id].voided_reason or "")
    assert len(void_calls(emulator, envelope_id)) == 1
    await record_history(handle, "i15_cancel_voids_envelope")


async def test_expiry_while_signing_voids_the_envelope(
    proposals: Proposals, provider: DocuSignProvider, emulator: DocuSignEmulator
) -> None:
    handle = await signing_proposal(proposals)
    envelope_id = await envelope_for(handle, proposals, provider)
    await proposals.env.sleep(timedelta(days=31))
    final = await handle.result()
    assert final.state == "expired"
    assert emulator.envelopes[envelope_id].status == "voided"
    await record_history(handle, "i15_expired_while_signing_voids_envelope")


async def test_voiding_a_finished_envelope_is_harmless(
    provider: DocuSignProvider, emulator: DocuSignEmulator, proposals: Proposals
) -> None:
    handle = await signing_proposal(proposals)
    envelope_id = await envelope_for(handle, proposals, provider)
    assert await provider.void_envelope(envelope_id, "test") is True
    # Again (a retried activity): DocuSign refuses to void it twice; we take that as done.
    assert await provider.void_envelope(envelope_id, "test") is False
    assert (await status(handle)).state == "signing"
