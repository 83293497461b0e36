"""POST /proposals without a worker: validation, body limit, remote-sale option, creation, idempotency.

The workflow is started on the time-skipping server but nothing runs it, which is all
creation needs; tests needing the lifecycle are in test_proposals_lifecycle.py.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

import api.lifecycle_client as lifecycle_client
from db.models import IdempotencyRecord, Proposal, Seller
from workflows.proposal_contract import proposal_workflow_id

URL = "/api/v1/proposals"


def set_path(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        body = body[key]
    body[leaf] = value


def drop_path(body: dict[str, Any], path: str) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        body = body[key]
    del body[leaf]


def error_fields(response) -> set[str]:  # noqa: ANN001
    return {f["field"] for f in response.json()["error"]["fields"]}


INVALID_VALUES = [
    ("buyer.email", "not-an-email"),
    ("buyer.email", "jeanne@"),
    ("buyer.mobile", "01 23 45 67 89"),  # a landline, not a mobile
    ("buyer.mobile", "+44 7700 900123"),
    ("buyer.mobile", "06 12 34"),
    ("buyer.mobile", 612345678),
    ("buyer.first_name", ""),
    ("buyer.first_name", "x" * 101),
    ("buyer.last_name", "Dupont\r\nBcc: victim@example.com"),
    ("buyer.address.postal_code", "7500"),
    ("buyer.address.postal_code", "75O02"),
    ("vehicle.vin", "VF3LCYHZPHS12345"),  # 16 characters
    ("vehicle.vin", "VF3LCYHZPHS12345O"),  # letter O
    ("vehicle.vin", "VF3LCYHZPHS12345!"),
    ("vehicle.registration", "123 ABC 75"),  # the old FNI format
    ("vehicle.registration", "AI-123-CD"),
    ("vehicle.registration", "AB-000-CD"),
    ("vehicle.first_registration", "2999-01-01"),
    ("vehicle.first_registration", "01/03/2021"),
    ("vehicle.mileage_km", -1),
    ("vehicle.mileage_km", 2_000_001),
    ("product.price_cents", -1),
    ("product.price_cents", 499.5),
    ("product.price_cents", "49900"),
    ("product.kind", "car"),
    ("product.duration_months", 0),
    ("product.duration_months", 121),
    ("product.label", "x" * 201),
    ("seller.email", "paul at garage"),
    ("seller.phone", "12"),
    ("send", "yes"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_VALUES)
async def test_invalid_value_is_422_naming_the_field(
    client, dealers, new_body, count_rows, path: str, value: Any
) -> None:
    body = new_body()
    set_path(body, path, value)
    response = await client.post(URL, json=body, headers=dealers.a.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert error_fields(response) == {path}
    assert await count_rows() == 0


@pytest.mark.parametrize(
    "path", ["product", "buyer.email", "buyer.address.city", "vehicle.vin", "seller.name"]
)
async def test_missing_field_is_422_naming_it(client, dealers, new_body, path: str) -> None:
    body = new_body()
    drop_path(body, path)
    response = await client.post(URL, json=body, headers=dealers.a.headers)
    assert response.status_code == 422
    assert error_fields(response) == {path}


@pytest.mark.parametrize("path", ["discount_cents", "buyer.nickname", "vehicle.colour"])
async def test_unknown_field_is_422(client, dealers, new_body, path: str) -> None:
    body = new_body()
    set_path(body, path, "x")
    response = await client.post(URL, json=body, headers=dealers.a.headers)
    assert response.status_code == 422
    assert error_fields(response) == {path}


async def test_messages_say_what_is_expected(client, dealers, new_body) -> None:
    body = new_body()
    body["buyer"]["mobile"] = "01 23 45 67 89"
    body["vehicle"]["vin"] = "VF3LCYHZPHS12345O"
    response = await client.post(URL, json=body, headers=dealers.a.headers)
    messages = {f["field"]: f["message"] for f in response.json()["error"]["fields"]}
    assert "French mobile" in messages["buyer.mobile"]
    assert "I, O or Q" in messages["vehicle.vin"]


async def test_non_object_and_malformed_bodies_are_422(client, dealers) -> None:
    for content in (b"[1, 2]", b"{oops", b'"text"'):
        response = await client.post(
            URL, content=content, headers={**dealers.a.headers, "content-type": "application/json"}
        )
        assert response.status_code == 422, content


async def test_huge_body_is_413_not_parsed(client, dealers, new_body, count_rows) -> None:
    body = new_body()
    body["product"]["label"] = "x" * (70 * 1024)
    response = await client.post(URL, json=body, headers=dealers.a.headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert await count_rows() == 0


async def test_huge_chunked_body_without_length_is_413(client, dealers) -> None:
    async def chunks():  # noqa: ANN202 - no Content-Length: the limit must count the bytes
        for _ in range(100):
            yield b" " * 1024

    response = await client.post(
        URL, content=chunks(), headers={**dealers.a.headers, "content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_huge_patch_body_is_413(client, dealers) -> None:
    response = await client.patch(
        f"{URL}/{uuid.uuid4()}", json={"buyer": {"email": "a" * 70_000}}, headers=dealers.a.headers
    )
    assert response.status_code == 413


async def test_dealer_without_remote_sale_gets_403_in_french_and_nothing_is_created(
    app, client, dealers, new_body, count_rows, monkeypatch
) -> None:
    started: list[object] = []

    async def record(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        started.append(args)

    # At the edge: Temporal's own client records any workflow start.
    monkeypatch.setattr(Client, "start_workflow", record)
    for body in (new_body(), new_body(send=True), {"garbage": True}):
        response = await client.post(
            URL, json=body, headers={**dealers.no_remote.headers, "Idempotency-Key": "k1"}
        )
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "remote_sale_disabled"
        assert "commercial" in error["message"]
        assert "vente à distance" in error["message"]
    assert (await count_rows(Proposal), await count_rows(Seller), await count_rows(IdempotencyRecord)) == (
        0,
        0,
        0,
    )
    assert started == []


async def test_other_roles_and_anonymous_cannot_create(client, new_body) -> None:
    response = await client.post(URL, json=new_body())
    assert response.status_code == 401


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


async def test_overlong_idempotency_key_is_422(client, dealers, new_body) -> None:
    response = await client.post(
        URL, json=new_body(), headers={**dealers.a.headers, "Idempotency-Key": "k" * 201}
    )
    assert response.status_code == 422
    assert error_fields(response) == {"Idempotency-Key"}


async def test_workflow_start_failure_is_503_and_leaves_nothing(
    client, dealers, new_body, count_rows, monkeypatch
) -> None:
    async def refuse(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    async def absent(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")

    # At the edge: Temporal refuses the start, and then knows no such workflow.
    monkeypatch.setattr(Client, "start_workflow", refuse)
    monkeypatch.setattr(WorkflowHandle, "describe", absent)
    response = await client.post(
        URL, json=new_body(), headers={**dealers.a.headers, "Idempotency-Key": "order-44"}
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


async def test_a_send_that_cannot_finish_yet_is_pending_and_the_draft_is_shown(
    client, dealers, new_body, count_rows, monkeypatch
) -> None:
    # No worker polls the task queue (no `worker` fixture): sending cannot finish for now.
    monkeypatch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(seconds=2))
    response = await client.post(URL, json=new_body(send=True), headers=dealers.a.headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["state"] == "draft" and body["contract_number"].startswith("CF")
    assert body["pending"]["event"] == "send_to_buyer"
    assert response.headers["location"] == f"/api/v1/proposals/{body['id']}"
    assert await count_rows() == 1  # kept: the draft and its workflow are real
