"""The dealer app's login (issue 13), in a real browser at the phone and desktop viewports:
the French error at the field and at the top, the menu, logout for good, and the audit of
the login, forgotten-password, choose-a-password, account and error pages."""

from __future__ import annotations

import pytest
from browser_kit import Live, assert_accessible
from dealer_app_kit import add_dealer_user, login_page
from playwright.async_api import Page, expect

from api.dealer_app.users import issue_password_token
from db.models import DealerUser, utcnow

pytestmark = pytest.mark.asyncio(loop_scope="module")

WRONG_FR = "Adresse e-mail ou mot de passe incorrect."


async def test_log_in_see_the_menu_and_log_out_for_good(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live, name="Paul Vendeur", dealer_name="Garage du Nord")
    await screen.goto(f"{live.url}/vendeur/connexion?suite=/vendeur/compte")
    await assert_accessible(screen)

    await screen.get_by_label("Adresse e-mail").fill(login.email)
    await screen.get_by_label("Mot de passe").fill("pas-le-bon-mot")
    await screen.get_by_role("button", name="Se connecter").click()
    await expect(screen.locator("#error-top")).to_have_text(WRONG_FR)
    await expect(screen.locator("#password-error")).to_have_text(WRONG_FR)
    await expect(screen.get_by_label("Mot de passe")).to_have_attribute("aria-invalid", "true")
    await expect(screen.get_by_label("Adresse e-mail")).to_have_value(login.email)  # kept
    await assert_accessible(screen)

    await screen.get_by_label("Mot de passe").fill(login.password)
    await screen.get_by_role("button", name="Se connecter").click()
    await screen.wait_for_url(f"{live.url}/vendeur/compte")
    menu = screen.get_by_role("navigation", name="Menu principal")
    for item in (
        "Gérer mes ventes à distance",
        "Liste des brouillons / devis",
        "Nouvelle proposition",
        "Mon activité",
        "Notifications",
    ):
        await expect(menu.get_by_role("link", name=item)).to_be_visible()
    await expect(menu.get_by_text("Gestion des Garanties")).to_be_visible()
    await expect(menu.get_by_role("link", name="Paul Vendeur")).to_have_attribute("aria-current", "page")
    await expect(screen.get_by_text("Garage du Nord").first).to_be_visible()
    await assert_accessible(screen)

    kept = await screen.context.cookies()
    await menu.get_by_role("button", name="Se déconnecter").click()
    await screen.wait_for_url(f"{live.url}/vendeur/connexion?ok=deconnecte")
    await expect(screen.get_by_role("status")).to_have_text("Vous êtes déconnecté.")
    # The old session cookie, put back, opens nothing: the session ended on the server.
    await screen.context.add_cookies(kept)  # type: ignore[arg-type]
    await screen.goto(f"{live.url}/vendeur/compte")
    await expect(screen.get_by_role("button", name="Se connecter")).to_be_visible()
    assert "/vendeur/connexion" in screen.url


async def test_forgotten_password_and_choose_a_password_pages(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live)
    await screen.goto(f"{live.url}/vendeur/connexion")
    await screen.get_by_role("link", name="Mot de passe oublié ?").click()
    await expect(screen.get_by_role("heading", name="Mot de passe oublié")).to_be_visible()
    await assert_accessible(screen)
    await screen.get_by_role("button", name="Recevoir un lien").click()
    await expect(screen.locator("#email-error")).to_have_text("Indiquez une adresse e-mail valide.")
    await expect(screen.locator("#error-summary")).to_contain_text("Indiquez une adresse e-mail valide.")
    await assert_accessible(screen)
    await screen.get_by_label("Adresse e-mail").fill(login.email)
    await screen.get_by_role("button", name="Recevoir un lien").click()
    await expect(screen.get_by_role("status")).to_contain_text("Si un compte vendeur correspond")

    async with live.stack.session_factory() as session:
        user = await session.get(DealerUser, login.user_id)
        assert user is not None
        token = await issue_password_token(session, user, "set", utcnow())
    await screen.goto(f"{live.url}/vendeur/mot-de-passe/{token}")
    await expect(screen.get_by_role("heading", name="Choisir votre mot de passe")).to_be_visible()
    await assert_accessible(screen)
    await screen.locator("#password").fill("court")
    await screen.locator("#confirmation").fill("court")
    await screen.get_by_role("button", name="Enregistrer le mot de passe").click()
    await expect(screen.locator("#password-error")).to_contain_text("au moins 10 caractères")
    await assert_accessible(screen)
    await screen.locator("#password").fill("un-mot-de-passe-2026")
    await screen.locator("#confirmation").fill("un-mot-de-passe-2026")
    await screen.get_by_role("button", name="Enregistrer le mot de passe").click()
    await expect(screen.get_by_role("status")).to_contain_text("Votre mot de passe est enregistré")
    await screen.goto(f"{live.url}/vendeur/mot-de-passe/{token}")
    await expect(screen.get_by_role("alert")).to_contain_text("Ce lien n'est plus valable")
    await assert_accessible(screen)


async def test_the_error_page_names_adv_with_a_prefilled_mail(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live)
    await login_page(screen, live, login, suite="/vendeur/compte/mot-de-passe")
    await screen.wait_for_url(f"{live.url}/vendeur/compte/mot-de-passe")
    await assert_accessible(screen)
    # A form whose token does not match (expired, or posted from elsewhere): the 403 page.
    await screen.locator("form[action='/vendeur/compte/mot-de-passe'] input[name=csrf]").evaluate(
        "input => input.value = 'x'"
    )
    await screen.get_by_role("button", name="Changer de mot de passe").click()
    await expect(screen.get_by_role("heading", name="Une erreur est survenue")).to_be_visible()
    await expect(screen.get_by_text("Ce formulaire a expiré")).to_be_visible()
    mailto = await screen.get_by_role("link", name="écrire à l'ADV").get_attribute("href")
    assert mailto is not None and mailto.startswith(f"mailto:{live.settings.adv_email}?subject=")
    await assert_accessible(screen)
