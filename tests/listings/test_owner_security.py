"""Security of the owner space: isolation, lockout, CSRF, sessions, password reset, report tokens."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from listings_harness import (
    SURVEY_BODY,
    ListingHarness,
    api_login,
    credentials_for,
    csrf_of,
    intake_body,
    login_page,
    mail_text,
    post_intake,
    wait_for_mail,
)

from api.security.passwords import LOCK_DURATION, MAX_FAILED_LOGINS
from db.models import utcnow
from support import Sink

ALICE = "alice@example.com"
BOB = "bob@example.com"


def body_for(email: str, registration: str) -> dict[str, Any]:
    body = intake_body(
        owner={"email": email, "first_name": email.split("@")[0].title(), "last_name": "Martin"}
    )
    body["vehicle"]["registration"] = registration
    return body


@pytest.fixture
async def two_owners(
    client: httpx.AsyncClient, inspector: dict, listings: ListingHarness, sink: Sink
) -> dict[str, dict[str, str]]:
    alice = await post_intake(client, inspector, body_for(ALICE, "AA-111-AA"))
    bob = await post_intake(client, inspector, body_for(BOB, "BB-222-BB"))
    return {
        "alice": {**alice, "password": await credentials_for(sink, ALICE)},
        "bob": {**bob, "password": await credentials_for(sink, BOB)},
    }


async def test_an_owner_never_sees_or_edits_another_owners_listing(
    client: httpx.AsyncClient, two_owners: dict
) -> None:
    alice, bob = two_owners["alice"], two_owners["bob"]
    assert (await api_login(client, BOB, bob["password"])).status_code == 200
    assert (
        await client.post(f"/api/v1/owner/listings/{bob['listing_id']}/survey", json=SURVEY_BODY)
    ).is_success

    page = (await client.get("/api/v1/owner/listings")).json()
    assert [item["id"] for item in page["items"]] == [bob["listing_id"]]

    theirs = f"/api/v1/owner/listings/{alice['listing_id']}"
    for response in (
        await client.get(theirs),
        await client.post(f"{theirs}/survey", json=SURVEY_BODY),
        await client.patch(theirs, json={"price_cents": 1}),
        await client.post(f"{theirs}/sold"),
        await client.get(f"{theirs}/report.pdf"),
        await client.post(f"{theirs}/share", json={"email": "x@example.com", "message": "Bonjour"}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"

    for path in (
        "",
        "/questionnaire",
        "/modifier",
        "/partager",
        "/rapport.pdf",
        "/annonce",
        "/mode-d-emploi",
    ):
        response = await client.get(f"/espace/annonces/{alice['listing_id']}{path}")
        assert response.status_code == 404, path
    mine = await client.get("/espace/expertises")
    assert "BB-222-BB" in mine.text and "AA-111-AA" not in mine.text
    forged = await client.post(
        f"/espace/annonces/{alice['listing_id']}/modifier",
        data={"csrf": csrf_of(mine.text), "published": "yes", "price": "1", "location": "x"},
    )
    assert forged.status_code == 404
    # Alice's listing is untouched.
    client.cookies.clear()
    await api_login(client, ALICE, alice["password"])
    assert (await client.get(f"/api/v1/owner/listings/{alice['listing_id']}")).json()[
        "state"
    ] == "pending_survey"


async def test_five_wrong_passwords_lock_the_account_with_a_clear_message(
    app, client: httpx.AsyncClient, two_owners: dict
) -> None:  # noqa: ANN001
    alice = two_owners["alice"]
    for attempt in range(1, MAX_FAILED_LOGINS):
        response = await api_login(client, ALICE, f"wrong-{attempt}")
        assert response.status_code == 401, attempt
    locked = await api_login(client, ALICE, "wrong-5")
    assert locked.status_code == 429
    error = locked.json()["error"]
    assert error["code"] == "account_locked"
    assert "verrouillé après 5 tentatives" in error["message_fr"]
    assert "Retry-After" in locked.headers
    # The right password does not get in while locked; Bob is not affected.
    assert (await api_login(client, ALICE, alice["password"])).json()["error"]["code"] == "account_locked"
    assert (await api_login(client, BOB, two_owners["bob"]["password"])).status_code == 200
    client.cookies.clear()

    # The page says it in French.
    page = await login_page(client, ALICE, alice["password"])
    assert page.status_code == 429
    assert "Votre compte est verrouillé après 5 tentatives de connexion infructueuses" in page.text
    assert "Mot de passe oublié" in page.text

    # After the lock: the right password works again.
    app.state.clock = lambda: utcnow() + LOCK_DURATION + timedelta(seconds=1)
    assert (await api_login(client, ALICE, alice["password"])).status_code == 200


async def test_login_page_locks_too_and_unknown_emails_answer_the_same(
    client: httpx.AsyncClient, two_owners: dict
) -> None:
    for _ in range(MAX_FAILED_LOGINS - 1):
        response = await login_page(client, ALICE, "nope-nope-nope")
        assert response.status_code == 401
        assert "Adresse e-mail ou mot de passe incorrect." in response.text
    unknown = await login_page(client, "nobody@example.com", "nope-nope-nope")
    assert unknown.status_code == 401 and "Adresse e-mail ou mot de passe incorrect." in unknown.text
    fifth = await login_page(client, ALICE, "nope-nope-nope")
    assert fifth.status_code == 429 and "verrouillé" in fifth.text


async def test_forms_need_their_csrf_token(
    client: httpx.AsyncClient, visitor: httpx.AsyncClient, two_owners: dict, sink: Sink
) -> None:
    alice = two_owners["alice"]
    listing = alice["listing_id"]
    # Login form without (or with a wrong) token: refused, nobody logged in.
    await client.get("/espace/connexion")
    for token in ("", "forged"):
        response = await client.post(
            "/espace/connexion", data={"csrf": token, "email": ALICE, "password": alice["password"]}
        )
        assert response.status_code == 403
        assert "formulaire a expiré" in response.text
    assert (await client.get("/espace/expertises")).status_code == 303
    # A token from another browser does not work either (it is bound to the cookie).
    other = await visitor.get("/espace/connexion")
    response = await client.post(
        "/espace/connexion", data={"csrf": csrf_of(other.text), "email": ALICE, "password": alice["password"]}
    )
    assert response.status_code == 403

    assert (await login_page(client, ALICE, alice["password"])).status_code == 303
    answers = {f"answer_{i}": "excellent" for i in range(4)}
    survey = await client.post(
        f"/espace/annonces/{listing}/questionnaire", data={**answers, "publish": "yes", "cgu_accepted": "yes"}
    )
    assert survey.status_code == 403
    assert (await client.get(f"/api/v1/owner/listings/{listing}")).json()["state"] == "pending_survey"
    page = await client.get(f"/espace/annonces/{listing}/questionnaire")
    token = csrf_of(page.text)
    ok = await client.post(
        f"/espace/annonces/{listing}/questionnaire",
        data={**answers, "publish": "yes", "cgu_accepted": "yes", "csrf": token},
    )
    assert ok.status_code == 303

    for path, data in (
        ("/modifier", {"published": "", "price": "1000", "location": "Paris", "sold": "yes"}),
        ("/partager", {"email": "buyer@example.com", "message": "Bonjour"}),
    ):
        response = await client.post(f"/espace/annonces/{listing}{path}", data=data)
        assert response.status_code == 403, path
    assert (await client.post("/espace/deconnexion", data={})).status_code == 403
    state = (await client.get(f"/api/v1/owner/listings/{listing}")).json()
    assert (state["state"], state["price_cents"]) == ("published", 1_290_000)

    # The public contact form too.
    contact = await visitor.post(
        f"/annonces/{listing}/contact",
        data={"name": "Paul", "email": "paul@example.com", "message": "Toujours disponible ?"},
    )
    assert contact.status_code == 403
    assert all("contacte" not in s for s in sink.subjects())

    # The JSON API refuses cross-site attempts: form-encoded bodies, foreign origins, bad header.
    assert (await client.post(f"/api/v1/owner/listings/{listing}/sold", data={"x": "1"})).status_code == 403
    assert (
        await client.post(
            f"/api/v1/owner/listings/{listing}/sold", headers={"Origin": "https://evil.example"}
        )
    ).status_code == 403
    assert (
        await client.post(f"/api/v1/owner/listings/{listing}/sold", headers={"X-CSRF-Token": "forged"})
    ).status_code == 403
    assert (await client.get(f"/api/v1/owner/listings/{listing}")).json()["state"] == "published"
    # The header from the login answer works.
    client.cookies.delete("carflow_csrf")
    token = (await api_login(client, ALICE, alice["password"])).json()["csrf_token"]
    sold = await client.post(
        f"/api/v1/owner/listings/{listing}/sold",
        headers={"X-CSRF-Token": token, "Origin": "http://testserver"},
    )
    assert sold.status_code == 200 and sold.json()["state"] == "sold"


async def test_report_token_is_unguessable_and_the_only_way_to_a_private_report(
    client: httpx.AsyncClient, visitor: httpx.AsyncClient, two_owners: dict
) -> None:
    alice, bob = two_owners["alice"], two_owners["bob"]
    tokens = [o["report_url"].rsplit("/r/", 1)[1] for o in (alice, bob)]
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 256 bits of HMAC output
        # Not derived from anything public: no id, no reference in it.
        assert alice["listing_id"] not in token and alice["inspection_id"].replace("-", "") not in token
    assert tokens[0] != tokens[1]

    # Alice keeps her listing private.
    await api_login(client, ALICE, alice["password"])
    private = await client.post(
        f"/api/v1/owner/listings/{alice['listing_id']}/survey", json={**SURVEY_BODY, "publish": False}
    )
    assert private.json()["state"] == "private"
    assert (await visitor.get(f"/annonces/{alice['listing_id']}")).status_code == 404
    assert (await visitor.get(f"/api/v1/listings/{alice['listing_id']}")).status_code == 404
    assert (await visitor.get("/api/v1/listings")).json()["total"] == 0

    report = await visitor.get(f"/r/{tokens[0]}")
    assert report.status_code == 200
    assert "AA-111-AA" in report.text and "Embrayage" in report.text and "Rayure légère" in report.text
    assert report.headers["Referrer-Policy"] == "no-referrer"
    assert "Alice" not in report.text and ALICE not in report.text  # no owner data in a shared report
    pdf = await visitor.get(f"/r/{tokens[0]}/rapport.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"

    for wrong in (
        tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B"),
        "x" * 43,
        alice["inspection_id"],
        "a",
    ):
        assert (await visitor.get(f"/r/{wrong}")).status_code == 404
        assert (await visitor.get(f"/r/{wrong}/rapport.pdf")).status_code == 404

    # The owner sees their private listing with the banner; the public does not.
    preview = await client.get(f"/espace/annonces/{alice['listing_id']}/annonce")
    assert "Votre annonce est invisible pour le public." in preview.text
    assert "Cette expertise est privée, elle n'est pas accessible sur le site" in preview.text
    own_view = await client.get(f"/annonces/{alice['listing_id']}")
    assert own_view.status_code == 200 and "invisible pour le public" in own_view.text


async def test_sessions_are_signed_and_end_with_a_password_reset(
    client: httpx.AsyncClient, visitor: httpx.AsyncClient, two_owners: dict, sink: Sink
) -> None:
    alice = two_owners["alice"]
    await api_login(client, ALICE, alice["password"])
    assert (await client.get("/api/v1/owner/me")).status_code == 200
    # A tampered cookie is nobody.
    cookie = client.cookies.get("carflow_owner")
    assert cookie
    visitor.cookies.set("carflow_owner", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert (await visitor.get("/api/v1/owner/me")).status_code == 401

    # "Mot de passe oublié": a one-time link by email.
    form = await visitor.get("/espace/mot-de-passe-oublie")
    asked = await visitor.post(
        "/espace/mot-de-passe-oublie", data={"csrf": csrf_of(form.text), "email": ALICE}
    )
    assert asked.status_code == 200 and "Si un compte correspond" in asked.text
    unknown = await visitor.post(
        "/espace/mot-de-passe-oublie", data={"csrf": csrf_of(form.text), "email": "nobody@example.com"}
    )
    assert unknown.status_code == 200 and "Si un compte correspond" in unknown.text
    before = len(sink.messages())
    await wait_for_mail(sink, before)
    [reset_mail] = [m for m in sink.messages() if "réinitialisation" in str(m["Subject"])]
    assert reset_mail["To"] == ALICE
    link = re.search(r"http://127\.0\.0\.1:8000(/espace/mot-de-passe/\S+)", mail_text(reset_mail))
    assert link
    path = link.group(1)

    page = await visitor.get(path)
    assert page.status_code == 200
    short = await visitor.post(
        path, data={"csrf": csrf_of(page.text), "password": "court", "confirmation": "court"}
    )
    assert short.status_code == 422 and "au moins 10 caractères" in short.text
    done = await visitor.post(
        path,
        data={
            "csrf": csrf_of(page.text),
            "password": "un-nouveau-secret",
            "confirmation": "un-nouveau-secret",
        },
    )
    assert (done.status_code, done.headers["location"]) == (303, "/espace/connexion?ok=reinitialise")
    # The link works once; the old password and the old session are over.
    assert (await visitor.get(path)).status_code == 404
    assert (await client.get("/api/v1/owner/me")).status_code == 401
    assert (await api_login(visitor, ALICE, alice["password"])).status_code == 401
    assert (await api_login(visitor, ALICE, "un-nouveau-secret")).status_code == 200


async def test_contact_form_is_rate_limited_has_a_honeypot_and_length_limits(
    client: httpx.AsyncClient, visitor: httpx.AsyncClient, two_owners: dict, sink: Sink
) -> None:
    alice = two_owners["alice"]
    await api_login(client, ALICE, alice["password"])
    await client.post(f"/api/v1/owner/listings/{alice['listing_id']}/survey", json=SURVEY_BODY)
    url = f"/api/v1/listings/{alice['listing_id']}/contact"
    message = {"name": "Paul", "email": "paul@example.com", "message": "Toujours disponible ?"}

    for body, field in (
        ({**message, "message": "x" * 2001}, "message"),
        ({**message, "message": "Salut"}, "message"),
        ({**message, "email": "paul"}, "email"),
        ({**message, "name": "x" * 101}, "name"),
        ({**message, "phone": "123"}, "phone"),
        ({**message, "website": "y" * 201}, "website"),
    ):
        response = await visitor.post(url, json=body)
        assert response.status_code == 422, body
        assert field in [f["field"] for f in response.json()["error"]["fields"]]

    before = len(sink.messages())
    # The honeypot: a bot filling the hidden field is told "sent", and nothing is sent.
    trap = await visitor.post(url, json={**message, "website": "http://spam.example"})
    assert (trap.status_code, trap.json()) == (202, {"status": "sent"})
    for _ in range(4):
        assert (await visitor.post(url, json=message)).status_code == 202
    limited = await visitor.post(url, json=message)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    await wait_for_mail(sink, before + 4)
    assert len([s for s in sink.subjects() if "contacte" in s]) == 4

    # Pages answer oversized messages with the field named, in French.
    detail = await visitor.get(f"/annonces/{alice['listing_id']}")
    long = await visitor.post(
        f"/annonces/{alice['listing_id']}/contact",
        data={
            "csrf": csrf_of(detail.text),
            "name": "Paul",
            "email": "paul@example.com",
            "message": "x" * 2001,
        },
    )
    assert long.status_code == 422
    assert "Votre message doit contenir entre 10 et 2000 caractères." in long.text


async def test_login_is_rate_limited_per_address(
    client: httpx.AsyncClient, two_owners: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.security import rate_limit

    monkeypatch.setattr(rate_limit, "LOGIN_PER_IP", rate_limit.Limit("login-ip", 3, timedelta(minutes=15)))
    # Trying many accounts from one address: no account gets locked, the address is slowed down.
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        assert (await api_login(client, email, "guess")).status_code == 401
    limited = await api_login(client, "d@example.com", "guess")
    assert (limited.status_code, limited.json()["error"]["code"]) == (429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0
    page = await login_page(client, ALICE, two_owners["alice"]["password"])
    assert page.status_code == 429 and "Trop de tentatives" in page.text


async def test_logout_ends_the_session_on_the_server_a_kept_cookie_no_longer_works(
    client: httpx.AsyncClient, visitor: httpx.AsyncClient, two_owners: dict, session_factory
) -> None:
    """Before: the cookie was a signed token only, so after logout a copy worked for up to 8 h."""
    from sqlalchemy import func, select

    from db.models import OwnerSession

    alice = two_owners["alice"]
    logged_in = await api_login(client, ALICE, alice["password"])
    cookie = client.cookies.get("carflow_owner")
    assert cookie
    async with session_factory() as session:
        stored = list(await session.scalars(select(OwnerSession.token_hash)))
    assert len(stored) == 1 and cookie not in stored[0]  # opaque, and only its hash is kept

    # The JSON API's logout: the copied cookie is nobody afterwards.
    visitor.cookies.set("carflow_owner", cookie)
    assert (await visitor.get("/api/v1/owner/me")).status_code == 200
    out = await client.post("/api/v1/owner/logout", headers={"X-CSRF-Token": logged_in.json()["csrf_token"]})
    assert out.status_code == 204, out.text
    assert (await visitor.get("/api/v1/owner/me")).status_code == 401
    assert (await visitor.get("/espace/expertises", follow_redirects=False)).status_code == 303

    # The page's logout too.
    await api_login(client, ALICE, alice["password"])
    cookie = client.cookies.get("carflow_owner")
    visitor.cookies.set("carflow_owner", cookie)
    mine = await client.get("/espace/expertises")
    assert mine.status_code == 200
    assert (await client.post("/espace/deconnexion", data={"csrf": csrf_of(mine.text)})).status_code == 303
    assert (await visitor.get("/api/v1/owner/me")).status_code == 401
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(OwnerSession)) == 0
