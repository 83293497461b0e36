"""The buyer's journey in a real browser, at the phone and the desktop viewport: where they
stand, what to correct after an error (at the top, focused, linked to the field, nothing they
ticked or typed lost), a confirmation before an irreversible step, and no serious
accessibility violation on any of its pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from browser_kit import Live, assert_accessible, in_first_screen
from buyer_helpers import VALID_IBAN, sent_link
from dealer_api import Dealers, make_dealers
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dealers(live: Live) -> AsyncIterator[Dealers]:
    yield await make_dealers(live.stack.session_factory)


async def test_an_error_is_summarised_at_the_top_and_nothing_ticked_is_lost(
    live: Live, dealers: Dealers, screen: Page
) -> None:
    link = await sent_link(live, dealers, f"iban-{id(screen)}@example.com")
    await screen.goto(link)
    await expect(screen.locator('[aria-current="step"]')).to_contain_text("Conditions générales")
    await assert_accessible(screen)

    await screen.get_by_label("IBAN du compte à prélever").fill("FR76 3000 6000 0112 3456 7890 188")
    await screen.get_by_label("Non, aucun sinistre").check()
    await screen.get_by_label("J'ai lu et j'accepte les conditions générales").check()
    await screen.get_by_role("button", name="Valider et passer à la signature").click()

    summary = screen.locator("#error-summary")
    await expect(summary).to_contain_text("clé de contrôle")
    assert await in_first_screen(screen, "#error-summary")
    assert await screen.evaluate("document.activeElement.id") == "error-summary"
    # Each line leads to its field; what the buyer gave is still there.
    await summary.get_by_role("link").first.click()
    assert await screen.evaluate("location.hash") == "#iban"
    wrong = "FR76 3000 6000 0112 3456 7890 188"
    await expect(screen.get_by_label("IBAN du compte à prélever")).to_have_value(wrong)
    await expect(screen.get_by_label("J'ai lu et j'accepte les conditions générales")).to_be_checked()
    await expect(screen.get_by_label("Non, aucun sinistre")).to_be_checked()
    await assert_accessible(screen)

    # Corrected, the same ticks carry the form to the signature step.
    await screen.get_by_label("IBAN du compte à prélever").fill(VALID_IBAN)
    await screen.get_by_role("button", name="Valider et passer à la signature").click()
    await expect(screen.get_by_role("heading", name="Signature de votre contrat")).to_be_visible()
    await expect(screen.locator('[aria-current="step"]')).to_contain_text("Relecture du contrat")
    # The contract, read on the page (the worker prepares it: the page waits for it), and as a PDF.
    preview = screen.frame_locator('iframe[title="Aperçu du contrat à signer"]')
    await expect(preview.get_by_role("heading", name=re.compile("Proposition de contrat n°"))).to_be_visible(
        timeout=30_000
    )
    await expect(screen.get_by_role("link", name="Télécharger le contrat (PDF)")).to_be_visible()
    await assert_accessible(screen)

    # Signed, then the withdrawal: asked once more, with its deadline, before anything happens.
    await screen.get_by_label("Saisissez vos prénom et nom pour signer").fill("Jeanne Dupont")
    await screen.get_by_role("button", name="Signer le contrat").click()
    await expect(screen.get_by_role("heading", name=re.compile("Votre contrat est signé"))).to_be_visible()
    await assert_accessible(screen)
    await screen.get_by_role("button", name="Me rétracter").click()
    await expect(screen.get_by_role("heading", name="Confirmez-vous votre rétractation ?")).to_be_visible()
    await expect(screen.get_by_text("Vous pouvez vous rétracter jusqu'au")).to_be_visible()
    await assert_accessible(screen)
    await screen.get_by_role("button", name="Oui, je me rétracte").click()
    await expect(screen.get_by_role("heading", name="Votre rétractation est enregistrée")).to_be_visible()
    await assert_accessible(screen)


async def test_declining_needs_a_confirmation_that_says_what_happens(
    live: Live, dealers: Dealers, screen: Page
) -> None:
    link = await sent_link(live, dealers, f"decline-{id(screen)}@example.com")
    await screen.goto(link)

    await screen.get_by_role("button", name="Je ne souhaite pas souscrire").click()
    await expect(screen.get_by_role("heading", name="Refuser cette proposition ?")).to_be_visible()
    await expect(screen.get_by_text("vous ne pourrez plus la signer en ligne")).to_be_visible()
    await assert_accessible(screen)

    # Changing one's mind: back to the proposal, still open.
    await screen.get_by_role("link", name="Non, revenir à la proposition").click()
    await expect(screen.get_by_role("button", name="Valider et passer à la signature")).to_be_visible()

    await screen.get_by_role("button", name="Je ne souhaite pas souscrire").click()
    await screen.get_by_role("button", name="Oui, je refuse la proposition").click()
    await expect(screen.get_by_role("heading", name="Vous avez refusé cette proposition")).to_be_visible()
    await assert_accessible(screen)


async def test_an_unknown_link_gets_a_french_page_that_passes_the_audit(live: Live, screen: Page) -> None:
    response = await screen.goto(f"{live.url}/p/not-a-real-link")
    assert response is not None and response.status == 404
    await expect(screen.locator("h1")).to_be_visible()
    assert await screen.locator("html").get_attribute("lang") == "fr"
    await assert_accessible(screen)
