"""The Connect webhook against a real ProposalWorkflow on the time-skipping server.

Envelopes come from the emulator (through the real adapter), Connect messages are built from
them as DocuSign would post them, signed with HMAC-SHA256 (base64) over the raw body.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from proposal_harness import Proposals, fire, status
from signature.conftest import HMAC_KEYS, connect_signature
from signature.docusign_emulator import DocuSignEmulator
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from activities.signature import DocuSignProvider
from carflow.settings import Settings
from workflows.proposal_contract import proposal_id_from_workflow_id

URL = "/api/v1/webhooks/docusign"


async def signing_proposal(proposals: Proposals) -> WorkflowHandle:
    handle = await proposals.create()
    for event in ("send_to_buyer", "view"):
        await fire(handle, event)
    await fire(handle, "accept", actor="buyer")
    assert (await status(handle)).state == "signing"
    return handle


async def envelope_for(handle: WorkflowHandle, proposals: Proposals, provider: DocuSignProvider) -> str:
    """The envelope the workflow had the real activity create (in the emulator) on `accept`."""
    for _ in range(300):
        envelope_id = (await status(handle)).envelope_id
        if envelope_id:
            assert not envelope_id.startswith("local-")
            return envelope_id
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow created no envelope")


async def post(client: httpx.AsyncClient, body: bytes, *signatures: str) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    for number, signature in enumerate(signatures, start=1):
        headers[f"X-DocuSign-Signature-{number}"] = signature
    return await client.post(URL, content=body, headers=headers)


async def state_becomes(handle: WorkflowHandle, expected: str, timeout: float = 15.0) -> str:
    """The signal is handled asynchronously: wait (briefly) for the workflow to apply it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = (await status(handle)).state
        if state == expected or asyncio.get_running_loop().time() > deadline:
            return state
        await asyncio.sleep(0.1)


async def test_bad_or_missing_signature_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, proposals: Proposals, provider, emulator: DocuSignEmulator
) -> None:
    handle = await signing_proposal(proposals)
    envelope_id = await envelope_for(handle, proposals, provider)
    body = emulator.connect_message(envelope_id, "envelope-completed")

    tampered = body.replace(b"envelope-completed", b"envelope-completed ")
    attempts = [
        await post(client, body),  # no signature
        await post(client, body, "bm90LWEtc2lnbmF0dXJl"),  # wrong signature
        await post(client, body, connect_signature("some-other-key", body)),  # unknown key
        await post(client, tampered, connect_signature(HMAC_KEYS[0], body)),  # body changed after signing
    ]

    for response in attempts:
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"
    await asyncio.sleep(0.5)
    history = [e.event_type for e in (await handle.fetch_history()).events]
    assert (await status(handle)).state == "signing"
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED not in history


async def test_completed_envelope_signs_the_proposal_and_a_replay_is_harmless(
    client: httpx.AsyncClient, proposals: Proposals, provider, emulator: DocuSignEmulator
) -> None:
    handle = await signing_proposal(proposals)
    envelope_id = await envelope_for(handle, proposals, provider)
    body = emulator.connect_message(envelope_id, "envelope-completed")

    response = await post(client, body, connect_signature(HMAC_KEYS[0], body))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "signalled",
        "event": "envelope-completed",
        "envelope_id": envelope_id,
        "workflow_id": handle.id,
    }
    assert await state_becomes(handle, "signed") == "signed"
    signed_at = (await status(handle)).signed_at

    # Connect retries and replays: the same message again changes nothing and fails nothing.
    replay = await post(client, body, connect_signature(HMAC_KEYS[0], body))
    assert replay.status_code == 200 and replay.json()["status"] == "signalled"
    await asyncio.sleep(0.5)
    after = await status(handle)
    assert (after.state, after.signed_at) == ("signed", signed_at)


async def test_rotated_key_in_a_later_signature_header_is_accepted(
    client: httpx.AsyncClient, proposals: Proposals, provider, emulator: DocuSignEmulator
) -> None:
    handle = await signing_proposal(proposals)
    envelope_id = await envelope_for(handle, proposals, provider)
    body = emulator.connect_message(envelope_id, "envelope-completed")

    response = await post(
        client, body, connect_signature("retired-key", body), connect_signature(HMAC_KEYS[1], body)
    )

    assert response.status_code == 200, response.text
    assert await state_becomes(handle, "signed") == "signed"


