"""The /espace pages: survey validation, edit with the 0 € warning, share, guide, preview, labels."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from listings_harness import (
    ListingHarness,
    credentials_for,
    csrf_of,
    login_page,
    mail_text,
    post_intake,
    wait_for_mail,
)

from support import Sink

EMAIL = "marie.curie@example.com"
ANSWERS = {"answer_0": "excellent", "answer_1": "very_good", "answer_2": "satisfactory", "answer_3": "poor"}


@pytest.fixture
async def logged_in(client: httpx.AsyncClient, inspector: dict, listings: ListingHarness, sink: Sink) -> str:
    """An intake, its owner logged in through the login form; returns the listing id."""
    created = await post_intake(client, inspector)
    response = await login_page(client, EMAIL, await credentials_for(sink, EMAIL))
    assert response.status_code == 303
    return created["listing_id"]


async def submit_survey(client: httpx.AsyncClient, listing_id: str, **data: str) -> httpx.Response:
    page = await client.get(f"/espace/annonces/{listing_id}/questionnaire")
    return await client.post(
        f"/espace/annonces/{listing_id}/questionnaire", data={"csrf": csrf_of(page.text), **data}
    )


async def test_survey_page_explains_what_is_missing(client: httpx.AsyncClient, logged_in: str) -> None:
    partial = {k: v for k, v in ANSWERS.items() if k != "answer_1"}
    response = await submit_survey(client, logged_in, **partial, publish="yes")
    assert response.status_code == 422
    assert "Choisissez une réponse pour la question 2." in response.text
    assert "Vous devez accepter les conditions générales d&#39;utilisation pour continuer." in response.text
    assert response.text.count(" checked>") == 4  # the answers already given are kept
    unknown = await submit_survey(client, logged_in, **{**ANSWERS, "answer_0": "parfait"}, cgu_accepted="yes")
    assert unknown.status_code == 422
    assert "question 1" in unknown.text and "Indiquez si vous souhaitez publier" in unknown.text
    done = await submit_survey(client, logged_in, **ANSWERS, publish="no", cgu_accepted="yes")
    assert done.status_code == 303
    # Done once: the survey page now leads to the listing.
    again = await client.get(f"/espace/annonces/{logged_in}/questionnaire")
    assert (again.status_code, again.headers["location"]) == (303, f"/espace/annonces/{logged_in}")


async def test_edit_with_a_zero_price_saves_and_warns(client: httpx.AsyncClient, logged_in: str) -> None:
    await submit_survey(client, logged_in, **ANSWERS, publish="no", cgu_accepted="yes")
    form = await client.get(f"/espace/annonces/{logged_in}/modifier")
    assert 'value="12900"' in form.text  # the intake's price, in euros
    for price, status in (("-5", 422), ("douze mille", 422), ("12,345", 422), ("99999999999", 422)):
        bad = await client.post(
            f"/espace/annonces/{logged_in}/modifier",
            data={"csrf": csrf_of(form.text), "price": price, "location": "Lyon"},
        )
        assert bad.status_code == status, price
        assert "Indiquez un prix en euros" in bad.text
    saved = await client.post(
        f"/espace/annonces/{logged_in}/modifier",
        data={"csrf": csrf_of(form.text), "published": "yes", "price": "0", "location": "Bron"},
    )
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        f"/espace/annonces/{logged_in}?ok=enregistre",
    )
    hub = await client.get(saved.headers["location"])
    assert "Vos modifications sont enregistrées." in hub.text
    assert "Vous n&#39;avez pas indiqué de prix (0 €)" in hub.text
    assert "En ligne" in hub.text
    edit = await client.get(f"/espace/annonces/{logged_in}/modifier")
    assert "Vous n&#39;avez pas indiqué de prix (0 €)" in edit.text and 'value="Bron"' in edit.text
    public = await client.get(f"/annonces/{logged_in}")
    assert "Prix non indiqué" in public.text

    # Unpublish: the preview shows the banner again.
    await client.post(
        f"/espace/annonces/{logged_in}/modifier",
        data={"csrf": csrf_of(edit.text), "price": "9 990,50", "negotiable": "yes", "location": "Bron"},
    )
    preview = await client.get(f"/espace/annonces/{logged_in}/annonce")
    assert "Votre annonce est invisible pour le public." in preview.text
    assert "9\u202f990,50 €" in preview.text and "prix à débattre" in preview.text


async def test_share_the_report_with_the_pre_written_message(
    client: httpx.AsyncClient, logged_in: str, sink: Sink
) -> None:
    await submit_survey(client, logged_in, **ANSWERS, publish="yes", cgu_accepted="yes")
    page = await client.get(f"/espace/annonces/{logged_in}/partager")
    assert "Je vends mon véhicule Peugeot 308" in page.text and "Marie Curie" in page.text
    bad = await client.post(
        f"/espace/annonces/{logged_in}/partager",
        data={"csrf": csrf_of(page.text), "email": "pas-une-adresse", "message": "x" * 2001},
    )
    assert bad.status_code == 422
    assert "Indiquez une adresse e-mail valide." in bad.text and "entre 1 et 2000 caractères" in bad.text
    sent = await client.post(
        f"/espace/annonces/{logged_in}/partager",
        data={
            "csrf": csrf_of(page.text),
            "email": "acheteur@example.com",
            "message": "Bonjour Paul,\nLe rapport.",
        },
    )
    assert (sent.status_code, sent.headers["location"]) == (303, f"/espace/annonces/{logged_in}?ok=partage")
    await wait_for_mail(sink, 2)
    [mail] = [m for m in sink.messages() if m["To"] == "acheteur@example.com"]
    text = mail_text(mail)
    assert "Bonjour Paul,\nLe rapport." in text and "/r/" in text
    assert "Marie Curie vous transmet le rapport d'expertise" in str(mail["Subject"])


async def test_guide_terms_and_listing_pages(client: httpx.AsyncClient, logged_in: str) -> None:
    await submit_survey(client, logged_in, **ANSWERS, publish="yes", cgu_accepted="yes")
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
    client: httpx.AsyncClient, logged_in: str, path: str
) -> None:
    if path != "/espace/annonces/{id}/questionnaire":
        await submit_survey(client, logged_in, **ANSWERS, publish="yes", cgu_accepted="yes")
    response = await client.get(path.format(id=logged_in))
    assert response.status_code == 200, response.text
    assert '<html lang="fr">' in response.text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in response.text
    assert "<script" not in response.text  # no JavaScript needed
    parser = _Form()
    parser.feed(response.text)
    for control in parser.controls:
        assert control.get("id") in parser.labels, control
