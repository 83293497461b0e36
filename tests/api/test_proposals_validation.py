"""POST /proposals refused before anything is written: validation, body limits, the
remote-sale option, who may create.

Every test here only reads (or is refused), so they share one stack and one set of dealers,
made once for the module (read_only.py); count_rows() == 0 holds for the whole module.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import read_only
from temporalio.client import Client

from db.models import IdempotencyRecord, Proposal, Seller

pytestmark = pytest.mark.asyncio(loop_scope="module")
session_factory = read_only.session_factory
app = read_only.app
client = read_only.client
dealers = read_only.dealers

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
    # A control character (a header injection) has its own code, whichever layer refused it.
    expected = "control_character" if "\n" in str(value) else "validation_error"
    assert response.json()["error"]["code"] == expected
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

    # At the edge: Temporal's own client records any workflow start (alone or with an update).
    monkeypatch.setattr(Client, "start_workflow", record)
    monkeypatch.setattr(Client, "start_update_with_start_workflow", record)
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


async def test_overlong_idempotency_key_is_422(client, dealers, new_body) -> None:
    response = await client.post(
        URL, json=new_body(), headers={**dealers.a.headers, "Idempotency-Key": "k" * 201}
    )
    assert response.status_code == 422
    assert error_fields(response) == {"Idempotency-Key"}