@pytest.mark.parametrize("event", ["envelope-declined", "envelope-voided"])
async def test_declined_or_voided_envelope_abandons_signing(
    client: httpx.AsyncClient, proposals: Proposals, provider, emulator: DocuSignEmulator, event: str
) -> None:
    handle = await signing_proposal(proposals)
    envelope_id = await envelope_for(handle, proposals, provider)
    body = emulator.connect_message(envelope_id, event)

    response = await post(client, body, connect_signature(HMAC_KEYS[0], body))

    assert response.status_code == 200 and response.json()["status"] == "signalled"
    # abandon returns to the state signing started from (the buyer can take it up again).
    assert await state_becomes(handle, "viewed") == "viewed"


async def test_without_custom_fields_in_the_message_the_envelope_is_looked_up(
    client: httpx.AsyncClient, proposals: Proposals, provider, emulator: DocuSignEmulator
) -> None:
    """A Connect configuration without "custom fields" data still reaches the proposal."""
    handle = await signing_proposal(proposals)
    envelope_id = await envelope_for(handle, proposals, provider)
    body = emulator.connect_message(envelope_id, "envelope-completed", custom_fields=False)

    response = await post(client, body, connect_signature(HMAC_KEYS[0], body))

    assert response.status_code == 200 and response.json()["workflow_id"] == handle.id
    assert await state_becomes(handle, "signed") == "signed"
    assert emulator.calls("GET", rf"/envelopes/{envelope_id}/custom_fields$")


async def test_other_events_and_unknown_proposals_are_acknowledged(
    client: httpx.AsyncClient, migrated: Settings, temporal_env
) -> None:
    delivered = json.dumps({"event": "envelope-delivered", "data": {"envelopeId": "e-1"}}).encode()
    response = await post(client, delivered, connect_signature(HMAC_KEYS[0], delivered))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored" and response.json()["event"] == "envelope-delivered"

    # A proposal whose workflow does not exist (or is closed): 200, else Connect retries forever.
    missing = uuid.uuid4()
    gone = json.dumps(
        {
            "event": "envelope-completed",
            "data": {
                "envelopeId": "e-2",
                "envelopeSummary": {
                    "envelopeId": "e-2",
                    "customFields": {"textCustomFields": [{"name": "proposal_id", "value": str(missing)}]},
                },
            },
        }
    ).encode()
    response = await post(client, gone, connect_signature(HMAC_KEYS[0], gone))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ignored"
    assert response.json()["workflow_id"] == f"proposal-{missing}"
    assert "no running workflow" in response.json()["note"]


async def test_a_signed_body_that_is_not_json_is_a_400(client: httpx.AsyncClient) -> None:
    body = b"<DocuSignEnvelopeInformation/>"  # Connect configured for XML
    response = await post(client, body, connect_signature(HMAC_KEYS[0], body))
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]["message"]


async def test_buyer_signer_button_redirects_to_a_fresh_docusign_page_each_time(
    client: httpx.AsyncClient, proposals: Proposals, provider, emulator: DocuSignEmulator
) -> None:
    import re

    from carflow.links import buyer_token

    handle = await signing_proposal(proposals)
    await envelope_for(handle, proposals, provider)
    token = buyer_token(proposals.settings, proposal_id_from_workflow_id(handle.id))
    page = await client.get(f"/p/{token}")
    assert page.status_code == 200
    assert f'action="/p/{token}/docusign"' in page.text and "DocuSign" in page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    first = await client.post(f"/p/{token}/docusign", data={"csrf": csrf.group(1)})
    second = await client.post(f"/p/{token}/docusign", data={"csrf": csrf.group(1)})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"].startswith("https://")
    assert first.headers["location"] != second.headers["location"]  # single-use URLs
    forged = await client.post(f"/p/{token}/docusign", data={"csrf": "0" * 64})
    assert forged.status_code == 403
