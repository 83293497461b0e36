"""NUL and other control characters are refused at the edge, on SQLite and PostgreSQL alike.

Before: `/api/v1/listings?make=%00`, `/annonces?marque=%00`, an owner login with a NUL in the
email and the dealer's `q=%00` answered 500 on PostgreSQL, and on SQLite `q=%00` matched
every proposal. Now: 422 `control_character` naming the field (JSON), a French page (pages).
"""

from __future__ import annotations

import pytest


async def test_public_search_refuses_a_nul_in_a_query_parameter(client) -> None:
    response = await client.get("/api/v1/listings?make=%00")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "control_character"
    assert error["field"] == "make"
    assert "make" in error["message"]


async def test_public_search_page_answers_in_french(client) -> None:
    response = await client.get("/annonces?marque=Peugeot%00")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Saisie refusée" in response.text
    assert "« marque »" in response.text


async def test_owner_login_with_a_nul_in_the_email(client) -> None:
    response = await client.post("/api/v1/owner/login", json={"email": "a\x00@b.fr", "password": "x"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "control_character"
    assert error["field"] == "email"


async def test_owner_login_form_with_a_nul(client) -> None:
    response = await client.post(
        "/espace/connexion", data={"email": "a\x00@b.fr", "password": "x", "csrf": "t"}
    )
    assert response.status_code == 422
    assert "Saisie refusée" in response.text


@pytest.mark.parametrize("q", ["%00", "Dup%00", "%1b", "%7f"])
async def test_dealer_search_refuses_control_characters_and_matches_nothing(
    client, dealers, insert_proposal, q: str
) -> None:
    await insert_proposal(dealers.a.id)
    response = await client.get(f"/api/v1/proposals?q={q}", headers=dealers.a.headers)
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "control_character",
        "message": "Invalid request: q: must not contain control characters (NUL, escape…)",
        "field": "q",
        "location": "query",
        "fields": [{"field": "q", "message": "must not contain control characters"}],
    }
    # The same search without the control character still works (the guard is not a blanket).
    assert (await client.get("/api/v1/proposals?q=Dup", headers=dealers.a.headers)).status_code == 200


async def test_body_text_refuses_nul_names_the_nested_field_and_keeps_multiline_text(
    client, dealers, new_body, count_rows
) -> None:
    body = new_body()
    body["buyer"]["address"]["city"] = "Paris\x00"
    response = await client.post("/api/v1/proposals", json=body, headers=dealers.a.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "control_character"
    assert response.json()["error"]["field"] == "buyer.address.city"
    # A newline in a single-line field is refused by its type, with the same code.
    body["buyer"]["address"]["city"] = "Paris\nBcc: x@y.fr"
    response = await client.post("/api/v1/proposals", json=body, headers=dealers.a.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "control_character"
    assert await count_rows() == 0


async def test_multiline_message_keeps_its_newlines(client) -> None:
    # A contact message may span lines: the guard lets \n through (the listing does not exist: 404).
    response = await client.post(
        "/api/v1/listings/00000000-0000-0000-0000-000000000000/contact",
        json={"name": "Luc", "email": "luc@example.com", "message": "Bonjour,\r\nest-elle dispo ?\tMerci"},
    )
    assert response.status_code != 422, response.text


@pytest.fixture
async def staff_headers(session_factory) -> dict[str, str]:
    from db.accounts import create_staff

    async with session_factory() as session:
        staff = await create_staff(session, "Alice ADV")
        await session.commit()
    return {"Authorization": f"Bearer {staff.token}"}


# Found by `make fuzz` (chaos/fuzz.py): a NUL in a path parameter reached PostgreSQL, e.g. the
# ADV retry wrote `\x00` into its audit row (500, and the connection reset for the next one).
@pytest.mark.parametrize("path", ["/api/v1/adv/proposals/%00/retry", "/api/v1/adv/listings/a%1Bb/retry"])
async def test_adv_retry_refuses_a_control_character_in_the_path(client, staff_headers, path: str) -> None:
    response = await client.post(path, headers=staff_headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "control_character"
    assert (error["field"], error["location"]) == ("path", "path")


async def test_buyer_page_with_a_nul_in_its_link_answers_in_french(client) -> None:
    response = await client.get("/p/abc%00def")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "L'adresse de la page contient des caractères de contrôle" in response.text


async def test_a_path_without_control_characters_is_not_refused(client, staff_headers) -> None:
    response = await client.post("/api/v1/adv/proposals/no-such-proposal/retry", headers=staff_headers)
    assert response.status_code != 422
