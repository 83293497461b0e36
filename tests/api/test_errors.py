"""Every error has the design's shape {"error": {"code", "message", ...}}; no 500 leaks internals."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from pydantic import BaseModel, Field


class Body(BaseModel):
    email: str = Field(pattern=r"^[^@]+@[^@]+$")
    price_cents: int = Field(ge=0)


def add_probe_routes(app) -> None:  # noqa: ANN001
    router = APIRouter()

    @router.post("/probe/body")
    async def with_body(body: Body) -> dict[str, int]:
        return {"price_cents": body.price_cents}

    @router.get("/probe/crash")
    async def crash() -> None:
        raise RuntimeError("secret internal detail")

    app.include_router(router)


async def test_validation_error_names_each_field(app, client) -> None:
    add_probe_routes(app)
    response = await client.post("/probe/body", json={"email": "nope", "price_cents": -5})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {f["field"] for f in error["fields"]} == {"email", "price_cents"}
    assert "price_cents" in error["message"]


async def test_malformed_json_is_422_not_500(app, client) -> None:
    add_probe_routes(app)
    response = await client.post(
        "/probe/body", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_unknown_route_is_404_in_error_format(client) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_405_in_error_format(client) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_unexpected_error_is_500_without_internals(app) -> None:
    add_probe_routes(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/probe/crash")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Internal error; it has been logged."}
    }
    assert "secret" not in response.text


async def test_openapi_and_docs_are_served(client) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/healthz" in spec["paths"]
    assert "/api/v1/me" in spec["paths"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_responses_carry_a_request_id(client) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
