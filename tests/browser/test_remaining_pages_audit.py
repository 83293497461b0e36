"""The pages the journeys above do not reach, audited: a new owner's questionnaire, the
inspection report, a password reset, `citroen` finding a Citroën (both viewports), the
general conditions, the contract preview, and the buyer's pages of a draft or an expired
proposal."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from browser_kit import Live, assert_accessible
from buyer_helpers import sent_link
from dealer_api import Dealers, insert_proposal_row, make_dealers
from listings_harness import INTAKE_BODY, SURVEY_BODY, credentials_for, inspector_headers, post_intake
from playwright.async_api import Page, expect

from carflow.links import buyer_token
from support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")
OWNER = "chloe.lefevre@example.com"


async def intake(live: Live, email: str, vehicle: dict[str, str]) -> dict[str, Any]:
    """An intake through the API; its owner's mailed password under "password"."""
    body: dict[str, Any] = copy.deepcopy(INTAKE_BODY)
    body["owner"] = {"email": email, "first_name": "Chloé", "last_name": "Lefèvre"}
    body["vehicle"] |= vehicle
    async with live.stack.client() as http:
        created = await post_intake(http, await inspector_headers(live.stack.session_factory), body)
    return {**created, "password": await credentials_for(live.sink, email)}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def newcomer(live: Live) -> dict[str, Any]:
    """An owner whose inspection is not yet through the questionnaire."""
    return await intake(live, OWNER, {"make": "Renault", "model": "Clio", "vin": "VF15RBF0A12345678"})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def citroen(live: Live) -> str:
    """A Citroën published by its owner (through the owner API); its listing id."""
    created = await intake(
        live,
        "remi.moreau@example.com",
        {"make": "Citroën", "model": "C4 Picasso", "vin": "VF7UDBHY6GJ123456"},
    )
    async with live.stack.client() as http:
        login = await http.post(
            "/api/v1/owner/login", json={"email": "remi.moreau@example.com", "password": created["password"]}
        )
        published = await http.post(
            f"/api/v1/owner/listings/{created['listing_id']}/survey",
            json=SURVEY_BODY,
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
    assert published.json()["state"] == "published", published.text
    return str(created["listing_id"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dealers(live: Live) -> Dealers:
    return await make_dealers(live.stack.session_factory)


async def test_the_questionnaire_the_report_and_a_password_reset(
    live: Live, newcomer: dict[str, Any], desktop: Page
) -> None:
    page = desktop
    await page.goto(f"{live.url}/espace/connexion")
    await page.get_by_label("Adresse e-mail").fill(OWNER)
    await page.get_by_label("Mot de passe").fill(newcomer["password"])
    await page.get_by_role("button", name="Connexion").click()
    await expect(page).to_have_url(f"{live.url}/espace/expertises")
    await page.get_by_role("link", name="Compléter le questionnaire").click()
    await expect(page.get_by_role("heading", name="Questionnaire de satisfaction")).to_be_visible()
    await assert_accessible(page)

    for question in range(4):
        await page.locator(f"#answer-{question}-very_good").check()
    await page.get_by_label("Non, garder mon expertise privée").check()
    await page.get_by_label("J'accepte les").check()
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.locator("#report-url")).to_be_visible()

    # The report a seller shares.
    await page.goto(await page.locator("#report-url").input_value())
    await expect(page.locator("h1")).to_be_visible()
    await assert_accessible(page)

    # A forgotten password: the link mailed opens the page that sets a new one.
    await page.context.clear_cookies()
    await page.goto(f"{live.url}/espace/mot-de-passe-oublie")
    await page.get_by_label("Adresse e-mail").fill(OWNER)
    await page.get_by_role("button", name="Recevoir un lien").click()
    link = await eventually(lambda: _reset_link(live))
    await page.goto(link)
    await expect(page.locator("h1")).to_be_visible()
    await assert_accessible(page)


async def _reset_link(live: Live) -> str | None:
    for mail in live.sink.messages():
        if mail["To"] == OWNER and "/espace/mot-de-passe/" in mail.get_body(("plain",)).get_content():
            found = re.search(
                r"https?://\S+/espace/mot-de-passe/\S+", mail.get_body(("plain",)).get_content()
            )
            return found.group(0) if found else None
    return None


async def test_citroen_finds_the_citroen(live: Live, citroen: str, screen: Page) -> None:
    await screen.goto(f"{live.url}/annonces?marque=citroen")
    await expect(screen.locator(f'a[href="/annonces/{citroen}"]')).to_be_visible()
    await assert_accessible(screen)


async def test_the_buyer_pages_of_a_draft_and_an_expired_proposal(
    live: Live, dealers: Dealers, screen: Page
) -> None:
    for state in ("draft", "expired"):
        row = await insert_proposal_row(live.stack.session_factory, live.settings, dealers.a.id, state=state)
        response = await screen.goto(f"{live.url}/p/{buyer_token(live.settings, row.id)}")
        assert response is not None and response.status == 200, state
        await expect(screen.locator("h1")).to_be_visible()
        await expect(screen.get_by_text("Garage Nord").first).to_be_visible()  # whom to call
        await assert_accessible(screen)


async def test_the_general_conditions_and_the_contract_preview(
    live: Live, dealers: Dealers, screen: Page
) -> None:
    row = await insert_proposal_row(live.stack.session_factory, live.settings, dealers.a.id, state="viewed")
    token = buyer_token(live.settings, row.id)
    await screen.goto(f"{live.url}/p/{token}/conditions")
    await expect(screen.get_by_text("Droit de rétractation").first).to_be_visible()
    await assert_accessible(screen)
    await screen.goto(f"{live.url}/p/{token}/apercu")
    await expect(screen.locator("h1")).to_contain_text("Proposition de contrat n°")
    await assert_accessible(screen)


async def test_the_en_cours_pages_pass_the_audit(
    live: Live, dealers: Dealers, screen: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.lifecycle_client as lifecycle_client

    # A contract the worker has not made yet: "en préparation", refreshing by itself.
    row = await insert_proposal_row(live.stack.session_factory, live.settings, dealers.a.id, state="signing")
    await screen.goto(f"{live.url}/p/{buyer_token(live.settings, row.id)}/contract.pdf")
    await expect(screen.get_by_role("heading", name="Votre document est en préparation")).to_be_visible()
    await assert_accessible(screen)

    # An action the workflow did not take in time: it will not happen (the worker refuses the
    # late copy), so a French page says so and to try again. (Its own tab: the page above
    # keeps refreshing itself.)
    page = await screen.context.new_page()
    link = await sent_link(live, dealers, f"pending-{id(screen)}@example.com")
    await page.goto(link)
    await page.get_by_role("button", name="Je ne souhaite pas souscrire").click()
    monkeypatch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(milliseconds=1))
    await page.get_by_role("button", name="Oui, je refuse la proposition").click()
    await expect(page.get_by_role("alert")).to_contain_text("votre demande n'a pas pu être enregistrée")
    await assert_accessible(page)
