"""The dealer app's "Consulter" page and face-to-face signing in a real browser, at the phone
and the desktop viewport (issue 13): the buyer's view appears in the timeline, the buyer's
email is corrected, and a face-to-face sale goes to "Terminer" with the SMS code read from
the sink; every page passes the accessibility audit."""

from __future__ import annotations

import copy
import itertools
import re

import pytest
from browser_kit import Live, assert_accessible
from buyer_helpers import VALID_IBAN
from dealer_api import VALID_BODY
from dealer_app_kit import DealerLogin, add_dealer_user, login_page
from playwright.async_api import Page, expect

from support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")
_numbers = itertools.count(10)


async def proposal(live: Live, login: DealerLogin, *, send: bool) -> tuple[str, str, str]:
    """A proposal of the user's centre, with its own buyer: (id, buyer email, SMS address)."""
    number = next(_numbers)
    body = copy.deepcopy(VALID_BODY)
    body["send"] = send
    body["buyer"]["email"] = f"acheteur-{number}-{login.user_id.hex[:6]}@example.com"
    body["buyer"]["mobile"] = f"06 12 34 {number:02d} {number:02d}"
    async with live.stack.client() as client:
        created = await client.post("/api/v1/proposals", json=body, headers=login.api_headers)
    assert created.status_code == 201, created.text
    return created.json()["id"], body["buyer"]["email"], f"061234{number:02d}{number:02d}@sms.localhost"


async def link_mailed_to(live: Live, email: str) -> str:
    async def link() -> str | None:
        for mail in live.sink.messages():
            if mail["To"] == email:
                found = re.search(r"https?://\S+/p/[A-Za-z0-9_-]+", mail.get_body(("plain",)).get_content())
                return found.group(0) if found else None
        return None

    return await eventually(link)


async def test_the_buyers_view_appears_in_the_timeline(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live)
    proposal_id, email, _ = await proposal(live, login, send=True)
    link = await link_mailed_to(live, email)
    await login_page(screen, live, login, suite=f"/vendeur/propositions/{proposal_id}")
    timeline = screen.locator("#timeline")
    await expect(timeline).to_contain_text("Envoyée par email à l'acheteur")
    await expect(timeline).not_to_contain_text("Consultée par l'acheteur")
    await assert_accessible(screen)

    buyer = await screen.context.browser.new_page()  # type: ignore[union-attr]
    await buyer.goto(link)
    await expect(buyer.get_by_role("heading", name="Votre proposition de contrat")).to_be_visible()
    await buyer.close()

    async def seen() -> bool:
        await screen.reload()
        return "Consultée par l'acheteur (1re consultation)" in (await timeline.inner_text())

    await eventually(seen)
    await expect(screen.locator("#state")).to_have_text("Consultée par l'acheteur")


async def test_the_dealer_corrects_the_buyers_email(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live)
    proposal_id, email, _ = await proposal(live, login, send=True)
    await login_page(screen, live, login, suite=f"/vendeur/propositions/{proposal_id}")
    field = screen.get_by_label("Adresse email du client")
    await expect(field).to_have_value(email)

    await field.fill("pas-une-adresse")
    await screen.get_by_role("button", name="Enregistrer les coordonnées").click()
    await expect(screen.locator("#error-summary")).to_contain_text("Indiquez une adresse email valide")
    await expect(screen.locator("#buyer_email-error")).to_be_visible()
    await assert_accessible(screen)

    corrected = email.replace("@", ".corrige@")
    await screen.get_by_label("Adresse email du client").fill(corrected)
    await screen.get_by_role("button", name="Enregistrer les coordonnées").click()
    await expect(screen.get_by_role("status")).to_contain_text("renvoyée à la nouvelle adresse email")
    await expect(screen.get_by_label("Adresse email du client")).to_have_value(corrected)
    await link_mailed_to(live, corrected)  # the proposal went to the corrected address
    await assert_accessible(screen)


async def test_face_to_face_signing_to_terminer_with_the_sms_code(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live)
    proposal_id, _, sms_to = await proposal(live, login, send=False)
    await login_page(screen, live, login, suite=f"/vendeur/propositions/{proposal_id}")
    await screen.get_by_role("link", name="Signature électronique en face à face").click()
    await expect(screen.get_by_role("heading", name="Signature électronique en face à face")).to_be_visible()
    await assert_accessible(screen)

    await screen.get_by_label("IBAN du compte à prélever").fill(VALID_IBAN)
    await screen.get_by_label("Titulaire du compte").fill("Jeanne Dupont")
    await screen.get_by_label("J'ai lu et j'accepte les conditions générales").check()
    await screen.get_by_label("J'atteste que mon véhicule n'a pas connu de sinistre").check()
    await screen.get_by_role("button", name="Envoyer le code par SMS").click()
    await expect(screen.get_by_label("Code reçu par SMS par votre client")).to_be_visible()
    await assert_accessible(screen)

    async def code() -> str | None:
        for mail in live.sink.messages():
            if mail["To"] == sms_to:
                found = re.search(r"(\d{6})", mail.get_body(("plain",)).get_content())
                return found.group(1) if found else None
        return None

    await screen.get_by_label("Code reçu par SMS par votre client").fill(await eventually(code))
    await screen.get_by_role("button", name="Valider la signature du contrat").click()
    await expect(
        screen.get_by_role("heading", name=re.compile("signature du contrat .* est validée"))
    ).to_be_visible()
    await assert_accessible(screen)
    await screen.get_by_role("button", name="Terminer").click()
    await expect(screen.get_by_role("status")).to_contain_text("le contrat est actif")
    await expect(screen.get_by_role("status")).to_contain_text("contrat signé et ses conditions générales")
    await expect(screen.locator("#state")).to_have_text("Signée : contrat actif")
    await assert_accessible(screen)
