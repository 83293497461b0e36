"""POST /proposals without a worker: creation, seller profiles, idempotency, failures after writing.

Refusals before anything is written (validation, body limits, the remote-sale option, roles)
are in test_proposals_validation.py, on one shared stack.

The workflow is started on the time-skipping server but nothing runs it, which is all
creation needs; tests needing the lifecycle are in test_proposals_lifecycle.py.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

import api.lifecycle_client as lifecycle_client
from db.models import IdempotencyRecord, Proposal, Seller
from workflows.proposal_contract import proposal_workflow_id

URL = "/api/v1/proposals"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_create_without_send_is_a_draft_with_its_workflow(
    client, dealers, new_body, session_factory, temporal_env
) -> None:
    response = await client.post(URL, json=new_body(), headers=dealers.a.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["state"] == "draft"
    assert re.fullmatch(r"CF[0-9]{10}", created["contract_number"])
    # Normalised on the way in.
    assert created["buyer"]["mobile"] == "+33612345678"
    assert created["vehicle"]["vin"] == "VF3LCYHZPHS123456"
    assert created["vehicle"]["registration"] == "AB-123-CD"
    assert created["seller"]["phone"] == "+33123456789"

    async with session_factory() as session:
        row = await session.get(Proposal, uuid.UUID(created["id"]))
        assert row is not None
        assert row.dealer_id == dealers.a.id
        assert row.state == "draft"
        # A devis lapses 30 days after it was saved.
        assert row.expires_at - row.created_at == timedelta(days=30)
        assert row.buyer_token_hash
        seller = (await session.scalars(select(Seller))).all()
        assert len(seller) == 1

    description = await temporal_env.client.get_workflow_handle(
        proposal_workflow_id(created["id"])
    ).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.workflow_type == "ProposalWorkflow"


@pytest.mark.parametrize("mobile", ["06 12 34 56 78", "+33612345678", "0612345678", "+33 (0)6 12 34 56 78"])
async def test_french_mobile_spellings_are_accepted(client, dealers, new_body, mobile: str) -> None:
    body = new_body()
    body["buyer"]["mobile"] = mobile
    response = await client.post(URL, json=body, headers=dealers.a.headers)
    assert response.status_code == 201, response.text
    assert response.json()["buyer"]["mobile"] == "+33612345678"


async def test_seller_profile_is_saved_and_offered_again(client, dealers, new_body) -> None:
    assert (await client.post(URL, json=new_body(), headers=dealers.a.headers)).status_code == 201
    second = new_body()
    second["seller"] = {"name": "Paul V.", "email": "paul@garage-nord.example.com"}
    assert (await client.post(URL, json=second, headers=dealers.a.headers)).status_code == 201
    third = new_body()
    third["seller"] = {"name": "Lucie Vente", "email": "lucie@garage-nord.example.com"}
    assert (await client.post(URL, json=third, headers=dealers.a.headers)).status_code == 201

    sellers = (await client.get("/api/v1/sellers", headers=dealers.a.headers)).json()
    assert sellers["total"] == 2
    assert [s["name"] for s in sellers["items"]] == ["Lucie Vente", "Paul V."]
    # A phone given once is kept when a later sale leaves it out.
    assert sellers["items"][1]["phone"] == "+33123456789"
    assert (await client.get("/api/v1/sellers", headers=dealers.b.headers)).json()["items"] == []


async def test_same_idempotency_key_and_body_returns_the_same_proposal(
    client, dealers, new_body, count_rows, worker
) -> None:
    headers = {**dealers.a.headers, "Idempotency-Key": "order-42"}
    first = await client.post(URL, json=new_body(), headers=headers)
    # Spelled differently, same request once normalised.
    body = new_body()
    body["buyer"]["mobile"] = "+33612345678"
    second = await client.post(URL, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert await count_rows() == 1
    # Another dealer's identical key is theirs alone.
    other = await client.post(
        URL, json=new_body(), headers={**dealers.b.headers, "Idempotency-Key": "order-42"}
    )
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


async def test_same_idempotency_key_with_another_body_is_409(client, dealers, new_body, count_rows) -> None:
    headers = {**dealers.a.headers, "Idempotency-Key": "order-43"}
    assert (await client.post(URL, json=new_body(), headers=headers)).status_code == 201
    body = new_body()
    body["product"]["price_cents"] = 59900
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert await count_rows() == 1


@pytest.mark.parametrize("send", [False, True], ids=["draft", "sent-on-create"])
async def test_workflow_start_failure_is_503_and_leaves_nothing(
    client, dealers, new_body, count_rows, monkeypatch, send: bool
) -> None:
    async def refuse(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    async def absent(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")

    # At the edge: Temporal refuses the start (alone, or with the send in one call), and
    # then knows no such workflow.
    monkeypatch.setattr(Client, "start_workflow", refuse)
    monkeypatch.setattr(Client, "start_update_with_start_workflow", refuse)
    monkeypatch.setattr(WorkflowHandle, "describe", absent)
    response = await client.post(
        URL, json=new_body(send=send), headers={**dealers.a.headers, "Idempotency-Key": "order-44"}
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "temporal_unavailable"
    assert (await count_rows(Proposal), await count_rows(IdempotencyRecord), await count_rows(Seller)) == (
        0,
        0,
        0,
    )


async def test_concurrent_requests_with_one_key_create_one_proposal(
    client, dealers, new_body, count_rows, worker
) -> None:
    headers = {**dealers.a.headers, "Idempotency-Key": "double-click"}
    responses = await asyncio.gather(*(client.post(URL, json=new_body(), headers=headers) for _ in range(3)))
    assert [r.status_code for r in responses] == [201, 201, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count_rows() == 1


async def test_a_send_no_worker_takes_in_time_is_a_true_not_sent_and_the_draft_is_kept(
    client, dealers, new_body, count_rows, monkeypatch
) -> None:
    # No worker polls the task queue (no `worker` fixture): sending cannot finish for now.
    monkeypatch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(seconds=2))
    response = await client.post(URL, json=new_body(send=True), headers=dealers.a.headers)
    # Not taken in time, so refused by the worker when it comes (workflows/update_deadline.py):
    # "saved as draft, not sent" is now true, and says how to send it.
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert (error["code"], error["cause"]) == ("send_failed", "action_not_applied")
    assert error["contract_number"].startswith("CF")
    assert await count_rows() == 1  # kept: the draft and its workflow are real


async def test_sellers_most_recently_used_first_and_own_only(client, dealers, session_factory) -> None:
    async with session_factory() as session:
        for name, dealer, hours in (
            ("Ancien", dealers.a, 0),
            ("Récent", dealers.a, 5),
            ("Autre", dealers.b, 9),
        ):
            session.add(
                Seller(
                    dealer_id=dealer.id,
                    name=name,
                    email=f"{hours}@example.com",
                    created_at=T0,
                    last_used_at=T0 + timedelta(hours=hours),
                )
            )
        await session.commit()
    body = (await client.get("/api/v1/sellers", headers=dealers.a.headers)).json()
    assert [s["name"] for s in body["items"]] == ["Récent", "Ancien"]
    assert (body["total"], body["page"], body["page_size"]) == (2, 1, 20)
