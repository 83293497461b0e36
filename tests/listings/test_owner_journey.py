"""The whole owner journey over HTTP, pages and forms as a browser uses them (no JavaScript):
intake → password mail → login → survey → publish → public search → contact mail → sold →
VENDU without contact form → archived a month later → 404."""

from __future__ import annotations

from datetime import timedelta

import httpx
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


async def test_whole_owner_journey(
    client: httpx.AsyncClient,
    visitor: httpx.AsyncClient,
    inspector: dict,
    listings: ListingHarness,
    sink: Sink,
) -> None:
    # Intake by the inspector: the owner's password arrives by email.
    created = await post_intake(client, inspector)
    listing_id = created["listing_id"]
    password = await credentials_for(sink, EMAIL)
    assert f"{listings.settings.public_url}/espace/connexion" in mail_text(sink.messages()[0])

    # Log in ("Mon compte"), land on "Mes expertises".
    assert (await client.get("/espace/expertises")).status_code == 303
    logged_in = await login_page(client, EMAIL, password)
    assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/espace/expertises")
    mine = await client.get("/espace/expertises")
    assert mine.status_code == 200
    assert "Peugeot 308" in mine.text and "Compléter le questionnaire" in mine.text

    # The survey comes before anything else.
    for path in ("", "/modifier", "/partager", "/rapport.pdf", "/annonce", "/mode-d-emploi"):
        gated = await client.get(f"/espace/annonces/{listing_id}{path}")
        assert gated.status_code == 303, path
        assert gated.headers["location"] == f"/espace/annonces/{listing_id}/questionnaire"
    survey_page = await client.get(f"/espace/annonces/{listing_id}/questionnaire")
    for label in ("Mauvais", "Insuffisant", "Satisfaisant", "Très bien", "Excellent", "Enregistrer"):
        assert label in survey_page.text
    # Nothing is public yet.
    assert (await visitor.get(f"/annonces/{listing_id}")).status_code == 404

    done = await client.post(
        f"/espace/annonces/{listing_id}/questionnaire",
        data={
            "csrf": csrf_of(survey_page.text),
            "answer_0": "excellent",
            "answer_1": "very_good",
            "answer_2": "very_good",
            "answer_3": "satisfactory",
            "publish": "yes",
            "cgu_accepted": "yes",
        },
    )
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/espace/annonces/{listing_id}?ok=questionnaire",
    )
    hub = await client.get(done.headers["location"])
    assert hub.status_code == 200
    for expected in ("mode d'emploi", "rapport.pdf", "/partager", "/modifier", "/annonce", "/r/"):
        assert expected in hub.text, expected
    assert "En ligne" in hub.text

    # The public finds it.
    found = await visitor.get("/annonces", params={"marque": "peugeot", "prix_max": "15000", "lieu": "lyon"})
    assert found.status_code == 200
    assert f'href="/annonces/{listing_id}"' in found.text
    assert (await visitor.get("/api/v1/listings", params={"make": "Peugeot"})).json()["total"] == 1
    detail = await visitor.get(f"/annonces/{listing_id}")
    assert detail.status_code == 200
    assert "Embrayage" in detail.text and "Contacter le vendeur" in detail.text
    assert "VENDU" not in detail.text

    # A buyer writes; the owner gets the message by email, with the buyer as Reply-To.
    sent = await visitor.post(
        f"/annonces/{listing_id}/contact",
        data={
            "csrf": csrf_of(detail.text),
            "name": "Paul Acheteur",
            "email": "paul@example.com",
            "phone": "06 12 34 56 78",
            "message": "Bonjour, la voiture est-elle toujours disponible ?",
            "website": "",
        },
    )
    assert (sent.status_code, sent.headers["location"]) == (303, f"/annonces/{listing_id}?message=envoye")
    assert "Votre message a été envoyé" in (await visitor.get(sent.headers["location"])).text
    await wait_for_mail(sink, 2)
    [contact] = [m for m in sink.messages() if "contacte" in str(m["Subject"])]
    assert (contact["To"], contact["Reply-To"]) == (EMAIL, "paul@example.com")
    assert "toujours disponible" in mail_text(contact)

    # The owner marks it sold from the edit form.
    edit = await client.get(f"/espace/annonces/{listing_id}/modifier")
    assert "Mon véhicule a été vendu" in edit.text
    ticked = {
        "csrf": csrf_of(edit.text),
        "published": "yes",
        "price": "12 900",
        "negotiable": "yes",
        "location": "Lyon 3e",
        "sold": "yes",
    }
    # Irreversible: first a confirmation saying what it means, and nothing saved yet.
    confirm = await client.post(f"/espace/annonces/{listing_id}/modifier", data=ticked)
    assert confirm.status_code == 200 and "Ce choix est définitif" in confirm.text
    assert "visible sur le site pendant 1 mois" in confirm.text
    assert (await client.get(f"/api/v1/owner/listings/{listing_id}")).json()["state"] == "published"
    sold = await client.post(
        f"/espace/annonces/{listing_id}/modifier",
        data={**ticked, "csrf": csrf_of(confirm.text), "sold_confirmed": "yes"},
    )
    assert (sold.status_code, sold.headers["location"]) == (303, f"/espace/annonces/{listing_id}?ok=vendu")

    # VENDU badge, no contact form, still found for a month.
    shown = await visitor.get(f"/annonces/{listing_id}")
    assert shown.status_code == 200
    assert "VENDU" in shown.text
    assert f'action="/annonces/{listing_id}/contact"' not in shown.text
    assert "12\u202f900 €" in shown.text
    assert "VENDU" in (await visitor.get("/annonces")).text
    api_detail = (await visitor.get(f"/api/v1/listings/{listing_id}")).json()
    assert (api_detail["sold"], api_detail["accepts_contact"]) == (True, False)
    closed = await visitor.post(
        f"/api/v1/listings/{listing_id}/contact",
        json={"name": "Late", "email": "late@example.com", "message": "Encore disponible ?"},
    )
    assert closed.status_code == 409

    # A month later: archived, gone for the public.
    await listings.env.sleep(timedelta(days=31, minutes=1))
    assert (await visitor.get(f"/annonces/{listing_id}")).status_code == 404
    assert (await visitor.get(f"/api/v1/listings/{listing_id}")).status_code == 404
    assert (await visitor.get("/api/v1/listings")).json()["total"] == 0
    assert "Archivée" in (await client.get("/espace/expertises")).text

    # Log out.
    mine = await client.get("/espace/expertises")
    out = await client.post("/espace/deconnexion", data={"csrf": csrf_of(mine.text)})
    assert out.status_code == 303
    assert (await client.get("/espace/expertises")).status_code == 303
