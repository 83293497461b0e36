"""Nobody stuck: a buyer whose signing cannot finish can always go back (`abandon`).

Before: with the worker down, the accept answered 503 after 30 s and rolled back the bank
details while Temporal applied the update later: `signing` without bank details, `accept`
409, `sign` 409 `bank_details_missing`, and nothing let the buyer go back (2 of 50
lifecycles in the crash test). Real worker, real SMTP sink.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from buyer_helpers import accept_body, contract_ready, send_proposal
from sqlalchemy import update

import api.lifecycle_client as lifecycle_client
from api.buyer.service import csrf_token
from api.update_deadline import accept_within
from db.models import Proposal
from support import eventually


async def test_an_accept_not_taken_in_time_is_not_applied_and_a_retry_signs(
    client, dealers, new_body, worker, sink, session_factory, monkeypatch
) -> None:
    proposal, token = await send_proposal(client, dealers, new_body, sink)
    assert (await client.get(f"/api/v1/buyer/{token}")).json()["state"] == "viewed"
    with monkeypatch.context() as patch:
        patch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(milliseconds=1))
        first = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    # The workflow did not take it in time: a true "not applied" (the worker refuses it when
    # it arrives, workflows/update_deadline.py), not a 202 guess.
    assert first.status_code == 503, first.text
    assert first.json()["error"]["code"] == "action_not_applied"
    assert first.headers["Retry-After"]
    await asyncio.sleep(1.0)
    assert (await client.get(f"/api/v1/buyer/{token}")).json()["state"] == "viewed"
    async with session_factory() as session:
        row = await session.get(Proposal, uuid.UUID(proposal["id"]))
        # Taken back with the action: it will not happen (the worker refuses it), so nothing
        # is left half-done; before, a timeout was ambiguous and the data had to stay.
        assert row is not None and row.iban_encrypted is None
    # The buyer clicks again: the same update id, a new chance, applied once.
    retried = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "signing"
    assert "sign" in retried.json()["actions"]
    await contract_ready(client, token)
    signed = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    assert (signed.status_code, signed.json()["state"]) == (200, "signed")


async def test_an_update_reaching_the_worker_after_its_deadline_is_refused_not_applied(
    client, dealers, new_body, worker, sink, monkeypatch
) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    with monkeypatch.context() as patch:
        # As if the worker picked the update up after the API had stopped waiting.
        patch.setattr(lifecycle_client, "accept_within", lambda _seconds: accept_within(-10.0))
        late = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    assert late.status_code == 503, late.text
    assert late.json()["error"]["code"] == "action_not_applied"
    view = (await client.get(f"/api/v1/buyer/{token}")).json()
    assert view["state"] == "viewed" and "accept" in view["actions"]
    page = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    assert (page.status_code, page.json()["state"]) == (200, "signing"), page.text


async def test_signing_without_bank_details_offers_going_back_and_the_buyer_can_finish(
    app, client, dealers, new_body, worker, sink, session_factory
) -> None:
    proposal, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    accepted = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    assert accepted.json()["state"] == "signing"
    # The state the crash test left behind: signing, bank details gone.
    async with session_factory() as session:
        await session.execute(
            update(Proposal)
            .where(Proposal.id == uuid.UUID(proposal["id"]))
            .values(iban_encrypted=None, iban_masked=None)
        )
        await session.commit()

    view = (await client.get(f"/api/v1/buyer/{token}")).json()
    assert view["state"] == "signing"
    assert view["actions"] == ["abandon"]  # never a step the buyer cannot take
    assert "coordonnées bancaires" in view["message"]
    refused = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "bank_details_missing"
    assert refused.json()["error"]["allowed_events"] == ["abandon"]

    page = await client.get(f"/p/{token}")
    assert "Revenir à l'étape précédente" in page.text
    assert "Signer le contrat" not in page.text
    back = await client.post(
        f"/p/{token}/abandon", data={"csrf": csrf_token(app.state.settings, token)}, follow_redirects=False
    )
    assert back.status_code == 303, back.text

    async def viewed() -> dict:
        return (await client.get(f"/api/v1/buyer/{token}")).json()

    again = await eventually(viewed, lambda v: v["state"] == "viewed")
    assert "accept" in again["actions"]
    accepted = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    assert accepted.json()["state"] == "signing", accepted.text
    await contract_ready(client, token)
    signed = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    assert (signed.status_code, signed.json()["state"]) == (200, "signed")


async def test_the_json_api_goes_back_too(client, dealers, new_body, worker, sink) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    back = await client.post(f"/api/v1/buyer/{token}/abandon")
    assert back.status_code == 200, back.text
    assert back.json()["state"] == "viewed"
    # Only from signing: going back from `viewed` is a clear 409.
    again = await client.post(f"/api/v1/buyer/{token}/abandon")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "transition_not_allowed"
