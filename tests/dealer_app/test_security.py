"""Security of the dealer app (issue 13): sessions revoked (logout, password change, reset,
disable), CSRF refused, rate limit and lockout in French, no account enumeration, and a
user acting only as their own centre."""

from __future__ import annotations

import re

import httpx
from dealer_api import insert_proposal_row
from dealer_app_kit import DealerLogin, add_dealer_user, csrf_of, login_client
from fastapi import FastAPI
from listings_harness import mail_text, wait_for_mail
from stack import http_client

from api.dealer_app.deps import DealerPageDep
from api.dealer_app.users import disable_user, enable_user
from api.proposals.views import get_owned_proposal
from api.security import rate_limit
from api.security.passwords import MAX_FAILED_LOGINS
from carflow.settings import Settings
from db.models import utcnow
from support import Sink

WRONG_FR = "Adresse e-mail ou mot de passe incorrect."


async def post_login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/vendeur/connexion")
    return await client.post(
        "/vendeur/connexion", data={"csrf": csrf_of(form.text), "email": email, "password": password}
    )


async def logged_in(client: httpx.AsyncClient) -> bool:
    response = await client.get("/vendeur/compte")
    assert response.status_code in (200, 303)
    return response.status_code == 200


async def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    wrong = await post_login(client, login.email, "pas-le-bon-mot")
    unknown = await post_login(client, "personne@garage.example", "pas-le-bon-mot")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert response.text.count(WRONG_FR) == 2  # at the top and at the field
    missing = await post_login(client, "", "")
    assert missing.status_code == 422
    assert "Indiquez votre adresse e-mail." in missing.text and "Indiquez votre mot de passe." in missing.text


