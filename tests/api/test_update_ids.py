"""Every action's update id comes from the request: a retry attaches to the same update.

Real ProposalWorkflows on a worker, a real SMTP sink; Temporal's outage is faked at the edge
(the SDK's client calls raise UNAVAILABLE, as they do when the frontend is down).
"""

from __future__ import annotations

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.update_ids import update_id_for
from support import eventually

URL = "/api/v1/proposals"
BUYER = "jeanne.dupont@example.com"


def mails_to_buyer(sink) -> int:  # noqa: ANN001
    return sink.recipients().count(BUYER)


async def test_the_same_action_twice_with_one_key_is_one_update_and_one_email(
    client, dealers, new_body, worker, sink
) -> None:
    created = await client.post(URL, json=new_body(send=True), headers=dealers.a.headers)
    assert created.status_code == 201, created.text
    proposal_id = created.json()["id"]
    await eventually(lambda: _async(mails_to_buyer(sink) == 1))

    keyed = {**dealers.a.headers, "Idempotency-Key": "resend-1"}
    first = await client.post(f"{URL}/{proposal_id}/resend", headers=keyed)
    second = await client.post(f"{URL}/{proposal_id}/resend", headers=keyed)
    assert first.status_code == second.status_code == 200, second.text
    # The retry got the first outcome: one resend, not two.
    assert first.json()["sent_count"] == second.json()["sent_count"] == 2

    # Done again deliberately (no key, a newer version): a new update.
    third = await client.post(f"{URL}/{proposal_id}/resend", headers=dealers.a.headers)
    assert third.json()["sent_count"] == 3
    await eventually(lambda: _async(mails_to_buyer(sink) == 3))
    assert mails_to_buyer(sink) == 3  # initial + one per distinct resend, none duplicated


async def _async(value: bool) -> bool:
    return value


def test_update_ids_from_key_or_version() -> None:
    assert update_id_for("resend", 4) == "resend/v4"
    assert update_id_for("resend", None) is None


async def test_retried_create_while_temporal_is_down_is_503_then_the_next_retry_sends(
    client, dealers, new_body, worker, sink, monkeypatch
) -> None:
    async def down(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    async def started_then_down(self, *args, start_workflow_operation, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        # Temporal goes down after the workflow started, before the send reached it (the SDK
        # keeps the start of an update-with-start as this input).
        start = start_workflow_operation._start_workflow_input
        await self.start_workflow(
            start.workflow,
            *start.args,
            id=start.id,
            task_queue=start.task_queue,
            id_conflict_policy=start.id_conflict_policy,
            search_attributes=start.search_attributes,
        )
        await down(self)

    headers = {**dealers.a.headers, "Idempotency-Key": "sale-down"}
    body = new_body(send=True)
    real_start_update = WorkflowHandle.start_update
    monkeypatch.setattr(WorkflowHandle, "start_update", down)
    monkeypatch.setattr(Client, "start_update_with_start_workflow", started_then_down)
    first = await client.post(URL, json=body, headers=headers)
    assert first.status_code == 503, first.text
    assert first.json()["error"]["code"] == "send_failed"

    # Retried while it is still down: a clear 503, not a 500.
    monkeypatch.setattr(Client, "start_workflow", down)
    retried = await client.post(URL, json=body, headers=headers)
    assert retried.status_code == 503, retried.text
    error = retried.json()["error"]
    assert error["code"] == "temporal_unavailable"
    assert error["proposal_id"] == first.json()["error"]["proposal_id"]
    assert retried.headers["retry-after"]

    # Temporal is back: the next retry sends (not a draft with nothing sent), once.
    monkeypatch.undo()
    assert WorkflowHandle.start_update is real_start_update
    again = await client.post(URL, json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert (again.json()["state"], again.json()["sent_count"]) == ("sent", 1)
    await eventually(lambda: _async(mails_to_buyer(sink) == 1))
    last = await client.post(URL, json=body, headers=headers)
    assert (last.json()["state"], last.json()["sent_count"]) == ("sent", 1)


@pytest.mark.parametrize("key", ["k1", "another key"])
def test_a_key_is_hashed_into_the_id(key: str) -> None:
    from api import update_ids

    token = update_ids._request_key.set(key)
    try:
        update_id = update_id_for("accept", 7)
    finally:
        update_ids._request_key.reset(token)
    assert update_id is not None and update_id.startswith("accept/key/") and key not in update_id
