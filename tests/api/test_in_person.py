"""Face to face: the SMS code signs; 5 wrong codes lock; an expired code is refused."""

from __future__ import annotations

import re
from datetime import timedelta

from buyer_helpers import VALID_IBAN, eventually
from sqlalchemy import select

from activities.signing import signing_code_for
from db.models import SigningCode

START = {"iban": VALID_IBAN, "account_holder": "Jeanne Dupont", "cg_accepted": True}


async def start(client, dealers, new_body, sink) -> tuple[str, str]:  # noqa: ANN001
    created = await client.post("/api/v1/proposals", json=new_body(), headers=dealers.a.headers)
    proposal_id = created.json()["id"]
    started = await client.post(
        f"/api/v1/proposals/{proposal_id}/in-person", json=START, headers=dealers.a.headers
    )
    assert started.status_code == 200, started.text
    assert started.json()["state"] == "signing"

    async def texted() -> bool:
        return any(m["To"] == "0612345678@sms.localhost" for m in sink.messages())

    await eventually(texted)
    sms = [m for m in sink.messages() if m["To"] == "0612345678@sms.localhost"][-1]
    code = re.search(r"(\d{6})", sms.get_body(preferencelist=("plain",)).get_content())
    assert code is not None
    return proposal_id, code.group(1)


async def confirm(client, dealers, proposal_id: str, code: str):  # noqa: ANN001, ANN201
    return await client.post(
        f"/api/v1/proposals/{proposal_id}/in-person/confirm", json={"code": code}, headers=dealers.a.headers
    )


async def test_right_code_signs(client, dealers, new_body, worker, sink) -> None:
    proposal_id, code = await start(client, dealers, new_body, sink)
    signed = await confirm(client, dealers, proposal_id, code)
    assert signed.status_code == 200, signed.text
    assert (signed.json()["state"], signed.json()["contract_status"]) == ("signed", "active")
    # "Terminer" clicked again once signed: the signature happened, and the answer says so.
    again = await confirm(client, dealers, proposal_id, code)
    assert (again.status_code, again.json()["state"]) == (200, "signed"), again.text


async def test_five_wrong_codes_lock_the_attempt(
    client, dealers, new_body, worker, sink, session_factory, migrated
) -> None:
    proposal_id, code = await start(client, dealers, new_body, sink)
    wrong = "000000" if code != "000000" else "111111"
    answers = [await confirm(client, dealers, proposal_id, wrong) for _ in range(5)]
    assert [a.status_code for a in answers] == [422, 422, 422, 422, 409]
    assert answers[0].json()["error"]["tries_left"] == 4
    assert answers[-1].json()["error"]["code"] == "code_locked"
    locked = await confirm(client, dealers, proposal_id, code)
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "code_locked"

    # A new code restarts signing; the new code works.
    before = len(sink.messages())
    restarted = await client.post(
        f"/api/v1/proposals/{proposal_id}/in-person", json=START, headers=dealers.a.headers
    )
    assert restarted.status_code == 200

    async def texted_again() -> bool:
        return len(sink.messages()) > before

    await eventually(texted_again)
    async with session_factory() as session:
        latest = (await session.scalars(select(SigningCode).order_by(SigningCode.issued_at.desc()))).first()
    assert latest is not None
    new_code = signing_code_for(migrated, latest.attempt_key)
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in sink.messages()]
    assert any(new_code in text for text in texts)  # the code the buyer received
    assert (await confirm(client, dealers, proposal_id, new_code)).status_code == 200


async def test_expired_code_is_refused(client, dealers, new_body, worker, sink, session_factory) -> None:
    proposal_id, code = await start(client, dealers, new_body, sink)
    async with session_factory() as session:
        for row in (await session.scalars(select(SigningCode))).all():
            row.issued_at -= timedelta(minutes=11)
        await session.commit()
    answer = await confirm(client, dealers, proposal_id, code)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "code_expired"


async def test_bad_input(client, dealers, new_body, worker) -> None:
    created = await client.post("/api/v1/proposals", json=new_body(), headers=dealers.a.headers)
    proposal_id = created.json()["id"]
    bad_iban = await client.post(
        f"/api/v1/proposals/{proposal_id}/in-person",
        json={**START, "iban": "FR12"},
        headers=dealers.a.headers,
    )
    assert bad_iban.status_code == 422 and bad_iban.json()["error"]["fields"][0]["field"] == "iban"
    no_code = await confirm(client, dealers, proposal_id, "123456")
    assert no_code.status_code == 409 and no_code.json()["error"]["code"] == "no_code"
    malformed = await confirm(client, dealers, proposal_id, "12ab56")
    assert malformed.status_code == 422
    other = await client.post(
        f"/api/v1/proposals/{proposal_id}/in-person", json=START, headers=dealers.b.headers
    )
    assert other.status_code == 404