async def test_repeated_failures_lock_the_account_even_for_the_right_password(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert (await post_login(client, login.email, "pas-le-bon-mot")).status_code == 401
    locked = await post_login(client, login.email, "pas-le-bon-mot")
    assert locked.status_code == 429
    assert "Votre compte est verrouillé" in locked.text
    right = await post_login(client, login.email, login.password)
    assert right.status_code == 429 and "verrouillé" in right.text
    assert not await logged_in(client)


async def test_too_many_attempts_from_one_address_get_the_429_page_in_french(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    limit = rate_limit.DEALER_LOGIN_FAILURES_PER_IP
    # A dealership's staff log in from one address: successful logins do not count.
    for _ in range(limit.max_hits + 1):
        client.cookies.clear()  # another person of the centre, another browser
        assert (await post_login(client, login.email, login.password)).status_code == 303
    client.cookies.clear()
    async with session_factory() as session:
        for _ in range(limit.max_hits - 1):
            await rate_limit.hit(session, limit, "127.0.0.1", utcnow())
    assert (await post_login(client, login.email, "pas-le-bon-mot")).status_code == 401  # the last allowed
    response = await post_login(client, login.email, login.password)
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert not await logged_in(client)


async def test_forms_without_a_valid_csrf_token_are_refused(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    await client.get("/vendeur/connexion")
    forged = await client.post(
        "/vendeur/connexion", data={"csrf": "x" * 64, "email": login.email, "password": login.password}
    )
    assert forged.status_code == 403 and "Ce formulaire a expiré" in forged.text
    assert not await logged_in(client)

    token = await login_client(client, login)
    assert (await client.post("/vendeur/deconnexion", data={})).status_code == 403
    change = await client.post(
        "/vendeur/compte/mot-de-passe",
        data={"current": login.password, "password": "nouveau-mot-2026", "confirmation": "nouveau-mot-2026"},
    )
    assert change.status_code == 403
    assert "Ce formulaire a expiré" in change.text and "écrire à l'ADV" in change.text
    assert await logged_in(client)  # nothing happened: still logged in, old password still good
    assert (await client.post("/vendeur/deconnexion", data={"csrf": token})).status_code == 303
    assert (await post_login(client, login.email, login.password)).status_code == 303


async def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    app: FastAPI, client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    async with http_client(app) as other:
        await login_client(other, login)
        token = await login_client(client, login)
        form = await client.get("/vendeur/compte/mot-de-passe")
        assert form.status_code == 200

        refused = await client.post(
            "/vendeur/compte/mot-de-passe",
            data={"csrf": token, "current": "pas-le-bon", "password": "court", "confirmation": "autre"},
        )
        assert refused.status_code == 422
        assert "Ce n&#39;est pas votre mot de passe actuel." in refused.text
        assert "au moins 10 caractères" in refused.text
        assert await logged_in(other)

        new = "nouveau-mot-2026"
        changed = await client.post(
            "/vendeur/compte/mot-de-passe",
            data={"csrf": token, "current": login.password, "password": new, "confirmation": new},
        )
        assert changed.status_code == 303
        assert "Votre mot de passe est changé" in (await client.get(changed.headers["location"])).text
        assert await logged_in(client)
        assert not await logged_in(other)
        assert (await post_login(other, login.email, login.password)).status_code == 401
        assert (await post_login(other, login.email, new)).status_code == 303


async def test_forgotten_password_mails_a_one_time_link_that_ends_every_session(
    app: FastAPI, client: httpx.AsyncClient, session_factory, sink: Sink
) -> None:
    login = await add_dealer_user(session_factory, name="Paul Vendeur")
    async with http_client(app) as stranger:
        await login_client(client, login)
        form = await stranger.get("/vendeur/mot-de-passe/oublie")
        assert form.status_code == 200
        # Known or not, the same answer; only the known address gets a mail.
        for email in ("personne@garage.example", login.email.upper()):
            sent = await stranger.post(
                "/vendeur/mot-de-passe/oublie", data={"csrf": csrf_of(form.text), "email": email}
            )
            assert sent.status_code == 200
            assert "Si un compte vendeur correspond à cette adresse" in sent.text
        (mail,) = await wait_for_mail(sink)
        assert mail["To"] == login.email
        assert "choisir un nouveau mot de passe" in mail["Subject"]
        match = re.search(r"https?://\S+/vendeur/mot-de-passe/(\S+)", mail_text(mail))
        assert match, mail_text(mail)
        link = f"/vendeur/mot-de-passe/{match.group(1)}"

        page = await stranger.get(link)
        assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
        mismatch = await stranger.post(
            link, data={"csrf": csrf_of(page.text), "password": "nouveau-mot-2026", "confirmation": "autre"}
        )
        assert mismatch.status_code == 422 and "ne sont pas identiques" in mismatch.text
        done = await stranger.post(
            link,
            data={
                "csrf": csrf_of(page.text),
                "password": "nouveau-mot-2026",
                "confirmation": "nouveau-mot-2026",
            },
        )
        assert done.status_code == 303 and done.headers["location"] == "/vendeur/connexion?ok=mot-de-passe"
        assert not await logged_in(client)  # the session opened before the reset is over
        again = await stranger.get(link)
        assert again.status_code == 404 and "Ce lien n'est plus valable" in again.text
        assert (await post_login(stranger, login.email, "nouveau-mot-2026")).status_code == 303


async def test_a_disabled_user_is_logged_out_and_cannot_log_in(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    async with session_factory() as session:
        await disable_user(session, login.email, utcnow())
    assert not await logged_in(client)
    refused = await post_login(client, login.email, login.password)
    assert refused.status_code == 401 and WRONG_FR in refused.text  # as an unknown email
    async with session_factory() as session:
        await enable_user(session, login.email)
    assert (await post_login(client, login.email, login.password)).status_code == 303


async def test_a_user_acts_as_their_own_centre_only(
    app: FastAPI, client: httpx.AsyncClient, session_factory, migrated: Settings
) -> None:
    """The page context's principal is the user's centre: the API's authorization applies."""

    @app.get("/vendeur/test-proposition/{proposal_id}")
    async def read_one(proposal_id: str, ctx: DealerPageDep) -> dict[str, str]:
        row = await get_owned_proposal(ctx.session, ctx.principal.id, proposal_id)
        return {"contract_number": row.contract_number, "centre": ctx.dealer.name}

    ours: DealerLogin = await add_dealer_user(session_factory, dealer_name="Garage du Nord")
    theirs = await add_dealer_user(session_factory, dealer_name="Garage du Sud")
    mine = await insert_proposal_row(session_factory, migrated, ours.dealer_id)
    other = await insert_proposal_row(session_factory, migrated, theirs.dealer_id)
    await login_client(client, ours)

    seen = await client.get(f"/vendeur/test-proposition/{mine.id}")
    assert seen.json() == {"contract_number": mine.contract_number, "centre": "Garage du Nord"}
    hidden = await client.get(f"/vendeur/test-proposition/{other.id}")
    assert hidden.status_code == 404
    assert "Garage du Sud" not in (await client.get("/vendeur/compte")).text


async def test_errors_are_french_pages_naming_adv_with_the_contract_number(
    app: FastAPI, client: httpx.AsyncClient, session_factory
) -> None:
    @app.get("/vendeur/test-erreur")
    async def failing(ctx: DealerPageDep) -> None:
        raise ctx.error(502, "L'e-mail de la proposition n'a pas pu être envoyé.", "CF0123456789")

    # A page that does not exist: French, with ADV's address, never the API's JSON.
    unknown = await client.get("/vendeur/page-inconnue")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    assert "Cette page n&#39;existe pas" in unknown.text and "mailto:adv@carflow.example" in unknown.text

    await login_client(client, await add_dealer_user(session_factory))
    page = await client.get("/vendeur/test-erreur")
    assert page.status_code == 502
    assert "Numéro de contrat : <strong>CF0123456789</strong>" in page.text
    mailto = re.search(r'href="(mailto:[^"]+)"', page.text)
    assert mailto and mailto.group(1).startswith("mailto:adv@carflow.example?subject=Contrat%20CF0123456789")
    assert "Gérer mes ventes à distance" in page.text  # the menu: the user is still in the app


async def test_reset_requests_are_rate_limited_per_email_in_french(
    client: httpx.AsyncClient, session_factory, sink: Sink
) -> None:
    login = await add_dealer_user(session_factory)
    form = await client.get("/vendeur/mot-de-passe/oublie")
    answers = [
        await client.post(
            "/vendeur/mot-de-passe/oublie", data={"csrf": csrf_of(form.text), "email": login.email}
        )
        for _ in range(rate_limit.RESET_PER_EMAIL.max_hits + 1)
    ]
    assert [a.status_code for a in answers] == [200] * rate_limit.RESET_PER_EMAIL.max_hits + [429]
    assert "Trop de demandes : patientez une heure" in answers[-1].text
    await wait_for_mail(sink, rate_limit.RESET_PER_EMAIL.max_hits)
    assert len(sink.messages()) == rate_limit.RESET_PER_EMAIL.max_hits  # none for the refused one
