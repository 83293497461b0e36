"""POST /api/v1/inspections with bad input: a 422 naming the field, nothing created.

Every test here is refused, so they share one stack and one inspector, made once for the
module (read_only.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import read_only
from listings_harness import intake_body

pytestmark = pytest.mark.asyncio(loop_scope="module")
client = read_only.client
inspector = read_only.inspector


def _with(path: str, value: Any) -> dict[str, Any]:
    body = intake_body()
    target: Any = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return body


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("vehicle.mileage_km", -10, "vehicle.mileage_km"),
        ("vehicle.mileage_km", 25_000_000, "vehicle.mileage_km"),
        ("vehicle.mileage_km", "lots", "vehicle.mileage_km"),
        ("vehicle.registration", "not a plate", "vehicle.registration"),
        ("vehicle.vin", "VF3LCYHZPHS12345O", "vehicle.vin"),
        ("vehicle.first_registration", "2999-01-01", "vehicle.first_registration"),
        ("vehicle.make", "", "vehicle.make"),
        ("owner.email", "not-an-email", "owner.email"),
        ("owner.first_name", "Marie\r\nBcc: x@example.com", "owner.first_name"),
        ("report.inspected_at", "2999-01-01T10:00:00+01:00", "report.inspected_at"),
        ("report.checkpoints", [], "report.checkpoints"),
        ("report.checkpoints.0.grade", "superb", "report.checkpoints.0.grade"),
        ("report.checkpoints.0.comment", "x" * 2001, "report.checkpoints.0.comment"),
        ("report.summary", "x" * 5001, "report.summary"),
        ("report.summary", _DELETE, "report.summary"),
        ("report.photos", [{"url": "javascript:alert(1)"}], "report.photos.0.url"),
        ("listing.price_cents", -100, "listing.price_cents"),
        ("listing.price_cents", 10**12, "listing.price_cents"),
        ("listing.location", "x" * 201, "listing.location"),
        ("owner.nickname", "x", "owner.nickname"),
    ],
)
async def test_bad_intake_is_a_422_naming_the_field(
    client: httpx.AsyncClient, inspector: dict, path: str, value: Any, field: str
) -> None:
    response = await client.post("/api/v1/inspections", json=_with(path, value), headers=inspector)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == ("control_character" if "\n" in str(value) else "validation_error")
    assert field in [f["field"] for f in error["fields"]], error


async def test_malformed_json_is_a_clear_error(client: httpx.AsyncClient, inspector: dict) -> None:
    response = await client.post(
        "/api/v1/inspections", content=b"{not json", headers={**inspector, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
