"""Done when: the SMTP sink fails, the proposal shows up as stuck with the SMTP reason; after
the sink is back, the ADV retry sends the mail exactly once and the proposal goes on.

Time-skipping server, the real worker and activities, a real SMTP sink that is stopped and
started again, and the ADV endpoints of the real app.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
from proposal_harness import Proposals, fire, status

from support import Sink
from workflows.proposal_contract import proposal_id_from_workflow_id

URL = "/api/v1/adv/workflows"


async def stuck_items(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    response = await client.get(URL, params={"stuck": "true"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "total", "page", "page_size", "next_cursor"}
    return body["items"]


async def test_smtp_outage_shows_stuck_then_adv_retry_sends_once(
    proposals: Proposals, sink: Sink, client: httpx.AsyncClient, tokens, migrated
) -> None:
    sink.stop()
    handle = await proposals.create(send_now=True)
    proposal_id = proposal_id_from_workflow_id(handle.id)
    smtp = f"SMTP {migrated.smtp_host}:{migrated.smtp_port} refused connection"

    # 1. While the activity retries, it shows up as failing, with the SMTP message.
    for _ in range(40):
        items = await stuck_items(client, tokens.adv)
        if items:
            break
        await proposals.env.sleep(timedelta(seconds=15))
    [item] = items
    assert (item["kind"], item["id"], item["workflow_id"]) == ("proposal", proposal_id, handle.id)
    assert item["cause"] == "activity_failing" and item["activity"] == "send_proposal_email"
    assert smtp in item["reason"] and f"{handle.id}:proposal_sent:1" in item["reason"]
    assert item["attempts"] >= migrated.adv_stuck_attempts + 1
    assert item["state"] == "sent" and item["stuck"] is True
    assert item["since"] is not None
    assert item["temporal_ui_url"] == (
        f"{migrated.temporal_ui_url}/namespaces/{migrated.temporal_namespace}/workflows/{handle.id}"
    )
    assert "Marie Curie" in item["label"]

    # 2. After the retry budget, the workflow gives up on the email and waits for ADV.
    for _ in range(60):
        if (await status(handle)).email_failed:
            break
        await proposals.env.sleep(timedelta(minutes=1))
    # The list reads the read model, one projection activity behind the workflow's flag.
    for _ in range(100):
        if (await proposals.row(handle)).email_failed:
            break
        await asyncio.sleep(0.05)
    [item] = await stuck_items(client, tokens.adv)
    assert item["cause"] == "email_failed" and item["email_failed"] is True
    assert smtp in item["reason"]
    assert item["attempts"] == 8  # the outbox row's send attempts
    assert datetime.fromisoformat(item["since"]).tzinfo is not None
    assert (await proposals.row(handle)).state == "sent"  # still valid, nothing lost
    assert sink.messages() == []

    # 3. The sink is back: the ADV retry sends the mail once, and the proposal goes on.
    sink.start()
    retried = await client.post(f"/api/v1/adv/proposals/{proposal_id}/retry", headers=tokens.adv)
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert body["result"] == "done" and "signal retry_emails" in body["actions"]
    for _ in range(100):
        row = await proposals.row(handle)
        if sink.messages() and not row.email_failed:
            break
        await asyncio.sleep(0.1)
    assert sink.recipients() == ["marie@example.com"]
    assert (row.email_failed, row.email_error) == (False, None)
    assert await stuck_items(client, tokens.adv) == []

    viewed = await fire(handle, "view", actor="buyer")  # the proposal goes on
    assert viewed.state == "viewed"
    # A second retry finds nothing failing and sends nothing more.
    again = await client.post(f"/api/v1/adv/proposals/{proposal_id}/retry", headers=tokens.adv)
    assert again.status_code == 200
    await fire(handle, "cancel")
    await handle.result()
    assert len(sink.messages()) == 1

    audit = (await client.get("/api/v1/adv/audit", headers=tokens.adv)).json()
    assert audit["total"] == 2
    first = audit["items"][-1]
    assert (first["staff_name"], first["workflow_id"], first["result"]) == ("Alice ADV", handle.id, "done")
    assert smtp in first["detail"]  # what was wrong when the retry was asked
