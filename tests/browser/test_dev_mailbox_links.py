"""The dev mailbox opens a mail's links in a new top-level tab, where the page's forms work
(inside the mail's sandboxed frame a form cannot be submitted: the first thing a newcomer tries)."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

import pytest
from browser_kit import Live, assert_accessible
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _deliver(live: Live, link: str) -> str:
    """Stores a mail as the dev SMTP sink does (a Maildir message) and returns its key."""
    message = EmailMessage()
    message["From"] = "Carflow <noreply@carflow.example>"
    message["To"] = "marie@example.com"
    message["Subject"] = "Votre proposition de contrat"
    message.set_content(f"Ouvrir la proposition : {link}")
    message.add_alternative(
        f'<html><head><title>x</title></head><body><p><a href="{link}">Consulter ma proposition</a></p>'
        "</body></html>",
        subtype="html",
    )
    box = mailbox.Maildir(live.settings.mailbox_dir, create=True)
    return str(box.add(message))


async def test_a_mail_link_opens_a_new_tab_whose_forms_can_be_submitted(live: Live, screen: Page) -> None:
    key = _deliver(live, f"{live.url}/espace/connexion")
    await screen.goto(f"{live.url}/dev/mailbox/{key}")
    await assert_accessible(screen)

    async with screen.context.expect_page() as opened:
        await screen.frame_locator("iframe").get_by_role("link", name="Consulter ma proposition").click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == f"{live.url}/espace/connexion"

    # An empty login form is answered by the server: the tab is not sandboxed.
    await tab.get_by_role("button", name="Connexion").click()
    await expect(tab.get_by_text("Indiquez votre adresse e-mail.")).to_be_visible()


async def test_the_mail_page_lists_its_links_as_new_tab_links(live: Live, desktop: Page) -> None:
    key = _deliver(live, f"{live.url}/espace/connexion?suite=%2Fespace")
    await desktop.goto(f"{live.url}/dev/mailbox/{key}")

    listed = desktop.get_by_role("link", name=f"{live.url}/espace/connexion?suite=%2Fespace")
    assert await listed.get_attribute("target") == "_blank"
