"""The browser harness itself: a real Chromium reaches the live app at both viewports, and the
accessibility audit finds what it must find (so a clean audit elsewhere means something)."""

from __future__ import annotations

import pytest
from browser_kit import Live, assert_accessible, audit, in_first_screen
from playwright.async_api import Page

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_the_home_page_is_served_to_a_real_browser_at_both_viewports(live: Live, screen: Page) -> None:
    response = await screen.goto(live.url + "/")

    assert response is not None and response.status == 200
    assert await screen.locator("html").get_attribute("lang") == "fr"
    # Nothing wider than the viewport: no sideways scrolling on a phone.
    overflow = await screen.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert await in_first_screen(screen, "h1")


async def test_the_audit_reports_serious_violations_and_passes_a_clean_page(phone: Page) -> None:
    await phone.set_content(
        "<!doctype html><html lang='fr'><head><title>t</title></head><body><main>"
        "<h1>Formulaire</h1><form><input type='text' name='iban'><button></button></form>"
        "</main></body></html>"
    )
    found = {violation["id"] for violation in await audit(phone)}
    assert {"label", "button-name"} <= found

    await phone.set_content(
        "<!doctype html><html lang='fr'><head><title>t</title></head><body><main>"
        "<h1>Formulaire</h1><form><label for='iban'>IBAN</label><input id='iban' name='iban'>"
        "<button>Valider</button></form></main></body></html>"
    )
    await assert_accessible(phone)
