"""The dealer app's remote sales (issue 13): "Gérer mes ventes à distance" (tabs, counts, search,
pages), "Liste des brouillons / devis", the new proposal form and its confirmation, the
remote-sale option's gate. A user sees only their centre's proposals."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from dealer_api import insert_proposal_row
from dealer_app_kit import add_dealer_user, login_client
from dealer_sales_form import FORM
from sqlalchemy import event, func, select
from stack import http_client

from db.models import IdempotencyRecord, Proposal, Seller


async def count(session_factory, model: type = Proposal) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def key_of(html: str) -> str:
    match = re.search(r'name="cle" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def form_post(client: httpx.AsyncClient, csrf: str, **changes: str) -> httpx.Response:
    page = await client.get("/vendeur/propositions/nouvelle")
    assert page.status_code == 200, page.text
    data = {**FORM, "csrf": csrf, "cle": key_of(page.text), "action": "enregistrer", **changes}
    return await client.post("/vendeur/propositions/nouvelle", data=data)


async def test_list_tabs_count_per_state_search_and_pages_and_never_another_centre(
    client: httpx.AsyncClient, session_factory, migrated
) -> None:
    login = await add_dealer_user(session_factory, dealer_name="Garage du Nord")
    other = await add_dealer_user(session_factory, dealer_name="Garage du Sud")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(23):
        await insert_proposal_row(
            session_factory,
            migrated,
            login.dealer_id,
            created_at=start + timedelta(hours=i),
            buyer_last_name=f"Martin{i:02d}",
            state="sent" if i % 2 else "draft",
        )
    await insert_proposal_row(
        session_factory,
        migrated,
        login.dealer_id,
        created_at=start + timedelta(days=2),
        buyer_first_name="Léa",
        buyer_last_name="Dubois",
        vehicle_registration="GH-456-JK",
        state="viewed",
        view_count=3,
    )
    secret = await insert_proposal_row(
        session_factory, migrated, other.dealer_id, buyer_first_name="Zoé", buyer_last_name="Autrecentre"
    )
    await login_client(client, login)

    page = await client.get("/vendeur/propositions")
    assert page.status_code == 200
    text = page.text
    assert "Gérer mes ventes à distance" in text
    assert 'Toutes <span class="count">(24)</span>' in text
    assert 'Envoyée <span class="count">(11)</span>' in text
    assert 'Brouillon / devis <span class="count">(12)</span>' in text
    assert 'Consultée <span class="count">(1)</span>' in text
    assert 'Annulée <span class="count">(0)</span>' in text
    assert "Autrecentre" not in text and str(secret.id) not in text
    assert text.count(">Consulter</a>") == 20  # newest first, 20 a page
    assert "Léa Dubois" in text and "3 fois" in text and "499,00 €" in text
    next_url = re.search(r'href="([^"]+)" rel="next"', text)
    assert next_url and 'rel="prev"' not in text
    second = await client.get(next_url.group(1).replace("&amp;", "&"))
    assert second.text.count(">Consulter</a>") == 4 and 'rel="next"' not in second.text
    assert "Martin00" in second.text and "Léa Dubois" not in second.text
    prev_url = re.search(r'href="([^"]+)" rel="prev"', second.text)
    assert prev_url
    back = await client.get(prev_url.group(1).replace("&amp;", "&"))
    assert back.text.count(">Consulter</a>") == 20 and "Léa Dubois" in back.text
    assert 'rel="prev"' not in back.text

    sent = await client.get("/vendeur/propositions", params={"etat": "sent"})
    assert sent.text.count(">Consulter</a>") == 11 and 'aria-current="page">Envoyée' in sent.text
    # The API's accent-insensitive search: the buyer in any order, the plate without dashes.
    for q in ("dubois lea", "gh456jk", "LÉA"):
        found = await client.get("/vendeur/propositions", params={"q": q})
        assert found.text.count(">Consulter</a>") == 1, q
        assert 'Toutes <span class="count">(1)</span>' in found.text
    contract = await client.get("/vendeur/propositions", params={"q": secret.contract_number})
    assert "Zoé" not in contract.text and ">Consulter</a>" not in contract.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"apres": "pas-un-curseur"}, "Ce lien de page n'est plus valable"),
        ({"avant": "eyJsIjoibGlzdGluZ3MiLCJrIjpbXX0"}, "Ce lien de page n'est plus valable"),
        ({"etat": "inconnu"}, "Cet onglet n'existe pas"),
        ({"q": "x" * 101}, "Votre recherche est trop longue"),
    ],
)
async def test_bad_list_parameters_get_a_french_message_not_a_500(
    client: httpx.AsyncClient, session_factory, params: dict[str, str], message: str
) -> None:
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    for path in ("/vendeur/propositions", "/vendeur/brouillons"):
        if "etat" in params and path == "/vendeur/brouillons":
            continue
        response = await client.get(path, params=params)
        assert response.status_code == 422, response.text
        assert message in html.unescape(response.text)


async def test_drafts_list_the_unsent_ones_only(client: httpx.AsyncClient, session_factory, migrated) -> None:
    login = await add_dealer_user(session_factory)
    other = await add_dealer_user(session_factory)
    await insert_proposal_row(session_factory, migrated, login.dealer_id, buyer_last_name="Devisdraft")
    await insert_proposal_row(
        session_factory, migrated, login.dealer_id, buyer_last_name="Envoye", state="sent"
    )
    await insert_proposal_row(session_factory, migrated, other.dealer_id, buyer_last_name="Autredevis")
    await login_client(client, login)
    page = await client.get("/vendeur/brouillons")
    assert page.status_code == 200
    assert "Liste des brouillons / devis" in page.text
    assert "Devisdraft" in page.text and "Envoye" not in page.text and "Autredevis" not in page.text
    assert page.text.count(">Consulter</a>") == 1


async def test_save_a_devis_keeps_the_seller_profile_and_a_double_submit_creates_one(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    csrf = await login_client(client, login)
    page = await client.get("/vendeur/propositions/nouvelle")
    assert "VENDEUR" in page.text and "Première vente en ligne" in page.text
    data = {**FORM, "csrf": csrf, "cle": key_of(page.text), "action": "enregistrer"}
    first = await client.post("/vendeur/propositions/nouvelle", data=data)
    assert first.status_code == 303, first.text
    again = await client.post("/vendeur/propositions/nouvelle", data=data)  # the double click
    assert again.headers["location"] == first.headers["location"]
    assert await count(session_factory) == 1
    location = first.headers["location"]
    assert location.endswith("/confirmation?action=devis")
    confirmation = await client.get(location)
    assert "Devis enregistré" in confirmation.text
    assert "voir mes propositions commerciales" in confirmation.text
    assert 'href="/vendeur/activite">La vente est bien enregistrée dans votre activité' in confirmation.text
    async with session_factory() as session:
        row = await session.scalar(select(Proposal))
        assert row is not None
        assert (row.price_cents, row.vehicle_mileage_km, row.vehicle_registration) == (
            49990,
            35000,
            "GH-456-JK",
        )
        assert row.state == "draft" and row.first_sent_at is None
        seller = await session.scalar(select(Seller))
        assert seller is not None and seller.email == "paul@garage-nord.example"
    drafts = await client.get("/vendeur/brouillons")
    assert "Léa Dubois" in drafts.text

    # The next sale offers the saved profile; choosing it (the VENDEUR box left empty) is enough.
    page = await client.get("/vendeur/propositions/nouvelle")
    assert f'<option value="{seller.id}" selected>Paul Vendeur (paul@garage-nord.example)' in page.text
    empty_box = {"seller_profile": str(seller.id), "seller_name": "", "seller_email": "", "seller_phone": ""}
    second = await form_post(client, csrf, **empty_box, buyer_last_name="Durand")
    assert second.status_code == 303 and await count(session_factory) == 2


BAD_FIELDS = [
    ("product_kind", "", "Choisissez le type de produit"),
    ("product_code", "", "Indiquez le code du produit."),
    ("product_label", " ", "Indiquez le nom du produit"),
    ("product_price", "quatre cents", "Indiquez le prix en euros"),
    ("product_duration_months", "0", "Indiquez la durée en mois"),
    ("buyer_first_name", "", "Indiquez le prénom de l'acheteur."),
    ("buyer_last_name", "", "Indiquez le nom de l'acheteur."),
    ("buyer_email", "pas-une-adresse", "Indiquez une adresse e-mail valide"),
    ("buyer_mobile", "01 23 45 67 89", "Indiquez un numéro de portable français"),
    ("buyer_address_line1", "", "Indiquez l'adresse de l'acheteur"),
    ("buyer_address_postal_code", "6900", "Indiquez un code postal de 5 chiffres"),
    ("buyer_address_city", "", "Indiquez la ville de l'acheteur."),
    ("vehicle_vin", "VF3IOQ", "Indiquez le numéro VIN"),
    ("vehicle_registration", "123", "Indiquez l'immatriculation au format AB-123-CD."),
    ("vehicle_make", "", "Indiquez la marque du véhicule."),
    ("vehicle_model", "", "Indiquez le modèle du véhicule."),
    ("vehicle_first_registration", "2999-01-01", "Indiquez la date de première immatriculation"),
    ("vehicle_mileage_km", "beaucoup", "Indiquez le kilométrage"),
    ("seller_name", "", "Indiquez le nom du vendeur."),
    ("seller_email", "paul@", "Indiquez l'adresse e-mail du vendeur"),
    ("seller_phone", "12", "Indiquez un numéro de téléphone français"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_FIELDS, ids=[b[0] for b in BAD_FIELDS])
async def test_each_bad_field_gets_its_french_message_at_the_field_and_at_the_top_and_nothing_is_written(
    client: httpx.AsyncClient, session_factory, name: str, value: str, message: str
) -> None:
    login = await add_dealer_user(session_factory)
    csrf = await login_client(client, login)
    response = await form_post(client, csrf, **{name: value}, action="envoyer")
    assert response.status_code == 422, response.text
    text = html.unescape(response.text)
    assert f'id="{name}-error">{message}' in text  # next to the field
    assert re.search(rf'<a href="#{name}">{re.escape(message)}', text)  # in the summary at the top
    assert 'id="error-summary"' in text and "Un point est à corriger" in text
    assert f'id="{name}"' in text and 'aria-invalid="true"' in text
    # The other values are kept.
    kept = "Dubois" if name != "buyer_last_name" else "Lyon"
    assert f'value="{kept}"' in text
    assert await count(session_factory) == 0
    assert await count(session_factory, IdempotencyRecord) == 0
    assert await count(session_factory, Seller) == 0


async def test_an_unknown_seller_profile_is_refused_at_the_field(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    csrf = await login_client(client, login)
    empty_box = {"seller_name": "", "seller_email": "", "seller_phone": ""}
    response = await form_post(client, csrf, seller_profile=str(uuid.uuid4()), **empty_box)
    assert response.status_code == 422
    assert 'id="seller_profile-error">Choisissez un vendeur enregistré' not in response.text  # hidden field
    assert '<a href="#seller_profile">Choisissez un vendeur enregistré' in response.text
    assert await count(session_factory) == 0


async def test_send_by_email_reaches_the_buyer_and_the_confirmation_says_so(
    client: httpx.AsyncClient, session_factory, worker, sink
) -> None:
    login = await add_dealer_user(session_factory)
    csrf = await login_client(client, login)
    response = await form_post(client, csrf, action="envoyer")
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("/confirmation?action=envoi")
    confirmation = await client.get(response.headers["location"])
    assert "Proposition envoyée" in confirmation.text
    assert "envoyée par email à lea.dubois@example.com" in confirmation.text
    listed = await client.get("/vendeur/propositions", params={"etat": "sent"})
    assert "Léa Dubois" in listed.text


async def test_a_send_no_worker_takes_in_time_says_saved_not_sent(
    client: httpx.AsyncClient, session_factory, monkeypatch
) -> None:
    # No worker polls the task queue: the workflow starts, but cannot take the send in time,
    # and the worker will refuse it when it arrives (workflows/update_deadline.py). So the page
    # says what is true: a devis, not sent, to send later; never "en cours" for a send that
    # will not happen.
    import api.lifecycle_client as lifecycle_client

    monkeypatch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(seconds=2))
    login = await add_dealer_user(session_factory)
    csrf = await login_client(client, login)
    response = await form_post(client, csrf, action="envoyer")
    assert response.status_code == 303, response.text
    confirmation = await client.get(response.headers["location"])
    assert "envoi impossible" in confirmation.text and "enregistrée comme devis" in confirmation.text
    assert "Envoi en cours" not in confirmation.text
    assert await count(session_factory) == 1


async def test_refaire_pre_fills_and_replaces_an_open_proposal(
    app, client: httpx.AsyncClient, session_factory, worker, sink
) -> None:
    login = await add_dealer_user(session_factory)
    other = await add_dealer_user(session_factory)
    csrf = await login_client(client, login)
    first = await form_post(client, csrf)
    old_id = first.headers["location"].split("/")[3]
    page = await client.get("/vendeur/propositions/nouvelle", params={"depuis": old_id})
    assert 'value="Dubois"' in page.text and "sera annulée et remplacée" in page.text
    assert f'name="depuis" value="{old_id}"' in page.text
    data = {**FORM, "csrf": csrf, "cle": key_of(page.text), "depuis": old_id, "action": "enregistrer"}
    data["buyer_last_name"] = "Dubois-Martin"
    replaced = await client.post("/vendeur/propositions/nouvelle", data=data)
    assert replaced.status_code == 303, replaced.text
    assert "qui est annulée" in (await client.get(replaced.headers["location"])).text
    async with session_factory() as session:
        old = await session.get(Proposal, uuid.UUID(old_id))
        assert old is not None and old.state == "cancelled"
    # Another centre's proposal cannot be copied: not found, as a missing one.
    async with http_client(app) as stranger:
        await login_client(stranger, other)
        copied = await stranger.get("/vendeur/propositions/nouvelle", params={"depuis": old_id})
        assert copied.status_code == 404 and "Dubois" not in copied.text
        assert (await stranger.get(f"/vendeur/propositions/{old_id}/confirmation")).status_code == 404


async def test_without_the_remote_sale_option_no_button_and_the_page_says_whom_to_ask(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory, remote_sale_enabled=False)
    csrf = await login_client(client, login)
    listing = await client.get("/vendeur/propositions")
    assert 'href="/vendeur/propositions/nouvelle"' not in listing.text
    page = await client.get("/vendeur/propositions/nouvelle")
    assert page.status_code == 403
    assert "contactez votre commercial" in page.text
    assert "service ADV" in page.text
    assert "mailto:adv@carflow.example?subject=Plus%20d%27Acc%C3%A8s%20Vente%20%C3%A0%20Distance" in page.text
    assert "Envoyer par email" not in page.text
    posted = await client.post(
        "/vendeur/propositions/nouvelle", data={**FORM, "csrf": csrf, "cle": "x", "action": "envoyer"}
    )
    assert posted.status_code == 403 and "contactez votre commercial" in posted.text
    assert await count(session_factory) == 0


async def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    data: dict[str, Any] = {**FORM, "csrf": "faux", "cle": "k1", "action": "enregistrer"}
    response = await client.post("/vendeur/propositions/nouvelle", data=data)
    assert response.status_code == 403
    assert "Ce formulaire a expiré" in response.text
    assert await count(session_factory) == 0


async def test_the_sales_pages_need_a_login(client: httpx.AsyncClient) -> None:
    for path in ("/vendeur/propositions", "/vendeur/brouillons", "/vendeur/propositions/nouvelle"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/vendeur/connexion?suite=")


async def test_the_tabs_are_counted_by_one_grouped_query_whatever_the_number_of_tabs(
    app, client: httpx.AsyncClient, session_factory, migrated
) -> None:
    login = await add_dealer_user(session_factory)
    for state in ("draft", "sent", "viewed", "signed", "cancelled"):
        await insert_proposal_row(session_factory, migrated, login.dealer_id, state=state)
    await login_client(client, login)
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    try:
        page = await client.get("/vendeur/propositions", params={"q": "dupont"})
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
    assert page.status_code == 200 and 'Toutes <span class="count">(5)</span>' in page.text
    grouped = [s for s in seen if "GROUP BY" in s.upper()]
    assert len(grouped) == 1 and "LIMIT" in grouped[0].upper(), seen
    proposal_reads = [s for s in seen if "FROM proposals" in s or "FROM (SELECT proposals" in s]
    assert len(proposal_reads) == 2, seen  # the counts and the page (a short first page needs no count)


async def test_a_form_reused_for_another_proposal_says_so_and_creates_nothing_more(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    csrf = await login_client(client, login)
    page = await client.get("/vendeur/propositions/nouvelle")
    data = {**FORM, "csrf": csrf, "cle": key_of(page.text), "action": "enregistrer"}
    assert (await client.post("/vendeur/propositions/nouvelle", data=data)).status_code == 303
    # Back in the browser, another buyer typed into the same form: not the same request.
    reused = await client.post("/vendeur/propositions/nouvelle", data={**data, "buyer_last_name": "Autre"})
    assert reused.status_code == 409
    assert "Ce formulaire a déjà servi à créer une autre proposition" in html.unescape(reused.text)
    assert key_of(reused.text) != data["cle"]  # a fresh key to create it on purpose
    assert await count(session_factory) == 1


async def test_with_temporal_down_the_lists_answer_and_the_form_writes_nothing(
    offline: httpx.AsyncClient, migrated, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    await insert_proposal_row(session_factory, migrated, login.dealer_id, buyer_last_name="Lisible")
    csrf = await login_client(offline, login)
    assert "Lisible" in (await offline.get("/vendeur/propositions")).text
    assert "Lisible" in (await offline.get("/vendeur/brouillons")).text
    response = await form_post(offline, csrf, action="envoyer")
    assert response.status_code == 503
    assert "rien n'a été enregistré" in html.unescape(response.text)
    assert 'value="Dubois"' in response.text  # the values are kept
    assert await count(session_factory) == 1
    assert await count(session_factory, IdempotencyRecord) == 0
