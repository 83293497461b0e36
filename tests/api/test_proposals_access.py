"""One draft proposal without a worker: authorization (404), refused PATCHes, events on a
proposal whose workflow is gone.

Every test here is refused and changes nothing, so they share one stack and one proposal,
made once for the module (read_only.py). Accepted edits and proposals in other states:
test_proposals_edit.py."""

from __future__ import annotations

import uuid

import pytest
import pytest_asyncio
import read_only

from db.models import Proposal

pytestmark = pytest.mark.asyncio(loop_scope="module")
session_factory = read_only.session_factory
client = read_only.client
dealers = read_only.dealers
insert_proposal = read_only.insert_proposal

URL = "/api/v1/proposals"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def a_proposal(dealers, insert_proposal) -> Proposal:
    return await insert_proposal(dealers.a.id)


def call(client, method: str, path: str, headers: dict[str, str], body=None):  # noqa: ANN001, ANN201
    return client.request(method, path, headers=headers, json=body)


def actions(proposal_id: str, create_body: dict) -> list[tuple[str, str, object]]:
    return [
        ("GET", f"{URL}/{proposal_id}", None),
        ("PATCH", f"{URL}/{proposal_id}", {"buyer": {"email": "new@example.com"}}),
        ("POST", f"{URL}/{proposal_id}/send", None),
        ("POST", f"{URL}/{proposal_id}/resend", None),
        ("POST", f"{URL}/{proposal_id}/cancel", None),
        ("POST", f"{URL}/{proposal_id}/withdrawal", None),
        ("POST", f"{URL}/{proposal_id}/replace", create_body),
    ]


async def test_another_dealers_proposal_is_404_for_every_action(
    client, dealers, a_proposal, new_body, count_rows
) -> None:
    for method, path, body in actions(str(a_proposal.id), new_body()):
        response = await call(client, method, path, dealers.b.headers, body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == {"code": "not_found", "message": "Proposal not found."}
    assert await count_rows() == 1  # the replace created nothing


@pytest.mark.parametrize("proposal_id", ["not-a-uuid", "123", str(uuid.uuid4())])
async def test_unknown_or_malformed_id_is_404(client, dealers, new_body, proposal_id: str) -> None:
    for method, path, body in actions(proposal_id, new_body()):
        response = await call(client, method, path, dealers.a.headers, body)
        assert response.status_code == 404, (method, path, response.text)


async def test_a_control_character_in_the_id_is_refused_at_the_edge(client, dealers, new_body) -> None:
    # api/control_chars.py refuses it before any route: a 422 naming the path, on every action.
    for method, path, body in actions("%00", new_body()):
        response = await call(client, method, path, dealers.a.headers, body)
        assert response.status_code == 422, (method, path, response.text)
        assert response.json()["error"]["code"] == "control_character"


async def test_actions_need_a_dealer_token(client, a_proposal) -> None:
    response = await client.get(f"{URL}/{a_proposal.id}")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("patch", "offending"),
    [
        ({"buyer": {"first_name": "Jeanine"}}, ["buyer.first_name"]),
        ({"buyer": {"email": "ok@example.com", "last_name": "X"}}, ["buyer.last_name"]),
        ({"buyer": {"address": {"city": "Lyon"}}}, ["buyer.address.city"]),
        ({"buyer": {"address": {}}}, ["buyer.address"]),
        ({"vehicle": {"vin": "VF3LCYHZPHS654321", "mileage_km": 1}}, ["vehicle.vin", "vehicle.mileage_km"]),
        ({"vehicle": "anything"}, ["vehicle"]),
        ({"product": {"price_cents": 1}, "seller": {"name": "Ok"}}, ["product.price_cents"]),
    ],
)
async def test_patch_of_a_non_editable_field_requires_a_new_proposal(
    client, dealers, a_proposal, session_factory, patch: dict, offending: list[str]
) -> None:
    response = await client.patch(f"{URL}/{a_proposal.id}", json=patch, headers=dealers.a.headers)
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "requires_new_proposal"
    assert error["fields"] == offending
    assert "new proposal" in error["message"]
    assert "/replace" in error["message"]
    async with session_factory() as session:
        row = await session.get(Proposal, a_proposal.id)
        assert row is not None and row.buyer_email == a_proposal.buyer_email  # nothing applied


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"buyer": {"email": "not-an-email"}}, "buyer.email"),
        ({"buyer": {"mobile": "01 23 45 67 89"}}, "buyer.mobile"),
        ({"buyer": {"email": None}}, "buyer.email"),
        ({"seller": {"name": ""}}, "seller.name"),
        ({"seller": {"phone": "12"}}, "seller.phone"),
        ({"buyer": "x"}, "buyer"),
        ({"nickname": "x"}, "nickname"),
        ({"send": True}, "send"),
    ],
)
async def test_patch_with_invalid_value_is_422(client, dealers, a_proposal, patch: dict, field: str) -> None:
    response = await client.patch(f"{URL}/{a_proposal.id}", json=patch, headers=dealers.a.headers)
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]


async def test_patch_body_must_be_an_object(client, dealers, a_proposal) -> None:
    response = await client.patch(f"{URL}/{a_proposal.id}", json=["buyer"], headers=dealers.a.headers)
    assert response.status_code == 422


async def test_event_on_an_open_proposal_without_workflow_is_404(client, dealers, a_proposal) -> None:
    response = await client.post(f"{URL}/{a_proposal.id}/cancel", headers=dealers.a.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "workflow_not_found"
