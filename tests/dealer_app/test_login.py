"""Logging in and out of the dealer app (issue 13): the form, the session, the redirects."""

from __future__ import annotations

import httpx
from dealer_app_kit import add_dealer_user, csrf_of, login_client

from api.dealer_app.sessions import SESSION_COOKIE


async def test_a_dealer_user_logs_in_sees_the_menu_and_logs_out_for_good(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory, name="Paul Vendeur", dealer_name="Garage du Nord")

    assert 'href="/vendeur"' in (await client.get("/")).text  # the home page leads here
    # Not logged in: every page leads to the login form, which comes back to it afterwards.
    assert (await client.get("/vendeur")).headers["location"] == "/vendeur/connexion"
    before = await client.get("/vendeur/compte")
    assert before.status_code == 303
    assert before.headers["location"] == "/vendeur/connexion?suite=%2Fvendeur%2Fcompte"

    token = await login_client(client, login)
    assert (await client.get("/vendeur")).headers["location"] == "/vendeur/propositions"
    page = await client.get("/vendeur/compte")
    assert page.status_code == 200
    for text in (
        "Gestion des Garanties",
        "Gérer mes ventes à distance",
        "Liste des brouillons / devis",
        "Nouvelle proposition",
        "Mon activité",
        "Paul Vendeur",
        "Garage du Nord",
        "Se déconnecter",
        login.email,
    ):
        assert text in page.text, text
    cookie = client.cookies[SESSION_COOKIE]

    out = await client.post("/vendeur/deconnexion", data={"csrf": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/vendeur/connexion?ok=deconnecte"
    assert "Vous êtes déconnecté." in (await client.get(out.headers["location"])).text
    # The old cookie, kept by someone, no longer opens anything: the session is gone server-side.
    client.cookies.set(SESSION_COOKIE, cookie)
    assert (await client.get("/vendeur/compte")).status_code == 303


async def test_a_wrong_password_is_refused_in_french_at_the_field_and_at_the_top(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    form = await client.get("/vendeur/connexion?suite=/vendeur/activite")
    assert form.status_code == 200
    response = await client.post(
        "/vendeur/connexion",
        data={
            "csrf": csrf_of(form.text),
            "email": login.email,
            "password": "pas le bon",
            "suite": "/vendeur/activite",
        },
    )
    assert response.status_code == 401
    assert response.text.count("Adresse e-mail ou mot de passe incorrect.") == 2
    assert 'id="password-error"' in response.text and 'id="error-top"' in response.text
    assert 'value="/vendeur/activite"' in response.text  # still going where the user was going
    assert SESSION_COOKIE not in response.cookies

    # The right one goes back where the user was going.
    ok = await client.post(
        "/vendeur/connexion",
        data={
            "csrf": csrf_of(response.text),
            "email": login.email.upper(),
            "password": login.password,
            "suite": "/vendeur/activite",
        },
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/vendeur/activite"


async def test_no_open_redirect_and_no_new_proposal_without_the_remote_sale_option(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory, remote_sale_enabled=False)
    form = await client.get("/vendeur/connexion")
    ok = await client.post(
        "/vendeur/connexion",
        data={
            "csrf": csrf_of(form.text),
            "email": login.email,
            "password": login.password,
            "suite": "//evil.example/vendeur/x",
        },
    )
    assert ok.headers["location"] == "/vendeur/propositions"
    page = await client.get("/vendeur/compte")
    assert "Gérer mes ventes à distance" in page.text
    assert "Nouvelle proposition" not in page.text and "/vendeur/propositions/nouvelle" not in page.text
