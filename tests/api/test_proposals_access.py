"""One proposal without a worker: authorization (404), detail from the read model, PATCH rules,
and events on proposals whose workflow is gone."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from db.models import Proposal, Seller

URL = "/api/v1/proposals"


@pytest.fixture
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


@pytest.mark.parametrize("proposal_id", ["not-a-uuid", "123", str(uuid.uuid4()), "%00"])
async def test_unknown_or_malformed_id_is_404(client, dealers, new_body, proposal_id: str) -> None:
    for method, path, body in actions(proposal_id, new_body()):
        response = await call(client, method, path, dealers.a.headers, body)
        assert response.status_code == 404, (method, path, response.text)


async def test_actions_need_a_dealer_token(client, a_proposal) -> None:
    response = await client.get(f"{URL}/{a_proposal.id}")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        ("draft", ["cancel", "send_to_buyer", "start_in_person"]),
        ("viewed", ["accept", "cancel", "decline", "resend", "start_in_person", "view"]),
        ("signing", ["abandon", "sign"]),
        ("signed", ["withdraw"]),
        ("cancelled", []),
    ],
)
async def test_detail_falls_back_to_the_read_model_without_a_workflow(
    client, dealers, insert_proposal, state: str, allowed: list[str]
) -> None:
    row = await insert_proposal(dealers.a.id, state=state)
    response = await client.get(f"{URL}/{row.id}", headers=dealers.a.headers)
    assert response.status_code == 200
    detail = response.json()
    assert detail["state"] == state
    assert detail["allowed_events"] == allowed
    assert detail["status_source"] == "read_model"
    assert detail["buyer"]["address"]["city"] == "Paris"
    assert detail["contract_number"] == row.contract_number


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


async def test_patch_corrects_contacts_of_a_draft(client, dealers, a_proposal, session_factory) -> None:
    response = await client.patch(
        f"{URL}/{a_proposal.id}",
        json={
            "buyer": {"email": "jeanne@example.org", "mobile": "07 11 22 33 44"},
            "seller": {"name": "Lucie Vente", "email": "lucie@garage-nord.example.com", "phone": None},
        },
        headers=dealers.a.headers,
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["buyer"]["email"] == "jeanne@example.org"
    assert detail["buyer"]["mobile"] == "+33711223344"
    assert detail["seller"] == {
        "name": "Lucie Vente",
        "email": "lucie@garage-nord.example.com",
        "phone": None,
    }
    assert detail["buyer"]["last_name"] == "Dupont"
    async with session_factory() as session:
        row = await session.get(Proposal, a_proposal.id)
        assert row is not None and row.buyer_mobile == "+33711223344"
        sellers = (await session.scalars(select(Seller))).all()
        assert [s.name for s in sellers] == ["Lucie Vente"]


@pytest.mark.parametrize("state", ["signing", "signed", "cancelled", "expired"])
async def test_patch_after_signing_started_is_refused(
    client, dealers, insert_proposal, session_factory, state: str
) -> None:
    row = await insert_proposal(dealers.a.id, state=state)
    response = await client.patch(
        f"{URL}/{row.id}", json={"buyer": {"email": "new@example.com"}}, headers=dealers.a.headers
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "not_editable"
    assert error["state"] == state
    assert state in error["message"]
    async with session_factory() as session:
        fresh = await session.get(Proposal, row.id)
        assert fresh is not None and fresh.buyer_email == row.buyer_email


async def test_event_on_a_closed_proposal_is_409_from_the_read_model(
    client, dealers, insert_proposal
) -> None:
    # A cancelled proposal's workflow has ended; the refusal still names state and events.
    row = await insert_proposal(dealers.a.id, state="cancelled")
    response = await client.post(f"{URL}/{row.id}/cancel", headers=dealers.a.headers)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert error["message"] == "cannot cancel a proposal in state cancelled"
    assert (error["state"], error["allowed_events"]) == ("cancelled", [])


async def test_event_on_an_open_proposal_without_workflow_is_404(client, dealers, a_proposal) -> None:
    response = await client.post(f"{URL}/{a_proposal.id}/cancel", headers=dealers.a.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "workflow_not_found"


async def test_replace_of_a_signed_proposal_is_409_before_creating_anything(
    client, dealers, insert_proposal, new_body, count_rows
) -> None:
    row = await insert_proposal(dealers.a.id, state="signed")
    response = await client.post(f"{URL}/{row.id}/replace", json=new_body(), headers=dealers.a.headers)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert error["message"] == "cannot replace a proposal in state signed"
    assert error["allowed_events"] == ["withdraw"]
    assert await count_rows() == 1
    assert await count_rows(Seller) == 0


async def test_replace_and_send_need_the_remote_sale_option(
    client, dealers, insert_proposal, new_body, count_rows
) -> None:
    row = await insert_proposal(dealers.no_remote.id)
    for path, body in ((f"{URL}/{row.id}/replace", new_body()), (f"{URL}/{row.id}/send", None)):
        response = await client.post(path, json=body, headers=dealers.no_remote.headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "remote_sale_disabled"
    assert await count_rows() == 1
