"""The dealer app's "Consulter" page (issue 13): timeline, allowed buttons, corrections,
resend, cancel; each action through the dealer API's service, with a real worker."""

from __future__ import annotations

import copy
import html as html_text
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
from buyer_helpers import accept_and_review
from dealer_api import VALID_BODY, insert_proposal_row
from dealer_app_kit import DealerLogin, add_dealer_user, csrf_of, login_client
from sqlalchemy import select

from carflow.links import buyer_token
from carflow.settings import Settings
from db.models import Proposal
from support import eventually


async def create(client: httpx.AsyncClient, login: DealerLogin, *, send: bool, **buyer: Any) -> dict:
    body = copy.deepcopy(VALID_BODY)
    body["send"] = send
    body["buyer"].update(buyer)
    created = await client.post("/api/v1/proposals", json=body, headers=login.api_headers)
    assert created.status_code == 201, created.text
    return created.json()


def timeline(html: str) -> str:
    found = re.search(r'<ol class="timeline" id="timeline">(.*?)</ol>', html, re.S)
    assert found, html
    return re.sub(r"\s+", " ", html_text.unescape(re.sub(r"<[^>]+>", "", found.group(1))))


def buttons(html: str) -> set[str]:
    actions = re.search(r'<section class="card actions".*?</section>', html, re.S)
    if actions is None:
        return set()
    return {
        re.sub(r"\s+", " ", label).strip()
        for label in re.findall(r"<(?:button|a)[^>]*>([^<]+)</(?:button|a)>", actions.group(0))
    }


async def page(client: httpx.AsyncClient, proposal_id: str) -> str:
    answer = await client.get(f"/vendeur/propositions/{proposal_id}")
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_the_timeline_shows_sending_each_view_signing_signature_and_the_emails(
    client: httpx.AsyncClient, session_factory, worker, sink, migrated
) -> None:
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    created = await create(client, login, send=True)
    token = buyer_token(migrated, created["id"])
    for _ in range(2):  # two openings of the link: two views
        assert (await client.get(f"/api/v1/buyer/{token}")).status_code == 200
    await accept_and_review(client, token)
    signed = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    assert signed.status_code == 200, signed.text

    async def emails_delivered() -> str:
        text = timeline(await page(client, created["id"]))
        return text if text.count(": remis") >= 3 else ""

    text = await eventually(emails_delivered, timeout_s=60)
    order = [
        "Proposition créée",
        "Envoyée par email à l'acheteur",
        "Consultée par l'acheteur (1re consultation)",
        "Consultée par l'acheteur (2e consultation)",
        "Signature commencée",
        "Contrat signé : contrat actif",
    ]
    positions = [text.index(label) for label in order]
    assert positions == sorted(positions), text
    assert "Email de la proposition commerciale (à jeanne.dupont@example.com) : remis" in text
    assert "Email du contrat signé et des conditions générales" in text
    html = await page(client, created["id"])
    assert "Signée : contrat actif" in html
    # Signed: no more buttons, the signed contract to download.
    assert buttons(html) == set()
    assert "Contrat signé (PDF)" in html
    pdf = await client.get(f"/vendeur/propositions/{created['id']}/documents/signed.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_only_the_allowed_actions_are_buttons_and_another_centre_sees_nothing(
    client: httpx.AsyncClient, session_factory, worker, sink
) -> None:
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    draft = await create(client, login, send=False)
    sent = await create(client, login, send=True)
    assert buttons(await page(client, draft["id"])) == {
        "Envoyer par email",
        "Signature électronique en face à face",
        "Refaire une nouvelle proposition",
        "Annuler la proposition",
    }
    sent_page = await page(client, sent["id"])
    assert buttons(sent_page) == {
        "Renvoyer l'email à l'acheteur",
        "Signature électronique en face à face",
        "Refaire une nouvelle proposition",
        "Annuler la proposition",
    }
    assert f"/vendeur/propositions/nouvelle?depuis={sent['id']}" in sent_page
    assert 'name="buyer_email"' in sent_page and 'name="buyer_last_name"' not in sent_page

    # A user of another centre: the same 404 page as for a proposal that does not exist.
    other = await add_dealer_user(session_factory, dealer_name="Garage du Sud")
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as stranger:
        csrf = await login_client(stranger, other)
        for path in ("", "/documents/conditions.pdf", "/face-a-face"):
            answer = await stranger.get(f"/vendeur/propositions/{sent['id']}{path}")
            assert answer.status_code == 404 and "Cette proposition est introuvable." in answer.text
        posted = await stranger.post(
            f"/vendeur/propositions/{sent['id']}/annuler", data={"csrf": csrf, "version": "1"}
        )
        assert posted.status_code == 404
    assert "Envoyée" in await page(client, sent["id"])

    # The draft sent from its page: through the API's service, then the buttons of `sent`.
    draft_page = await page(client, draft["id"])
    version = re.findall(r'name="version" value="(\d+)"', draft_page)[0]
    sending = await client.post(
        f"/vendeur/propositions/{draft['id']}/envoyer", data={"csrf": csrf_of(draft_page), "version": version}
    )
    assert sending.status_code == 303, sending.text
    after = (await client.get(sending.headers["location"])).text
    assert "La proposition est envoyée par email à l&#39;acheteur." in after
    assert "Renvoyer l'email à l'acheteur" in buttons(after) and "Envoyer par email" not in buttons(after)


