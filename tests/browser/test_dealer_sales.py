"""The dealer app's remote sales (issue 13) in a real browser, at the phone and desktop viewports:
log in, create and send a proposal and find it in "Gérer mes ventes à distance"; save a devis
and find it in "Liste des brouillons / devis"; the form's error summary. Every page audited."""

from __future__ import annotations

import pytest
from browser_kit import Live, assert_accessible
from dealer_app_kit import add_dealer_user, login_page
from dealer_sales_form import FORM
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Typed into the fields by id (the labels are checked by the audit and the error-summary test).
FILLED = {name: value for name, value in FORM.items() if name not in ("product_kind", "seller_profile")}


async def fill_form(screen: Page, **changes: str) -> None:
    await screen.get_by_label("Type de produit").select_option("insurance")
    for name, value in {**FILLED, **changes}.items():
        await screen.locator(f"#{name}").fill(value)


async def test_create_and_send_then_find_it_in_gerer_mes_ventes_a_distance(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live, dealer_name="Garage du Nord")
    await login_page(screen, live, login, suite="/vendeur/propositions")
    await expect(screen.get_by_role("heading", name="Gérer mes ventes à distance")).to_be_visible()
    await assert_accessible(screen)

    await screen.get_by_role("link", name="Nouvelle proposition").first.click()
    await expect(screen.get_by_role("group", name="VENDEUR")).to_be_visible()
    await assert_accessible(screen)
    await fill_form(screen, buyer_last_name="Dubois-Envoi")
    await screen.get_by_role("button", name="Envoyer par email").click()
    await expect(screen.get_by_role("heading", name="Proposition envoyée")).to_be_visible()
    await expect(screen.get_by_text("envoyée par email à lea.dubois@example.com")).to_be_visible()
    await assert_accessible(screen)

    await screen.get_by_role("link", name="voir mes propositions commerciales").click()
    await screen.wait_for_url(f"{live.url}/vendeur/propositions")
    row = screen.get_by_role("row").filter(has_text="Léa Dubois-Envoi")
    await expect(row).to_contain_text("Envoyée")
    await expect(row).to_contain_text("499,90 €")
    await expect(row.get_by_role("link", name="Consulter la proposition")).to_be_visible()
    await screen.get_by_label("Rechercher").fill("dubois-envoi lea")
    await screen.get_by_role("button", name="Rechercher").click()
    await expect(screen.get_by_role("link", name="Envoyée (1)")).to_be_visible()
    await assert_accessible(screen)


async def test_save_a_devis_then_find_it_in_the_drafts(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live)
    await login_page(screen, live, login, suite="/vendeur/propositions/nouvelle")
    await fill_form(screen, buyer_last_name="Dubois-Devis")
    await screen.get_by_role("button", name="Enregistrer").click()
    await expect(screen.get_by_role("heading", name="Devis enregistré")).to_be_visible()
    await assert_accessible(screen)
    await (
        screen.get_by_role("navigation", name="Menu principal")
        .get_by_role("link", name="Liste des brouillons / devis")
        .click()
    )
    row = screen.get_by_role("row").filter(has_text="Léa Dubois-Devis")
    await expect(row).to_contain_text("Brouillon / devis")
    await assert_accessible(screen)


async def test_the_form_error_summary_links_to_each_field_and_keeps_the_values(
    live: Live, screen: Page
) -> None:
    login = await add_dealer_user(live)
    await login_page(screen, live, login, suite="/vendeur/propositions/nouvelle")
    await fill_form(screen, buyer_email="pas-une-adresse", buyer_address_postal_code="690")
    await screen.get_by_role("button", name="Envoyer par email").click()
    summary = screen.locator("#error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("2 points sont à corriger")
    await expect(screen.locator("#buyer_email-error")).to_contain_text("Indiquez une adresse e-mail valide")
    await expect(screen.locator("#buyer_address_postal_code-error")).to_contain_text("5 chiffres")
    await expect(screen.get_by_label("Ville", exact=True)).to_have_value("Lyon")  # kept
    await assert_accessible(screen)
    await summary.get_by_role("link", name="Indiquez un code postal").click()
    await expect(screen.get_by_label("Code postal")).to_be_focused()


async def test_without_the_option_the_page_says_whom_to_ask(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live, remote_sale_enabled=False)
    await login_page(screen, live, login, suite="/vendeur/propositions")
    await expect(screen.get_by_role("link", name="Nouvelle proposition")).to_have_count(0)
    await screen.goto(f"{live.url}/vendeur/propositions/nouvelle")
    await expect(screen.get_by_text("contactez votre commercial")).to_be_visible()
    await expect(screen.get_by_role("button", name="Envoyer par email")).to_have_count(0)
    await assert_accessible(screen)
