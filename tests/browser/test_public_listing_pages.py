"""A public listing in a real browser: the vehicle's photo first, the seller one tap away on a
phone, and the answer to a contact visible without scrolling."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import pytest_asyncio
from browser_kit import Live, assert_accessible, in_first_screen
from listings_harness import INTAKE_BODY, SURVEY_BODY, credentials_for, inspector_headers, intake_and_login
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def listing_url(live: Live) -> str:
    """A listing taken in by an inspector (with two photos) and published by its owner."""
    body: dict[str, Any] = copy.deepcopy(INTAKE_BODY)
    body["report"]["photos"] = [
        {"url": f"{live.url}/photos/front.jpg", "caption": "Face avant"},
        {"url": f"{live.url}/photos/rear.jpg", "caption": "Arrière"},
    ]
    async with live.stack.client() as http:
        inspector = await inspector_headers(live.stack.session_factory)
        owner = await intake_and_login(http, inspector, live.sink, body)
        published = await http.post(
            f"/api/v1/owner/listings/{owner['listing_id']}/survey",
            json=SURVEY_BODY,
            headers={"X-CSRF-Token": owner["csrf"]},
        )
    assert published.status_code == 200 and published.json()["state"] == "published", published.text
    return f"{live.url}/annonces/{owner['listing_id']}"


async def test_the_photo_comes_first_and_the_seller_is_one_tap_away(listing_url: str, screen: Page) -> None:
    await screen.goto(listing_url)

    assert await in_first_screen(screen, ".gallery-main img")
    assert await screen.locator(".gallery-main img").get_attribute("alt") == "Face avant"
    await expect(screen.locator(".gallery img")).to_have_count(2)
    contact = screen.get_by_role("link", name="Contacter le vendeur")
    assert await in_first_screen(screen, 'a[href="#contact-title"]')
    await contact.click()
    assert await in_first_screen(screen, "#contact-title")
    await assert_accessible(screen)


async def test_results_show_each_vehicle_s_photo_and_sort_by_mileage(
    live: Live, listing_url: str, screen: Page
) -> None:
    listing_id = listing_url.rsplit("/", 1)[1]
    await screen.goto(f"{live.url}/annonces")
    card = screen.locator("li", has=screen.locator(f'a[href="/annonces/{listing_id}"]'))
    await expect(card.locator(".thumb img")).to_have_attribute("src", f"{live.url}/photos/front.jpg")
    await screen.get_by_label("Trier par").select_option("kilometrage")
    await screen.get_by_role("button", name="Rechercher").click()
    await expect(screen.get_by_role("status")).to_contain_text("du plus faible kilométrage")
    await expect(screen.get_by_label("Trier par")).to_have_value("kilometrage")
    await assert_accessible(screen)


async def test_a_sent_message_is_confirmed_in_the_first_screen(listing_url: str, screen: Page) -> None:
    await screen.goto(listing_url)
    await screen.get_by_role("link", name="Contacter le vendeur").click()
    await screen.get_by_label("Votre nom").fill("Paul Acheteur")
    await screen.get_by_label("Votre adresse e-mail").fill("paul@example.com")
    await screen.get_by_label("Votre message").fill("Bonjour, le véhicule est-il toujours disponible ?")
    await screen.get_by_role("button", name="Envoyer mon message").click()

    await expect(screen.locator("#contact-sent")).to_contain_text("Votre message a été envoyé")
    assert await in_first_screen(screen, "#contact-sent")
    await assert_accessible(screen)


async def test_a_contact_error_opens_on_the_field_to_correct(listing_url: str, phone: Page) -> None:
    await phone.goto(listing_url)
    await phone.get_by_role("link", name="Contacter le vendeur").click()
    await phone.get_by_label("Votre nom").fill("Paul Acheteur")
    await phone.get_by_label("Votre adresse e-mail").fill("pas-une-adresse")
    await phone.get_by_label("Votre message").fill("Bonjour, le véhicule est-il toujours disponible ?")
    await phone.get_by_role("button", name="Envoyer mon message").click()

    # Waits for the answer's page (the click only starts the navigation): a loaded box was
    # seen reading the focus of the page being left.
    await expect(phone.locator("#contact-email")).to_be_focused()
    assert await in_first_screen(phone, "#contact-email")
    await expect(phone.get_by_label("Votre message")).to_have_value(
        "Bonjour, le véhicule est-il toujours disponible ?"
    )


async def test_every_public_and_owner_page_passes_the_audit(
    live: Live, listing_url: str, screen: Page
) -> None:
    listing_id = listing_url.rsplit("/", 1)[1]
    for path in (
        "/annonces",
        "/annonces?marque=Peugeot",
        f"/annonces/{listing_id}",
        "/espace/connexion",
        "/espace/mot-de-passe-oublie",
        "/espace/cgu",
    ):
        await screen.goto(live.url + path)
        await assert_accessible(screen)

    password = await credentials_for(live.sink, INTAKE_BODY["owner"]["email"])
    await screen.goto(live.url + "/espace/connexion")
    await screen.get_by_label("Adresse e-mail").fill(INTAKE_BODY["owner"]["email"])
    await screen.get_by_label("Mot de passe").fill(password)
    await screen.get_by_role("button", name="Connexion").click()
    await expect(screen).to_have_url(f"{live.url}/espace/expertises")
    base = f"/espace/annonces/{listing_id}"
    for path in (
        "/espace/expertises",
        base,
        f"{base}/modifier",
        f"{base}/partager",
        f"{base}/mode-d-emploi",
        f"{base}/annonce",
    ):
        await screen.goto(live.url + path)
        await assert_accessible(screen)
    # The confirmation before "vendu" (nothing is saved until it is confirmed).
    await screen.goto(f"{live.url}{base}/modifier")
    await screen.get_by_label("Mon véhicule a été vendu").check()
    await screen.get_by_role("button", name="Enregistrer").click()
    await expect(screen.get_by_role("heading", name="Votre véhicule a-t-il bien été vendu ?")).to_be_visible()
    await assert_accessible(screen)