async def test_correcting_the_email_saves_it_and_resends_a_bad_mobile_changes_nothing(
    client: httpx.AsyncClient, session_factory, worker, sink
) -> None:
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    sent = await create(client, login, send=True)
    html = await page(client, sent["id"])
    form = {
        "csrf": csrf_of(html),
        "buyer_email": "jeanne.d@example.org",
        "buyer_mobile": "01 02",
        "seller_name": "Paul Vendeur",
        "seller_email": "paul@garage-nord.example.com",
        "seller_phone": "01 23 45 67 89",
    }
    bad = await client.post(f"/vendeur/propositions/{sent['id']}/coordonnees", data=form)
    assert bad.status_code == 422
    message = "Indiquez un numéro de portable français valide (06 ou 07…)."
    assert bad.text.count(message) == 2  # at the top and next to the field
    assert 'id="buyer_mobile-error"' in bad.text and 'value="01 02"' in bad.text
    async with session_factory() as session:
        row = await session.get(Proposal, uuid.UUID(sent["id"]))
        assert row is not None and row.buyer_email == "jeanne.dupont@example.com"  # nothing half-written

    # No CSRF token: refused, nothing saved.
    forged = await client.post(
        f"/vendeur/propositions/{sent['id']}/coordonnees", data={**form, "csrf": "x", "buyer_mobile": ""}
    )
    assert forged.status_code == 403

    ok = await client.post(
        f"/vendeur/propositions/{sent['id']}/coordonnees", data={**form, "buyer_mobile": "06 11 22 33 44"}
    )
    assert ok.status_code == 303 and ok.headers["location"].endswith("?ok=coordonnees-renvoyee")
    after = (await client.get(ok.headers["location"])).text
    assert "la proposition est renvoyée à la nouvelle adresse email" in after
    assert 'value="jeanne.d@example.org"' in after

    async def mailed_to_new_address() -> bool:
        return any(m["To"] == "jeanne.d@example.org" for m in sink.messages())

    await eventually(mailed_to_new_address)
    text = await eventually(lambda: page(client, sent["id"]), lambda h: "Renvoyée par email" in h)
    assert "à jeanne.d@example.org) : remis" in timeline(text) or "jeanne.d@example.org" in timeline(text)


