"""Pages of the owner space and the public site that only read: guide, terms, preview, PDF, and
every page's labels and phone layout.

One owner with two inspections, logged in through the login form, made once for the module
(read_only.py): one listing still waits for its survey, the other was surveyed and
published. Each test gets a new browser with the owner's session cookies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import pytest_asyncio
from listings_harness import (
    credentials_for,
    inspector_headers,
    intake_body,
    login_page,
    post_intake,
    submit_survey,
)
from stack import SharedStack

pytestmark = pytest.mark.asyncio(loop_scope="module")

EMAIL = "marie.curie@example.com"
ANSWERS = {"answer_0": "excellent", "answer_1": "very_good", "answer_2": "satisfactory", "answer_3": "poor"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def owner_space(module_stack: SharedStack) -> dict[str, Any]:
    """Two intakes for one owner, logged in; the second listing surveyed and published."""
    async with module_stack.client() as http:
        inspector = await inspector_headers(module_stack.session_factory)
        pending = await post_intake(http, inspector)
        response = await login_page(http, EMAIL, await credentials_for(module_stack.sink, EMAIL))
        assert response.status_code == 303
        second = intake_body()
        second["vehicle"]["registration"] = "CD-456-EF"
        published = await post_intake(http, inspector, second)
        done = await submit_survey(
            http, published["listing_id"], **ANSWERS, publish="yes", cgu_accepted="yes"
        )
        assert done.status_code == 303, done.text
        return {
            "pending_survey": pending["listing_id"],
            "published": published["listing_id"],
            "cookies": httpx.Cookies(http.cookies),
        }


@pytest.fixture(scope="module")
def logged_in(owner_space: dict[str, Any]) -> str:
    """The listing whose survey is done (published)."""
    return owner_space["published"]


@pytest.fixture(scope="module")
def pending_survey(owner_space: dict[str, Any]) -> str:
    """The listing still waiting for its survey."""
    return owner_space["pending_survey"]


@pytest_asyncio.fixture(loop_scope="module")
async def client(module_stack: SharedStack, owner_space: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with the owner's session, for one test."""
    async with module_stack.client(owner_space["cookies"]) as http:
        yield http


async def test_guide_terms_and_listing_pages(client: httpx.AsyncClient, logged_in: str) -> None:
    guide = await client.get(f"/espace/annonces/{logged_in}/mode-d-emploi")
    assert guide.status_code == 200 and "Mode d'emploi de votre espace client" in guide.text
    assert (await client.get("/espace/cgu")).status_code == 200
    preview = await client.get(f"/espace/annonces/{logged_in}/annonce")
    assert "Votre annonce telle qu'elle est vue sur le site" in preview.text
    assert "Contacter le vendeur" in preview.text
    pdf = await client.get(f"/espace/annonces/{logged_in}/rapport.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (await client.get("/espace/annonces/not-a-uuid")).status_code == 404


class _Form(HTMLParser):
    """Collects form controls and labels, to check every control has a label."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, Any]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        if tag in ("input", "textarea", "select") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)


@pytest.mark.parametrize(
    "path",
    [
        "/espace/annonces/{id}/questionnaire",
        "/espace/annonces/{id}/modifier",
        "/espace/annonces/{id}/partager",
        "/espace/annonces/{id}",
        "/annonces",
        "/annonces/{id}",
        "/espace/mot-de-passe-oublie",
    ],
)
async def test_every_form_control_has_a_label_and_pages_fit_a_phone(
    client: httpx.AsyncClient, logged_in: str, pending_survey: str, path: str
) -> None:
    listing = pending_survey if path == "/espace/annonces/{id}/questionnaire" else logged_in
    response = await client.get(path.format(id=listing))
    assert response.status_code == 200, response.text
    assert '<html lang="fr">' in response.text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in response.text
    assert "<script" not in response.text  # no JavaScript needed
    parser = _Form()
    parser.feed(response.text)
    for control in parser.controls:
        assert control.get("id") in parser.labels, control
