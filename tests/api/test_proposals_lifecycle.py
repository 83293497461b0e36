"""The dealer API driving real ProposalWorkflows: a worker on the time-skipping server, a real
SMTP sink. Each test gets its own Temporal server (see tests/conftest.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select

from db.models import Proposal
from support import eventually
from workflows.proposal_contract import (
    EventRequest,
    ProposalStatus,
    proposal_workflow_id,
)

URL = "/api/v1/proposals"


async def create(client, dealers, body: dict, **headers: str) -> dict:  # noqa: ANN001
    response = await client.post(URL, json=body, headers={**dealers.a.headers, **headers})
    assert response.status_code == 201, response.text
    return response.json()


async def read_row(session_factory, proposal_id: str) -> Proposal:  # noqa: ANN001
    async with session_factory() as session:
        row = await session.get(Proposal, uuid.UUID(proposal_id))
        assert row is not None
        return row


async def test_create_and_send_answers_sent_and_mails_the_buyer(
    client, dealers, new_body, worker, sink, session_factory
) -> None:
    created = await create(client, dealers, new_body(send=True))
    assert created["state"] == "sent"
    assert created["sent_count"] == 1
    assert created["status_source"] == "workflow"
    assert "cancel" in created["allowed_events"] and "send_to_buyer" not in created["allowed_events"]
    # Validity now runs from the first sending.
    first_sent = datetime.fromisoformat(created["first_sent_at"])
    assert (datetime.fromisoformat(created["expires_at"]) - first_sent).days == 30

    row = await read_row(session_factory, created["id"])
    assert row.state == "sent"  # the read model was written before the update answered

    async def mailed() -> bool:
        return "jeanne.dupont@example.com" in sink.recipients()

    await eventually(mailed)


async def test_draft_then_send(client, dealers, new_body, worker) -> None:
    created = await create(client, dealers, new_body())
    assert created["state"] == "draft"
    detail = (await client.get(f"{URL}/{created['id']}", headers=dealers.a.headers)).json()
    # A read never asks the workflow: the read model and the machine answer.
    assert detail["status_source"] == "read_model"
    assert detail["allowed_events"] == ["cancel", "send_to_buyer", "start_in_person"]

    sent = await client.post(f"{URL}/{created['id']}/send", headers=dealers.a.headers)
    assert sent.status_code == 200, sent.text
    assert sent.json()["state"] == "sent"

    again = await client.post(f"{URL}/{created['id']}/send", headers=dealers.a.headers)
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert error["message"] == "cannot send a proposal in state sent"
    assert error["state"] == "sent"
    assert "resend" in error["allowed_events"]

    listed = (await client.get(URL, params={"state": "sent"}, headers=dealers.a.headers)).json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]


async def test_resend_keeps_validity(client, dealers, new_body, worker) -> None:
    created = await create(client, dealers, new_body(send=True))
    resent = await client.post(f"{URL}/{created['id']}/resend", headers=dealers.a.headers)
    assert resent.status_code == 200, resent.text
    assert resent.json()["sent_count"] == 2
    assert resent.json()["expires_at"] == created["expires_at"]


async def test_cancel_then_cancel_again(client, dealers, new_body, worker) -> None:
    created = await create(client, dealers, new_body(send=True))
    cancelled = await client.post(f"{URL}/{created['id']}/cancel", headers=dealers.a.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["allowed_events"] == []

    again = await client.post(f"{URL}/{created['id']}/cancel", headers=dealers.a.headers)
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert error["message"] == "cannot cancel a proposal in state cancelled"
    assert (error["state"], error["allowed_events"]) == ("cancelled", [])

    detail = (await client.get(f"{URL}/{created['id']}", headers=dealers.a.headers)).json()
    assert (detail["state"], detail["allowed_events"]) == ("cancelled", [])


async def test_idempotent_create_makes_one_proposal_one_workflow_one_mail(
    client, dealers, new_body, worker, session_factory, temporal_env
) -> None:
    body = new_body(send=True)
    first = await create(client, dealers, body, **{"Idempotency-Key": "sale-1"})
    second_response = await client.post(
        URL, json=body, headers={**dealers.a.headers, "Idempotency-Key": "sale-1"}
    )
    assert second_response.status_code == 201
    second = second_response.json()
    assert second["id"] == first["id"]
    assert second_response.headers["idempotent-replayed"] == "true"
    assert (second["state"], second["sent_count"]) == ("sent", 1)  # not sent twice

    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Proposal)) == 1
    handle = temporal_env.client.get_workflow_handle(proposal_workflow_id(first["id"]))
    history = await handle.fetch_history()
    started = [e for e in history.events if e.HasField("workflow_execution_started_event_attributes")]
    assert len(started) == 1

    reused = await client.post(
        URL, json=new_body(send=False), headers={**dealers.a.headers, "Idempotency-Key": "sale-1"}
    )
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


async def test_replace_creates_the_new_one_and_cancels_the_old(
    client, dealers, new_body, worker, session_factory
) -> None:
    old = await create(client, dealers, new_body(send=True))
    replacement = new_body(send=True)
    replacement["buyer"]["last_name"] = "Dupont-Moreau"
    replacement["buyer"]["address"]["city"] = "Lyon"
    replacement["buyer"]["address"]["postal_code"] = "69001"
    response = await client.post(f"{URL}/{old['id']}/replace", json=replacement, headers=dealers.a.headers)
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["id"] != old["id"]
    assert new["replaces_id"] == old["id"]
    assert new["state"] == "sent"
    assert new["buyer"]["last_name"] == "Dupont-Moreau"

    old_now = (await client.get(f"{URL}/{old['id']}", headers=dealers.a.headers)).json()
    assert old_now["state"] == "cancelled"
    assert (await read_row(session_factory, old["id"])).state == "cancelled"

    # The old one is cancelled now: it cannot be replaced a second time.
    twice = await client.post(f"{URL}/{old['id']}/replace", json=replacement, headers=dealers.a.headers)
    assert twice.status_code == 409
    assert twice.json()["error"]["message"] == "cannot replace a proposal in state cancelled"


async def test_patch_email_while_sent_resends_to_the_new_address(
    client, dealers, new_body, worker, sink, session_factory
) -> None:
    created = await create(client, dealers, new_body(send=True))
    response = await client.patch(
        f"{URL}/{created['id']}",
        json={"buyer": {"email": "jeanne.nouvelle@example.com"}},
        headers=dealers.a.headers,
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["buyer"]["email"] == "jeanne.nouvelle@example.com"
    assert (patched["state"], patched["sent_count"]) == ("sent", 2)
    assert patched["expires_at"] == created["expires_at"]  # resending never extends validity

    async def mailed_to_new_address() -> bool:
        return "jeanne.nouvelle@example.com" in sink.recipients()

    await eventually(mailed_to_new_address)

    # A mobile correction alone resends nothing.
    mobile = await client.patch(
        f"{URL}/{created['id']}", json={"buyer": {"mobile": "0711223344"}}, headers=dealers.a.headers
    )
    assert mobile.status_code == 200
    assert mobile.json()["sent_count"] == 2


async def test_patch_while_signing_is_refused(client, dealers, new_body, worker, temporal_env) -> None:
    created = await create(client, dealers, new_body(send=True))
    handle = temporal_env.client.get_workflow_handle(proposal_workflow_id(created["id"]))
    await handle.execute_update("start_in_person", EventRequest(actor="dealer"), result_type=ProposalStatus)
    response = await client.patch(
        f"{URL}/{created['id']}", json={"buyer": {"email": "x@example.com"}}, headers=dealers.a.headers
    )
    assert response.status_code == 409
    assert (response.json()["error"]["code"], response.json()["error"]["state"]) == (
        "not_editable",
        "signing",
    )


async def test_withdrawal_on_the_buyers_behalf(client, dealers, new_body, worker, temporal_env) -> None:
    created = await create(client, dealers, new_body(send=True))
    early = await client.post(f"{URL}/{created['id']}/withdrawal", headers=dealers.a.headers)
    assert early.status_code == 409
    assert early.json()["error"]["message"] == "cannot withdraw a proposal in state sent"

    handle = temporal_env.client.get_workflow_handle(proposal_workflow_id(created["id"]))
    for event in ("start_in_person", "sign"):  # face to face, at the dealer's desk
        await handle.execute_update(event, EventRequest(actor="dealer"), result_type=ProposalStatus)
    signed = (await client.get(f"{URL}/{created['id']}", headers=dealers.a.headers)).json()
    assert signed["state"] == "signed"
    assert signed["allowed_events"] == ["withdraw"]
    assert signed["withdrawal_deadline"] is not None

    withdrawn = await client.post(f"{URL}/{created['id']}/withdrawal", headers=dealers.a.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"

    cancel = await client.post(f"{URL}/{created['id']}/cancel", headers=dealers.a.headers)
    assert cancel.status_code == 409
    assert cancel.json()["error"]["state"] == "withdrawn"


async def test_other_dealer_cannot_touch_a_live_proposal(client, dealers, new_body, worker) -> None:
    created = await create(client, dealers, new_body(send=True))
    for path in ("cancel", "send", "resend", "withdrawal"):
        response = await client.post(f"{URL}/{created['id']}/{path}", headers=dealers.b.headers)
        assert response.status_code == 404
    detail = (await client.get(f"{URL}/{created['id']}", headers=dealers.a.headers)).json()
    assert (detail["state"], detail["sent_count"]) == ("sent", 1)


async def test_an_action_a_stopped_worker_cannot_take_is_not_applied_then_a_retry_happens(
    client, dealers, new_body, monkeypatch, temporal_env, migrated, session_factory
) -> None:
    """No worker polls the task queue at first: the send is not taken in time, so the API
    says it was not applied (true: the worker refuses it when it comes back,
    workflows/update_deadline.py), and the same request sent again happens once."""
    import asyncio
    import time
    from datetime import timedelta

    import api.lifecycle_client as lifecycle_client
    from support import Sink
    from worker import create_worker

    monkeypatch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(seconds=2))
    created = await client.post("/api/v1/proposals", json=new_body(), headers=dealers.a.headers)
    assert created.status_code == 201
    proposal_id = created.json()["id"]
    started = time.monotonic()
    sent = await client.post(f"{URL}/{proposal_id}/send", headers=dealers.a.headers)

    assert time.monotonic() - started < 10  # the bound, not a hung request
    assert sent.status_code == 503, sent.text
    assert sent.json()["error"]["code"] == "action_not_applied"
    assert sent.headers["Retry-After"]

    sink = Sink(migrated)
    sink.start()
    try:
        async with create_worker(temporal_env.client, migrated, session_factory=session_factory):
            # The worker comes back and refuses the late copy: nothing was sent.
            await asyncio.sleep(2.0)
            detail = (await client.get(f"{URL}/{proposal_id}", headers=dealers.a.headers)).json()
            assert (detail["state"], detail["sent_count"]) == ("draft", 0)
            assert "jeanne.dupont@example.com" not in sink.recipients()
            monkeypatch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(seconds=30))
            again = await client.post(f"{URL}/{proposal_id}/send", headers=dealers.a.headers)
            assert again.status_code == 200, again.text

            async def sent_once() -> bool:
                detail = (await client.get(f"{URL}/{proposal_id}", headers=dealers.a.headers)).json()
                return bool(detail["state"] == "sent" and detail["sent_count"] == 1)

            async def mailed() -> bool:
                return "jeanne.dupont@example.com" in sink.recipients()

            await eventually(sent_once)
            await eventually(mailed)
    finally:
        sink.stop()


async def test_reading_a_proposal_never_waits_for_the_worker(client, dealers, new_body) -> None:
    """No worker polls the task queue: the workflow exists but could answer no query."""
    import time

    created = await create(client, dealers, new_body())
    started = time.monotonic()
    detail = await client.get(f"{URL}/{created['id']}", headers=dealers.a.headers)
    listed = await client.get(URL, headers=dealers.a.headers)

    assert time.monotonic() - started < 1.5  # a workflow query would wait for its 3 s bound
    assert detail.status_code == 200 and listed.status_code == 200
    assert (detail.json()["state"], detail.json()["status_source"]) == ("draft", "read_model")
    assert detail.json()["allowed_events"] == ["cancel", "send_to_buyer", "start_in_person"]