async def test_resend_and_cancel_after_confirmation(
    client: httpx.AsyncClient, session_factory, worker, sink
) -> None:
    login = await add_dealer_user(session_factory)
    csrf = await login_client(client, login)
    sent = await create(client, login, send=True)
    html = await page(client, sent["id"])
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version
    resent = await client.post(
        f"/vendeur/propositions/{sent['id']}/renvoyer", data={"csrf": csrf, "version": version.group(1)}
    )
    assert resent.status_code == 303, resent.text
    assert "La proposition est renvoyée par email" in (await client.get(resent.headers["location"])).text
    # The same form posted again (a double click, a retry after a lost answer): the same
    # workflow update, so the buyer gets one more email, not two.
    again = await client.post(
        f"/vendeur/propositions/{sent['id']}/renvoyer", data={"csrf": csrf, "version": version.group(1)}
    )
    assert again.status_code == 303, again.text
    async with session_factory() as session:
        sent_count = await session.scalar(
            select(Proposal.sent_count).where(Proposal.id == uuid.UUID(sent["id"]))
        )
    assert sent_count == 2

    confirm = await client.get(f"/vendeur/propositions/{sent['id']}/annuler")
    assert confirm.status_code == 200 and "L'annulation est définitive" in confirm.text
    cancelled = await client.post(
        f"/vendeur/propositions/{sent['id']}/annuler",
        data={
            "csrf": csrf_of(confirm.text),
            "version": re.findall(r'name="version" value="(\d+)"', confirm.text)[0],
        },
    )
    assert cancelled.status_code == 303, cancelled.text
    html = (await client.get(cancelled.headers["location"])).text
    assert "La proposition est annulée." in html and "Annulée" in html
    assert buttons(html) == set() and 'name="buyer_email"' not in html
    assert "Proposition annulée" in timeline(html)
    # Cancelling again: refused in French, not a 500.
    again = await client.post(
        f"/vendeur/propositions/{sent['id']}/annuler", data={"csrf": csrf, "version": "99"}
    )
    assert again.status_code == 409 and "Cette action n&#39;est plus possible" in again.text
    async with session_factory() as session:
        state = await session.scalar(select(Proposal.state).where(Proposal.id == uuid.UUID(sent["id"])))
    assert state == "cancelled"


async def test_without_temporal_the_page_reads_and_an_action_says_whom_to_write_with_the_contract(
    offline: httpx.AsyncClient, session_factory, migrated: Settings
) -> None:
    login = await add_dealer_user(session_factory)
    csrf = await login_client(offline, login)
    row = await insert_proposal_row(
        session_factory,
        migrated,
        login.dealer_id,
        state="sent",
        email_failed=True,
        email_error="SMTP refused",
    )
    html = await page(offline, str(row.id))
    # A failed email: the seed's "report it to ADV", with the contract number in the mailto.
    assert "L'email n'a pas pu être remis" in html
    assert f"mailto:adv@carflow.example?subject=Contrat%20{row.contract_number}" in html

    answer = await offline.post(
        f"/vendeur/propositions/{row.id}/renvoyer", data={"csrf": csrf, "version": str(row.state_version)}
    )
    assert answer.status_code == 503
    assert "Une erreur technique empêche pour l" in answer.text
    assert row.contract_number in answer.text
    assert f"subject=Contrat%20{row.contract_number}" in answer.text
    assert '{"error"' not in answer.text


async def test_a_send_no_worker_takes_in_time_is_an_honest_503_and_changes_nothing(
    client: httpx.AsyncClient, session_factory, monkeypatch
) -> None:
    # No worker polls the task queue (no `worker` fixture): the workflow cannot take the send
    # in time, and the worker refuses it when it arrives (workflows/update_deadline.py), so the
    # page says it was not done, never "en cours" for an action that will not happen.
    import api.lifecycle_client as lifecycle_client

    monkeypatch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(seconds=2))
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    draft = await create(client, login, send=False)
    html = await page(client, draft["id"])
    version = re.findall(r'name="version" value="(\d+)"', html)[0]
    answer = await client.post(
        f"/vendeur/propositions/{draft['id']}/envoyer", data={"csrf": csrf_of(html), "version": version}
    )
    assert answer.status_code == 503, answer.text
    assert "Une erreur technique empêche pour l" in answer.text
    assert "Devis (non envoyé)" in await page(client, draft["id"])  # nothing changed
