"""Bearer-token auth per role: 401 for a missing/unknown token, 403 for the wrong role."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from api.deps import CurrentInspector, CurrentStaff
from db.accounts import create_dealer, create_inspector, create_staff


@pytest.fixture
async def tokens(session_factory) -> dict[str, str]:
    async with session_factory() as session:
        dealer = await create_dealer(session, "Garage Nord", email="nord@example.com")
        staff = await create_staff(session, "ADV")
        inspector = await create_inspector(session, "Expert")
        await session.commit()
    return {"dealer": dealer.token, "staff": staff.token, "inspector": inspector.token}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_missing_token_is_401_with_challenge(client) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"
    assert "Missing bearer token" in response.json()["error"]["message"]


async def test_unknown_token_is_401(client, tokens) -> None:
    response = await client.get("/api/v1/me", headers=bearer(tokens["dealer"] + "tampered"))
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "unauthorized", "message": "Unknown or revoked token."}


async def test_each_role_identifies_itself(client, tokens) -> None:
    for role, token in tokens.items():
        response = await client.get("/api/v1/me", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json()["role"] == role


async def test_dealer_endpoint_serves_the_calling_dealer(client, tokens) -> None:
    response = await client.get("/api/v1/dealer", headers=bearer(tokens["dealer"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["email"], body["remote_sale_enabled"]) == (
        "Garage Nord",
        "nord@example.com",
        True,
    )


@pytest.mark.parametrize("role", ["staff", "inspector"])
async def test_dealer_endpoint_refuses_other_roles_with_403(client, tokens, role) -> None:
    response = await client.get("/api/v1/dealer", headers=bearer(tokens[role]))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "dealer token" in response.json()["error"]["message"]


async def test_staff_and_inspector_dependencies_refuse_other_roles(app, client, tokens) -> None:
    router = APIRouter()

    @router.get("/probe/staff")
    async def staff_only(principal: CurrentStaff) -> dict[str, str]:
        return {"name": principal.name}

    @router.get("/probe/inspector")
    async def inspector_only(principal: CurrentInspector) -> dict[str, str]:
        return {"name": principal.name}

    app.include_router(router)
    expected = {
        ("staff", "/probe/staff"): 200,
        ("dealer", "/probe/staff"): 403,
        ("inspector", "/probe/staff"): 403,
        ("inspector", "/probe/inspector"): 200,
        ("dealer", "/probe/inspector"): 403,
        ("staff", "/probe/inspector"): 403,
    }
    for (role, path), status in expected.items():
        response = await client.get(path, headers=bearer(tokens[role]))
        assert response.status_code == status, (role, path, response.text)
