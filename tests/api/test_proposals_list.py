"""GET /proposals: the read model, filtered, searched and paged per dealer.

Every test here reads the same rows: one stack and one data set for the module
(read_only.py). GET /sellers is tested in test_proposals_create.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
import read_only

URL = "/api/v1/proposals"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.asyncio(loop_scope="module")
client = read_only.client
dealers = read_only.dealers
insert_proposal = read_only.insert_proposal


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rows(dealers, insert_proposal) -> dict[str, object]:
    """Five proposals of dealer A at one-hour intervals (oldest first) and one of dealer B."""
    a = dealers.a.id
    made = {
        "dupont": await insert_proposal(a, created_at=T0, contract_number="CF0000000001"),
        "martin": await insert_proposal(
            a,
            created_at=T0 + timedelta(hours=1),
            buyer_first_name="Émile",
            buyer_last_name="Martin",
            buyer_email="emile.martin@example.org",
            vehicle_registration="EF-456-GH",
            vehicle_vin="WVWZZZ1JZXW000001",
            vehicle_make="Volkswagen",
            vehicle_model="Golf",
            buyer_mobile="+33698765432",
            buyer_city="Besançon",
            seller_name="Léa Férrand",
            state="sent",
        ),
        "durand": await insert_proposal(
            a,
            created_at=T0 + timedelta(hours=2),
            buyer_last_name="Durand",
            buyer_email="durand@example.net",
            vehicle_registration="JK-789-LM",
            vehicle_make="Renault",
            vehicle_model="Clio 100%",
            state="signed",
        ),
        "petit": await insert_proposal(
            a,
            created_at=T0 + timedelta(hours=3),
            buyer_last_name="Petit",
            buyer_email="petit@example.com",
            state="draft",
        ),
        "leroy": await insert_proposal(
            a,
            created_at=T0 + timedelta(hours=4),
            buyer_last_name="Leroy",
            buyer_email="leroy@example.com",
            state="cancelled",
        ),
        "other": await insert_proposal(dealers.b.id, created_at=T0, buyer_last_name="Dupont"),
    }
    return made


async def names(client, headers, **params) -> list[str]:  # noqa: ANN001
    response = await client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["buyer"]["last_name"] for item in response.json()["items"]]


async def test_lists_only_own_proposals_newest_first(client, dealers, rows) -> None:
    response = await client.get(URL, headers=dealers.a.headers)
    body = response.json()
    assert (body["total"], body["page"], body["page_size"]) == (5, 1, 20)
    assert [i["buyer"]["last_name"] for i in body["items"]] == [
        "Leroy",
        "Petit",
        "Durand",
        "Martin",
        "Dupont",
    ]
    assert body["items"][0]["contract_number"]
    assert (await client.get(URL, headers=dealers.b.headers)).json()["total"] == 1


async def test_state_filter_lists_drafts(client, dealers, rows) -> None:
    assert await names(client, dealers.a.headers, state="draft") == ["Petit", "Dupont"]
    assert await names(client, dealers.a.headers, state="signed") == ["Durand"]
    assert await names(client, dealers.a.headers, state="expired") == []


async def test_unknown_state_is_422(client, dealers, rows) -> None:
    response = await client.get(URL, params={"state": "lost"}, headers=dealers.a.headers)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "state"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("dupont", ["Dupont"]),
        ("DUPONT", ["Dupont"]),
        ("jeanne dupont", ["Dupont"]),
        ("Émile", ["Martin"]),
        ("émile", ["Martin"]),  # accents fold case on SQLite too
        ("mile martin", ["Martin"]),
        ("emile.martin@", ["Martin"]),
        ("ef-456", ["Martin"]),
        ("ef456gh", ["Martin"]),  # a plate typed without dashes
        ("WVWZZZ1JZ", ["Martin"]),
        ("golf", ["Martin"]),
        ("renault", ["Durand"]),
        ("CF0000000001", ["Dupont"]),
        ("emile", ["Martin"]),  # accents ignored, both ways
        ("ÉMILE", ["Martin"]),
        ("martin emile", ["Martin"]),  # "last first"
        ("emile martin", ["Martin"]),  # "first last"
        ("martin dupont", []),  # every word must match
        ("besancon", ["Martin"]),  # city
        ("0698765432", ["Martin"]),  # mobile as typed in France
        ("06 98 76 54 32", ["Martin"]),
        ("+33698765432", ["Martin"]),
        ("ferrand", ["Martin"]),  # seller
        ("EF 456 GH", ["Martin"]),  # plate with spaces
        ("100%", ["Durand"]),  # LIKE wildcards are matched literally
        ("%", ["Durand"]),  # only the literal percent sign
        ("_", []),
        ("nobody", []),
    ],
)
async def test_text_search(client, dealers, rows, q: str, expected: list[str]) -> None:
    assert await names(client, dealers.a.headers, q=q) == expected


async def test_search_and_state_combine(client, dealers, rows) -> None:
    assert await names(client, dealers.a.headers, q="peugeot", state="draft") == ["Petit", "Dupont"]


async def test_paging(client, dealers, rows) -> None:
    first = (await client.get(URL, params={"page_size": 2}, headers=dealers.a.headers)).json()
    second = (await client.get(URL, params={"page_size": 2, "page": 2}, headers=dealers.a.headers)).json()
    third = (await client.get(URL, params={"page_size": 2, "page": 3}, headers=dealers.a.headers)).json()
    beyond = (await client.get(URL, params={"page_size": 2, "page": 9}, headers=dealers.a.headers)).json()
    assert [i["buyer"]["last_name"] for i in first["items"]] == ["Leroy", "Petit"]
    assert [i["buyer"]["last_name"] for i in second["items"]] == ["Durand", "Martin"]
    assert [i["buyer"]["last_name"] for i in third["items"]] == ["Dupont"]
    assert beyond["items"] == [] and beyond["total"] == 5
    assert (second["page"], second["page_size"]) == (2, 2)


@pytest.mark.parametrize(
    "params",
    [{"page": 0}, {"page_size": 0}, {"page_size": 101}, {"page": "two"}, {"q": "x" * 101}],
)
async def test_bad_paging_or_query_is_422(client, dealers, params) -> None:
    response = await client.get(URL, params=params, headers=dealers.a.headers)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == next(iter(params))


async def test_list_needs_a_dealer_token(client) -> None:
    assert (await client.get(URL)).status_code == 401


async def test_state_repeated_means_either(client, dealers, rows) -> None:
    response = await client.get(
        URL, params=[("state", "draft"), ("state", "signed")], headers=dealers.a.headers
    )
    assert [i["buyer"]["last_name"] for i in response.json()["items"]] == ["Petit", "Durand", "Dupont"]


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ([("stat", "draft")], "unknown_parameter", "stat"),
        ([("q", "dupont"), ("q", "martin")], "repeated_parameter", "q"),
        ([("page", "1"), ("page", "2")], "repeated_parameter", "page"),
        ([("cursor", "not-a-cursor")], "invalid_cursor", "cursor"),
        ([("cursor", "eyJsIjoic2VsbGVycyIsImsiOltdfQ")], "invalid_cursor", "cursor"),  # another list's
        ([("cursor", "e30"), ("page", "2")], "cursor_with_page", "cursor"),
    ],
)
async def test_bad_list_parameters_are_422_naming_them(client, dealers, params, code, parameter) -> None:
    response = await client.get(URL, params=params, headers=dealers.a.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["parameter"]) == (code, parameter)


async def test_cursor_walks_the_list(client, dealers, rows) -> None:
    seen: list[list[str]] = []
    params: dict[str, object] = {"page_size": 2}
    while True:
        body = (await client.get(URL, params=params, headers=dealers.a.headers)).json()
        seen.append([i["buyer"]["last_name"] for i in body["items"]])
        assert (body["total"], body["total_exact"]) == (5, True)
        if body["next_cursor"] is None:
            break
        params = {"page_size": 2, "cursor": body["next_cursor"]}
        assert len(seen) < 5
    assert seen == [["Leroy", "Petit"], ["Durand", "Martin"], ["Dupont"]]
    assert body["page"] is None  # asked by cursor


async def test_cursor_pages_are_stable_under_inserts(client, dealers, rows, insert_proposal) -> None:
    """Rows arriving between two pages never shift the next one: no duplicate, no skip."""
    dealer = dealers.no_remote
    made = [
        await insert_proposal(dealer.id, created_at=T0 + timedelta(minutes=i), buyer_last_name=f"N{i}")
        for i in range(5)
    ]
    first = (await client.get(URL, params={"page_size": 2}, headers=dealer.headers)).json()
    # Meanwhile: two newer proposals (page 1 would now start with them) and one at the very
    # same instant as the last row shown (its id decides which side of the cursor it falls).
    await insert_proposal(dealer.id, created_at=T0 + timedelta(hours=5), buyer_last_name="New1")
    await insert_proposal(dealer.id, created_at=T0 + timedelta(hours=6), buyer_last_name="New2")
    await insert_proposal(dealer.id, created_at=T0 - timedelta(days=1), buyer_last_name="Oldest")
    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor is not None:
        body = (
            await client.get(URL, params={"page_size": 2, "cursor": cursor}, headers=dealer.headers)
        ).json()
        rest += [i["buyer"]["last_name"] for i in body["items"]]
        cursor = body["next_cursor"]
    shown = [i["buyer"]["last_name"] for i in first["items"]] + rest
    assert shown == [r.buyer_last_name for r in reversed(made)] + ["Oldest"]
    assert len(shown) == len(set(shown))


async def test_count_stops_at_the_cap(client, dealers, rows, monkeypatch) -> None:
    import api.paging

    monkeypatch.setattr(api.paging, "COUNT_CAP", 3)
    body = (await client.get(URL, params={"page_size": 2}, headers=dealers.a.headers)).json()
    assert (body["total"], body["total_exact"], len(body["items"])) == (3, False, 2)
    # A short first page is its own count, exact whatever the cap.
    body = (await client.get(URL, params={"state": "signed"}, headers=dealers.a.headers)).json()
    assert (body["total"], body["total_exact"]) == (1, True)
