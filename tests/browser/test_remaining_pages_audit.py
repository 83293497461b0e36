"""The pages the journeys above do not reach, audited at both viewports: a new owner's
questionnaire (then `citroen` finds the Citroën just published), the inspection report, the
general conditions, the contract preview, and the buyer's pages of a draft or an expired
proposal."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import pytest_asyncio
from browser_kit import Live, assert_accessible
from dealer_api import Dealers, insert_proposal_row, make_dealers
from listings_harness import INTAKE_BODY, credentials_for, inspector_headers, post_intake
from playwright.async_api import Page, expect

from carflow.links import buyer_token

pytestmark = pytest.mark.asyncio(loop_scope="module")
OWNER = "chloe.lefevre@example.com"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def citroen(live: Live) -> dict[str, Any]:
    """An intake of a Citroën, its owner not yet through the questionnaire."""
    body: dict[str, Any] = copy.deepcopy(INTAKE_BODY)
    body["owner"] = {"email": OWNER, "first_name": "Chloé", "last_name": "Lefèvre"}
    body["vehicle"] |= {"make": "Citroën", "model": "C4 Picasso", "vin": "VF7UDBHY6GJ123456"}
    async with live.stack.client() as http:
        created = await post_intake(http, await inspector_headers(live.stack.session_factory), body)
    return {**created, "password": await credentials_for(live.sink, OWNER)}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dealers(live: Live) -> Dealers:
    return await make_dealers(live.stack.session_factory)


async def test_the_questionnaire_then_citroen_finds_the_citroen(
    live: Live, citroen: dict[str, Any], desktop: Page
) -> None:
    page = desktop
    await page.goto(f"{live.url}/espace/connexion")
    await page.get_by_label("Adresse e-mail").fill(OWNER)
    await page.get_by_label("Mot de passe").fill(citroen["password"])
    await page.get_by_role("button", name="Connexion").click()
    await expect(page).to_have_url(f"{live.url}/espace/expertises")
    await page.get_by_role("link", name="Compléter le questionnaire").click()
    await expect(page.get_by_role("heading", name="Questionnaire de satisfaction")).to_be_visible()
    await assert_accessible(page)

    for question in range(4):
        await page.locator(f"#answer-{question}-very_good").check()
    await page.get_by_label("Oui, publier mon annonce").check()
    await page.get_by_label("J'accepte les").check()
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_text("En ligne")).to_be_visible()

    # The report a seller shares, then the public search without the accent.
    report = await page.locator("#report-url").input_value()
    await page.goto(report)
    await expect(page.locator("h1")).to_be_visible()
    await assert_accessible(page)
    await page.goto(f"{live.url}/annonces?marque=citroen")
    await expect(page.get_by_role("link", name="Citroën C4 Picasso")).to_be_visible()
    await assert_accessible(page)


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
