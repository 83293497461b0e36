"""The dealer's "Mon activité" and "Notifications" pages in Chromium (issue 13), at the phone
and desktop viewports: after a real sale (sent, then signed face to face with the SMS code
from the sink), the month's chart and table show it; both pages pass the axe audit."""

from __future__ import annotations

import copy
import re

import httpx
import pytest
from browser_kit import Live, assert_accessible
from dealer_api import VALID_BODY
from dealer_app_kit import DealerLogin, add_dealer_user, login_page
from playwright.async_api import Page, expect

from api.dealer_app.activity_charts import month_label
from carflow.formatting import PARIS
from db.models import utcnow
from support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

SMS_TO = "0612345678@sms.localhost"


async def a_sale(live: Live, login: DealerLogin) -> str:
    """A proposal sent by email, then signed face to face: the contract number."""
    async with httpx.AsyncClient(base_url=live.url, headers=login.api_headers, timeout=30) as api:
        body = copy.deepcopy(VALID_BODY) | {"send": True}
        created = await api.post("/api/v1/proposals", json=body)
        assert created.status_code == 201, created.text
        proposal_id = created.json()["id"]
        texts_before = len([m for m in live.sink.messages() if m["To"] == SMS_TO])
        started = await api.post(
            f"/api/v1/proposals/{proposal_id}/in-person",
            json={
                "iban": "FR7630006000011234567890189",
                "account_holder": "Jeanne Dupont",
                "cg_accepted": True,
            },
        )
        assert started.status_code == 200, started.text

        async def texts() -> list[str]:
            return [
                m.get_body(preferencelist=("plain",)).get_content()
                for m in live.sink.messages()
                if m["To"] == SMS_TO
            ]

        sent = await eventually(texts, lambda found: len(found) > texts_before)
        code = re.search(r"(\d{6})", sent[-1])
        assert code is not None
        signed = await api.post(
            f"/api/v1/proposals/{proposal_id}/in-person/confirm", json={"code": code.group(1)}
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["state"] == "signed"
        return str(created.json()["contract_number"])


async def test_the_activity_chart_shows_the_sale(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live, dealer_name="Garage de la Gare")
    await a_sale(live, login)
    await login_page(screen, live, login, suite="/vendeur/activite")
    await expect(screen.get_by_role("heading", name="Mon activité", level=1)).to_be_visible()

    chart = screen.get_by_role("img", name="Propositions par mois")
    await expect(chart).to_be_visible()
    # The page itself never scrolls sideways (on a phone the chart scrolls in its own box).
    width = await screen.evaluate("document.documentElement.scrollWidth")
    assert width <= (screen.viewport_size or {"width": 0})["width"]
    # The headline figures and the month's row of the table say the sale is counted.
    figures = screen.get_by_role("list", name="Chiffres de la période")
    await expect(figures).to_contain_text("1 envoyée")
    await expect(figures).to_contain_text("1 signée")
    await expect(figures).to_contain_text("100,0 % de conversion")
    month = utcnow().astimezone(PARIS)
    row = screen.locator(
        "#tableau-mois tbody tr", has=screen.get_by_role("rowheader", name=month_label(month.date()))
    )
    await expect(row.locator("td").nth(0)).to_have_text("1")  # sent
    await expect(row.locator("td").nth(2)).to_have_text("1")  # signed
    await expect(screen.get_by_role("img", name="Conversion par vendeur")).to_be_visible()
    await expect(screen.locator("#tableau-vendeurs")).to_contain_text("Paul Vendeur")
    await assert_accessible(screen)

    # The CSV of the same figures downloads from the page.
    async with screen.expect_download() as download_info:
        await screen.get_by_role("link", name="Télécharger ces chiffres (CSV pour Excel)").click()
    download = await download_info.value
    assert re.fullmatch(r"activite-\d{4}-\d{2}-\d{4}-\d{2}\.csv", download.suggested_filename)

    # A bad filter: the French message at the field and at the top, still accessible.
    await screen.goto(f"{live.url}/vendeur/activite?du=mars")
    await expect(screen.locator("#error-summary")).to_contain_text("Mois de début")
    await expect(screen.locator("#du-error")).to_be_visible()
    await assert_accessible(screen)


async def test_the_notifications_page_saves_and_refuses_a_bad_address(live: Live, screen: Page) -> None:
    login = await add_dealer_user(live)
    await login_page(screen, live, login, suite="/vendeur/notifications")
    await expect(screen.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    await assert_accessible(screen)
    await screen.get_by_label("Adresse qui reçoit les notifications").fill("pas-une-adresse")
    await screen.get_by_role("button", name="Enregistrer").click()
    message = "Indiquez une adresse e-mail valide, par exemple contact@garage.fr."
    await expect(screen.locator("#email-error")).to_have_text(message)
    await expect(screen.locator("#error-summary")).to_contain_text(message)
    await assert_accessible(screen)

    await screen.get_by_label("Adresse qui reçoit les notifications").fill("notifs@garage.example")
    await screen.get_by_label("Le client se rétracte après avoir signé").uncheck()
    await screen.get_by_role("button", name="Enregistrer").click()
    await expect(screen.get_by_role("status")).to_have_text(
        "Vos préférences de notification sont enregistrées."
    )
    await expect(screen.get_by_label("Le client se rétracte après avoir signé")).not_to_be_checked()
    await expect(
        screen.get_by_label("Le client signe (la vente est enregistrée dans votre activité)")
    ).to_be_checked()
