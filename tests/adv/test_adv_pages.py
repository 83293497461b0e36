"""The French ADV page: staff login by token (signed session cookie), CSRF on every form,
the stuck list with a retry button, the latest retries, logout."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import httpx
from proposal_harness import Proposals, fire
from sqlalchemy import select, update

from db.models import AccessToken, AdvAuditEntry
from workflows.proposal_contract import proposal_id_from_workflow_id


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def log_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await client.get("/adv/login")
    assert form.status_code == 200
    return await client.post("/adv/login", data={"token": token, "csrf": csrf_of(form.text)})


async def test_adv_page_needs_a_staff_login(client: httpx.AsyncClient, tokens) -> None:
    anonymous = await client.get("/adv")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/adv/login"
    form = await client.get("/adv/login")
    assert "Connexion ADV" in form.text and 'type="password"' in form.text

    for role in ("dealer", "inspector"):
        refused = await log_in(client, getattr(tokens, role))
        assert refused.status_code == 403
        assert "n'est pas celui d'un membre de l'ADV" in html.unescape(refused.text)
    unknown = await log_in(client, "cfs_nope")
    assert unknown.status_code == 401 and "Jeton inconnu" in unknown.text
    assert "carflow_adv" not in client.cookies

    # The login form's own CSRF token: a forged post (no login nonce cookie) is refused.
    forged = await httpx.AsyncClient(transport=client._transport, base_url="http://testserver").post(
        "/adv/login", data={"token": tokens.staff, "csrf": csrf_of(form.text)}
    )
    assert forged.status_code == 403 and "Formulaire expiré" in forged.text

    logged = await log_in(client, tokens.staff)
    assert logged.status_code == 303 and logged.headers["location"] == "/adv"
    cookie = logged.headers["set-cookie"]
    assert cookie.startswith("carflow_adv=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/adv" in cookie
    page = await client.get("/adv")
    assert page.status_code == 200
    assert "Workflows bloqués" in page.text and "Aucun workflow bloqué." in page.text
    assert "Alice ADV" in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_a_revoked_token_ends_the_session(client, tokens, session_factory) -> None:
    await log_in(client, tokens.staff)
    assert (await client.get("/adv")).status_code == 200
    async with session_factory() as session:
        await session.execute(update(AccessToken).values(revoked_at=datetime.now(UTC)))
        await session.commit()
    assert (await client.get("/adv")).status_code == 303


async def test_tampered_session_cookie_is_ignored(client, tokens) -> None:
    await log_in(client, tokens.staff)
    value = client.cookies["carflow_adv"]
    client.cookies.set("carflow_adv", value[:-2] + "xx", path="/adv")
    assert (await client.get("/adv")).status_code == 303


async def test_stuck_list_retry_button_and_logout(
    app, client: httpx.AsyncClient, tokens, proposals: Proposals, migrated, session_factory
) -> None:
    handle = await proposals.create()
    await fire(handle, "start_in_person")
    app.state.clock = lambda: datetime(2100, 1, 1, tzinfo=UTC)  # signing open for ages
    await log_in(client, tokens.staff)
    page = await client.get("/adv")
    assert "Signature en attente depuis trop longtemps" in page.text
    assert "en signature" in page.text and "Marie Curie" in page.text
    assert f"/namespaces/default/workflows/{handle.id}" in page.text
    proposal_id = proposal_id_from_workflow_id(handle.id)
    action = f"/adv/proposals/{proposal_id}/retry"
    assert f'action="{action}"' in page.text
    all_running = await client.get("/adv?tous=1")
    assert "Workflows en cours" in all_running.text and "Marie Curie" in all_running.text

    no_csrf = await client.post(action, data={})
    assert no_csrf.status_code == 403
    wrong = await client.post(action, data={"csrf": "forged"})
    assert wrong.status_code == 403
    async with session_factory() as session:
        assert (await session.scalars(select(AdvAuditEntry))).all() == []

    done = await client.post(action, data={"csrf": csrf_of(page.text)})
    assert done.status_code == 303 and done.headers["location"].startswith("/adv?relance=")
    after = await client.get(done.headers["location"])
    assert f"Relance de {handle.id} : relance effectuée" in after.text
    assert "Dernières relances" in after.text and "Alice ADV" in after.text
    async with session_factory() as session:
        [entry] = (await session.scalars(select(AdvAuditEntry))).all()
    assert (entry.via, entry.result, entry.workflow_id) == ("page", "done", handle.id)
    assert "signing open" in entry.detail

    logout_csrf = csrf_of(after.text)
    assert (await client.post("/adv/logout", data={"csrf": "forged"})).status_code == 403
    out = await client.post("/adv/logout", data={"csrf": logout_csrf})
    assert out.status_code == 303 and out.headers["location"] == "/adv/login"
    assert (await client.get("/adv")).status_code == 303
