"""Helpers for tests that drive the buyer's journey through HTTP with a real worker."""

from __future__ import annotations

import copy
import re

from dealer_api import VALID_BODY

from support import eventually

VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"


async def send_proposal(client, dealers, new_body, sink, **product) -> tuple[dict, str]:  # noqa: ANN001
    body = new_body(send=True)
    body["product"].update(product)
    created = await client.post("/api/v1/proposals", json=body, headers=dealers.a.headers)
    assert created.status_code == 201, created.text

    async def mailed() -> bool:
        return any(m["To"] == "jeanne.dupont@example.com" for m in sink.messages())

    await eventually(mailed)
    mail = next(m for m in sink.messages() if m["To"] == "jeanne.dupont@example.com")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    token = re.search(r"/p/([A-Za-z0-9_-]+)", text)
    assert token is not None, text
    return created.json(), token.group(1)


def accept_body(**overrides: object) -> dict:
    body = {
        "cg_accepted": True,
        "iban": VALID_IBAN,
        "account_holder": "Jeanne Dupont",
        "no_claim_since_sent": True,
    }
    body.update(overrides)
    return body


async def contract_ready(client, token: str) -> bytes:  # noqa: ANN001
    """The contract to review, once the worker has made it (202 "en préparation" until then)."""

    async def fetch():  # noqa: ANN202
        return await client.get(f"/api/v1/buyer/{token}/contract.pdf")

    # The first rendering in a process loads WeasyPrint and its fonts: seconds on a busy box.
    answer = await eventually(fetch, lambda r: r.status_code != 202, timeout_s=90)
    assert answer.status_code == 200, answer.text
    return answer.content


async def accept_and_review(client, token: str, **overrides: object) -> bytes:  # noqa: ANN001
    """Accept (bank details, attestation), then open the contract to review as the buyer does."""
    accepted = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body(**overrides))
    assert accepted.status_code == 200, accepted.text
    return await contract_ready(client, token)


async def sent_link(live, dealers, email: str) -> str:  # noqa: ANN001
    """A proposal sent for real (API, workflow, SMTP sink): the buyer's link from the mail."""
    body = copy.deepcopy(VALID_BODY)
    body["send"] = True
    body["buyer"]["email"] = email
    async with live.stack.client() as client:
        created = await client.post("/api/v1/proposals", json=body, headers=dealers.a.headers)
    assert created.status_code == 201, created.text

    async def mail_to_buyer() -> str | None:
        for mail in live.sink.messages():
            if mail["To"] == email:
                found = re.search(r"https?://\S+/p/[A-Za-z0-9_-]+", mail.get_body(("plain",)).get_content())
                return found.group(0) if found else None
        return None

    return await eventually(mail_to_buyer)
