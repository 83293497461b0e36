"""Proposal rows without a worker, each test its own: the detail from the read model in every
state, accepted PATCHes, and refusals on proposals past their draft (workflow gone)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Proposal, Seller

URL = "/api/v1/proposals"


@pytest.fixture
async def a_proposal(dealers, insert_proposal) -> Proposal:
    return await insert_proposal(dealers.a.id)


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
