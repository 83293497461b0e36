"""`/vendeur/activite` and its CSV (issue 13): the figures as SVG charts and tables, the
filters checked in French, the centre's own data only."""

from __future__ import annotations

import csv
import io
import re

import httpx
from activity_seed import JULIE, PAUL, SALES, seed
from dealer_app_kit import add_dealer_user, login_client

YEAR = "du=2026-01&au=2026-12"


async def _logged_in(client: httpx.AsyncClient, session_factory, migrated) -> object:
    dealer_id = await seed(session_factory, migrated, SALES)
    login = await add_dealer_user(session_factory, dealer_id)
    await login_client(client, login)
    return dealer_id


async def test_the_page_draws_the_months_and_sellers_as_svg_with_their_tables(
    client: httpx.AsyncClient, session_factory, migrated
) -> None:
    await _logged_in(client, session_factory, migrated)
    page = await client.get(f"/vendeur/activite?{YEAR}")
    assert page.status_code == 200
    html = page.text
    assert "Du janvier 2026 au décembre 2026" in html
    # Two charts, each an image with a French title and description, no script needed.
    assert html.count('<svg class="chart"') == 2
    assert 'role="img" aria-labelledby="graphique-mois-title graphique-mois-desc"' in html
    assert '<title id="graphique-mois-title">Propositions par mois</title>' in html
    assert "4 propositions envoyées, 3 consultées, 5 signées, 1 rétractée, 1 expirée" in html
    # 12 months × 5 series of bars, each with its value in its title.
    assert len(re.findall(r"<rect [^>]*><title>", html)) == 60
    assert "<title>mars 2026, envoyées : 2</title>" in html
    assert "<title>juin 2026, expirées : 1</title>" in html
    assert "Paul Vendeur : 100,0 % de conversion (signées : 2 sur 2 envoyées)" in html
    assert "Julie Martin : 50,0 % de conversion (signées : 1 sur 2 envoyées)" in html
    # The tables say the same, and the headline figures.
    march = re.search(r"<tr><th scope=\"row\">mars 2026</th>(.*?)</tr>", html)
    assert march is not None
    assert re.findall(r'<td class="num">([^<]*)</td>', march.group(1)) == [
        "2",
        "2",
        "2",
        "0",
        "0",
        "100,0 %",
        "3,0 jours",
    ]
    assert "<strong>75,0 %</strong> de conversion" in html
    assert "<strong>4,0 jours</strong> délai médian" in html
    assert "/vendeur/activite.csv?du=2026-01&amp;au=2026-12" in html
    assert 'aria-current="page">Mon activité' in html


async def test_one_seller_and_the_default_period(
    client: httpx.AsyncClient, session_factory, migrated
) -> None:
    await _logged_in(client, session_factory, migrated)
    page = await client.get(f"/vendeur/activite?{YEAR}&vendeur={JULIE.upper()}")
    assert page.status_code == 200
    assert "— Julie Martin" in page.text
    assert "<strong>2</strong> envoyées" in page.text
    assert "Paul Vendeur :" not in page.text
    default = await client.get("/vendeur/activite")
    assert default.status_code == 200
    assert default.text.count('<svg class="chart"') == 2


async def test_bad_filters_are_refused_in_french_next_to_the_field_and_at_the_top(
    client: httpx.AsyncClient, session_factory, migrated
) -> None:
    await _logged_in(client, session_factory, migrated)
    cases = {
        "du=mars&au=2026-12": ("du", "Mois de début : Indiquez un mois au format AAAA-MM"),
        "du=2026-01&au=2026-13": ("au", "Mois de fin : Indiquez un mois au format AAAA-MM"),
        "du=2026-06&au=2026-03": ("du", "Le mois de début doit être avant le mois de fin"),
        "du=2023-01&au=2026-12": ("du", "La période ne peut pas dépasser 24 mois."),
        "du=2026-01&au=2999-01": ("au", "La période ne peut pas se terminer après le mois en cours."),
        "vendeur=inconnu@ailleurs.example": ("vendeur", "Ce vendeur n'est pas connu de votre centre"),
    }
    for query, (name, message) in cases.items():
        page = await client.get(f"/vendeur/activite?{query}")
        assert page.status_code == 422, query
        assert 'id="error-summary"' in page.text, query
        assert f'<li><a href="#{name}">{message}' in page.text.replace("&#39;", "'"), query
        assert f'<p class="field-error" id="{name}-error">{message}' in page.text.replace("&#39;", "'"), query
        assert '<svg class="chart"' not in page.text, query
        csv_answer = await client.get(f"/vendeur/activite.csv?{query}")
        assert csv_answer.status_code == 422, query
        assert message in csv_answer.text, query


async def test_the_csv_has_the_same_figures_for_french_excel(
    client: httpx.AsyncClient, session_factory, migrated
) -> None:
    await _logged_in(client, session_factory, migrated)
    answer = await client.get(f"/vendeur/activite.csv?{YEAR}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="activite-2026-01-2026-12.csv"'
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Mois", "Vendeur", "Envoyées"]
    assert rows[3] == ["2026-03", "Tous les vendeurs", "2", "2", "2", "0", "0", "100,0", "3,00"]
    assert rows[4] == ["2026-04", "Tous les vendeurs", "0", "0", "0", "1", "0", "", ""]
    assert rows[6] == ["2026-06", "Tous les vendeurs", "1", "1", "2", "0", "1", "100,0", "3,02"]
    assert len(rows) == 1 + 12 + 2 + 1
    sellers = {row[1]: row[2:] for row in rows[13:15]}
    assert sellers[f"Paul Vendeur <{PAUL}>"] == ["2", "2", "4", "1", "0", "100,0", "3,00"]
    assert sellers[f"Julie Martin <{JULIE}>"] == ["2", "1", "1", "0", "1", "50,0", "6,00"]
    assert rows[-1] == [
        "2026-01 à 2026-12",
        "Total (Tous les vendeurs)",
        "4",
        "3",
        "5",
        "1",
        "1",
        "75,0",
        "4,00",
    ]


async def test_another_centres_sales_are_not_shown(
    client: httpx.AsyncClient, session_factory, migrated
) -> None:
    await seed(session_factory, migrated, SALES)  # someone else's sales
    login = await add_dealer_user(session_factory)  # a centre of its own, without any
    await login_client(client, login)
    page = await client.get(f"/vendeur/activite?{YEAR}")
    assert page.status_code == 200
    assert "Paul Vendeur :" not in page.text and "Julie Martin" not in page.text
    assert "<strong>0</strong> envoyée" in page.text
    assert "Aucun vendeur n'a d'activité sur cette période." in page.text.replace("&#39;", "'")
    # Naming the other centre's seller is refused, not answered with their figures.
    other = await client.get(f"/vendeur/activite.csv?{YEAR}&vendeur={PAUL}")
    assert other.status_code == 422
    rows = (await client.get(f"/vendeur/activite.csv?{YEAR}")).content.decode("utf-8-sig").splitlines()
    assert rows[-1].endswith(";0;0;0;0;0;;")
    assert not any("Paul" in row for row in rows)


async def test_not_logged_in_goes_to_the_login_form(client: httpx.AsyncClient) -> None:
    for path in ("/vendeur/activite", "/vendeur/activite.csv"):
        answer = await client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/vendeur/connexion?suite=")
