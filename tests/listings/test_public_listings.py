"""Public search and detail read the read model: what is visible, filters, paging, newest first."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from carflow.links import inspection_reference, report_token_hash
from carflow.settings import Settings
from db.models import Inspection, InspectionCheckpoint, Listing, Owner

Insert = Callable[..., Awaitable[Listing]]
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def insert_listing(session_factory, migrated: Settings) -> Insert:  # noqa: ANN001
    """A listing row as the read model holds it (no workflow): for search tests."""
    owner_id = uuid.uuid4()

    async def insert(
        state: str = "published",
        *,
        make: str = "Peugeot",
        model: str = "308",
        price_cents: int = 1_000_000,
        location: str = "Lyon",
        mileage_km: int = 50_000,
        published_at: datetime | None = NOW,
        visible: bool | None = None,
    ) -> Listing:
        async with session_factory() as session:
            if await session.get(Owner, owner_id) is None:
                session.add(
                    Owner(id=owner_id, email=f"{owner_id}@example.com", first_name="O", last_name="W")
                )
                await session.flush()
            inspection_id = uuid.uuid4()
            session.add(
                Inspection(
                    id=inspection_id,
                    owner_id=owner_id,
                    report_token_hash=report_token_hash(migrated, inspection_id),
                    reference=inspection_reference(inspection_id),
                    vehicle_make=make,
                    vehicle_model=model,
                    vehicle_registration="AB-123-CD",
                    vehicle_first_registration=date(2020, 1, 1),
                    vehicle_mileage_km=mileage_km,
                    inspected_at=NOW - timedelta(days=30),
                    inspector_name="Expert",
                    summary="Résumé",
                )
            )
            await session.flush()
            session.add(
                InspectionCheckpoint(inspection_id=inspection_id, position=1, label="Freins", grade="good")
            )
            if visible is None:
                visible = state == "published"
            listing = Listing(
                inspection_id=inspection_id,
                owner_id=owner_id,
                state=state,
                price_cents=price_cents,
                location=location,
                published_at=published_at,
                publicly_visible=visible,
                visible_when_sold=state in ("sold", "archived") and visible,
            )
            session.add(listing)
            await session.commit()
            return listing

    return insert


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/listings", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_only_published_and_recently_sold_listings_are_public(
    client: httpx.AsyncClient, insert_listing: Insert
) -> None:
    published = await insert_listing("published")
    sold_public = await insert_listing("sold", visible=True)
    hidden = [
        await insert_listing("pending_survey", published_at=None),
        await insert_listing("private", published_at=None),
        await insert_listing("expired"),
        await insert_listing("sold", visible=False),
        await insert_listing("archived", visible=False),
    ]
    page = await search(client)
    assert {item["id"] for item in page["items"]} == {str(published.id), str(sold_public.id)}
    assert page["total"] == 2
    sold = next(i for i in page["items"] if i["id"] == str(sold_public.id))
    assert (sold["sold"], sold["accepts_contact"]) == (True, False)
    for listing in hidden:
        assert (await client.get(f"/api/v1/listings/{listing.id}")).status_code == 404
        assert (await client.get(f"/annonces/{listing.id}")).status_code == 404
        contact = await client.post(
            f"/api/v1/listings/{listing.id}/contact",
            json={"name": "Paul", "email": "paul@example.com", "message": "Toujours disponible ?"},
        )
        assert contact.status_code == 404
    detail = await client.get(f"/annonces/{sold_public.id}")
    assert detail.status_code == 200 and "VENDU" in detail.text and "Contacter le vendeur" not in detail.text
    assert (await client.get("/annonces/not-a-uuid")).status_code == 404


async def test_search_filters_and_orders_newest_first(
    client: httpx.AsyncClient, insert_listing: Insert
) -> None:
    old = await insert_listing(
        make="Peugeot", model="208", price_cents=900_000, published_at=NOW - timedelta(days=9)
    )
    new = await insert_listing(make="Peugeot", model="3008", price_cents=2_500_000, published_at=NOW)
    citroen = await insert_listing(
        make="Citroën", model="C3", location="Villeurbanne", published_at=NOW - timedelta(days=1)
    )
    free = await insert_listing(
        make="Peugeot", model="108", price_cents=0, published_at=NOW - timedelta(days=2)
    )

    assert [i["id"] for i in (await search(client))["items"]] == [
        str(x.id) for x in (new, citroen, free, old)
    ]
    assert [i["id"] for i in (await search(client, make="peugeot"))["items"]] == [
        str(x.id) for x in (new, free, old)
    ]
    assert [i["id"] for i in (await search(client, make="CITROËN"))["items"]] == [str(citroen.id)]
    assert [i["id"] for i in (await search(client, model="008"))["items"]] == [str(new.id)]
    # Under a budget: only priced listings at or below it.
    assert [i["id"] for i in (await search(client, max_price_cents=900_000))["items"]] == [str(old.id)]
    assert [i["id"] for i in (await search(client, location="villeur"))["items"]] == [str(citroen.id)]
    assert (await search(client, make="%"))["total"] == 0  # no SQL wildcards from users

    page = await client.get("/annonces", params={"marque": "peugeot", "prix_max": "10000"})
    assert page.status_code == 200
    assert f"/annonces/{old.id}" in page.text and f"/annonces/{new.id}" not in page.text


async def test_paging(client: httpx.AsyncClient, insert_listing: Insert) -> None:
    rows = [await insert_listing(published_at=NOW - timedelta(hours=i)) for i in range(25)]
    first = await search(client)
    second = await search(client, page=2)
    assert (first["total"], first["page"], first["page_size"], len(first["items"])) == (25, 1, 20, 20)
    assert (second["page"], len(second["items"])) == (2, 5)
    assert [i["id"] for i in first["items"] + second["items"]] == [str(r.id) for r in rows]
    assert (await search(client, page=3))["items"] == []
    html = (await client.get("/annonces")).text
    assert "Page 1 sur 2" in html and 'rel="next"' in html
    # "Page suivante" carries a cursor (stable while listings are published meanwhile).
    link = html.split('" rel="next"')[0].rsplit('href="', 1)[1].replace("&amp;", "&")
    assert "cursor=" in link
    await insert_listing(published_at=NOW + timedelta(days=1))
    html = (await client.get(link)).text
    assert "Page 2" in html and 'rel="next"' not in html
    assert [html.count(f"/annonces/{r.id}") for r in rows] == [0] * 20 + [1] * 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_price_cents": -1}, "max_price_cents"),
        ({"max_price_cents": "cheap"}, "max_price_cents"),
        ({"page": 0}, "page"),
        ({"make": "x" * 81}, "make"),
        ({"page_size": 1000}, "page_size"),
    ],
)
async def test_bad_search_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, params: dict, field: str
) -> None:
    response = await client.get("/api/v1/listings", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == field


async def test_bad_search_page_input_is_explained_in_french(client: httpx.AsyncClient) -> None:
    response = await client.get("/annonces", params={"prix_max": "pas cher"})
    assert response.status_code == 422
    assert "Indiquez un prix maximum en euros" in response.text
    assert (await client.get("/api/v1/listings/not-a-uuid")).status_code == 422


async def test_filters_ignore_accents_and_case(client: httpx.AsyncClient, insert_listing: Insert) -> None:
    citroen = await insert_listing(make="Citroën", model="Berlingo Électrique", location="Besançon")
    await insert_listing(make="Peugeot", model="e-208", location="Paris")
    for params in (
        {"make": "citroen"},
        {"make": "CITROËN"},
        {"model": "electrique"},
        {"location": "besancon"},
        {"make": "citroen", "location": "BESANÇON"},
    ):
        assert [i["id"] for i in (await search(client, **params))["items"]] == [str(citroen.id)], params
    assert (await search(client, make="citroen", location="paris"))["items"] == []
    page = await client.get("/annonces", params={"marque": "citroen"})
    assert f"/annonces/{citroen.id}" in page.text


async def test_sort_by_mileage_lowest_first(client: httpx.AsyncClient, insert_listing: Insert) -> None:
    rows = [await insert_listing(mileage_km=km) for km in (120_000, 15_000, 60_000)]
    by_mileage = [i["id"] for i in (await search(client, sort="mileage_asc"))["items"]]
    assert by_mileage == [str(rows[1].id), str(rows[2].id), str(rows[0].id)]
    page = await client.get("/annonces", params={"tri": "kilometrage"})
    assert page.status_code == 200
    shown = [page.text.index(f"/annonces/{rows[i].id}") for i in (1, 2, 0)]
    assert shown == sorted(shown)
    assert 'value="kilometrage" selected' in page.text


async def test_sort_by_price(client: httpx.AsyncClient, insert_listing: Insert) -> None:
    rows = [await insert_listing(price_cents=p) for p in (500_000, 1_000_000, 2_000_000)]
    ascending = [i["id"] for i in (await search(client, sort="price_asc"))["items"]]
    assert ascending == [str(r.id) for r in rows]
    assert [i["id"] for i in (await search(client, sort="price_desc"))["items"]] == ascending[::-1]
    first = await search(client, sort="price_asc", page_size=2)
    rest = await search(client, sort="price_asc", page_size=2, cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"] + rest["items"]] == ascending
    # A cursor of one order is refused by another.
    other = await client.get("/api/v1/listings", params={"sort": "newest", "cursor": first["next_cursor"]})
    assert (other.status_code, other.json()["error"]["code"]) == (422, "invalid_cursor")


async def test_cursor_is_stable_while_listings_are_published(
    client: httpx.AsyncClient, insert_listing: Insert
) -> None:
    rows = [await insert_listing(published_at=NOW - timedelta(hours=i)) for i in range(5)]
    first = await search(client, page_size=2)
    await insert_listing(published_at=NOW + timedelta(hours=1))  # newer: page 1 shifts, not page 2
    second = await search(client, page_size=2, cursor=first["next_cursor"])
    third = await search(client, page_size=2, cursor=second["next_cursor"])
    shown = [i["id"] for i in first["items"] + second["items"] + third["items"]]
    assert shown == [str(r.id) for r in rows] and third["next_cursor"] is None
    assert (second["page"], second["total"]) == (None, 6)
    bad = await client.get("/annonces", params={"cursor": "nope"})
    assert bad.status_code == 422 and "relancez la recherche" in bad.text


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ([("marque", "peugeot")], "unknown_parameter", "marque"),  # the page's name, not the API's
        ([("make", "a"), ("make", "b")], "repeated_parameter", "make"),
        ([("sort", "cheapest")], "validation_error", None),
    ],
)
async def test_bad_search_parameters_are_422(client: httpx.AsyncClient, params, code, parameter) -> None:  # noqa: ANN001
    response = await client.get("/api/v1/listings", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and error.get("parameter") == parameter
