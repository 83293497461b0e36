"""The /espace forms: survey validation, edit with the 0 € warning, share (each test its own
listing). The pages read only (guide, preview, labels): test_page_markup.py."""

from __future__ import annotations

import httpx
import pytest
from listings_harness import (
    ListingHarness,
    credentials_for,
    csrf_of,
    login_page,
    mail_text,
    post_intake,
    submit_survey,
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
    assert "Publier mon annonce" in preview.text  # private: the machine lets the owner publish
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
