"""The API's `/metrics`: requests and latency by route template, proposals by state."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families
from proposal_harness import proposal_row

from db.accounts import create_dealer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def add_proposals(session_factory, migrated, states: list[tuple[str, bool]]) -> None:  # noqa: ANN001
    async with session_factory() as session:
        dealer = await create_dealer(session, "Garage Nord")
        for state, email_failed in states:
            session.add(proposal_row(migrated, dealer.id, state=state, email_failed=email_failed))
        await session.commit()


async def test_metrics_count_requests_by_route_template_and_proposals_by_state(
    client: httpx.AsyncClient, session_factory, migrated
) -> None:
    await add_proposals(
        session_factory, migrated, [("sent", False), ("sent", True), ("signing", False), ("draft", False)]
    )
    for _ in range(3):
        assert (await client.get("/api/v1/me")).status_code == 401
    for proposal_id in (uuid.uuid4(), uuid.uuid4()):
        await client.get(f"/api/v1/adv/proposals/{proposal_id}/retry")  # 405: GET on a POST route
        await client.post(f"/api/v1/adv/proposals/{proposal_id}/retry")  # 401
    await client.get("/no/such/page")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)

    def requests(method: str, route: str, status: str) -> float:
        key = ("carflow_http_requests_total", (("method", method), ("route", route), ("status", status)))
        return found.get(key, 0)

    assert requests("GET", "/api/v1/me", "401") == 3
    assert requests("POST", "/api/v1/adv/proposals/{proposal_id}/retry", "401") == 2
    assert requests("GET", "<unmatched>", "404") == 1
    # Raw paths (with ids) never become labels.
    assert not any("route" in dict(labels) and "-" in dict(labels)["route"] for _, labels in found)
    latency = ("carflow_http_request_duration_seconds_count", (("method", "GET"), ("route", "/api/v1/me")))
    assert found[latency] == 3

    def proposals(state: str) -> float:
        return found[("carflow_proposals", (("state", state),))]

    assert (proposals("sent"), proposals("signing"), proposals("draft"), proposals("binding")) == (2, 1, 1, 0)
    assert found[("carflow_proposals_email_failed", ())] == 1
    assert found[("carflow_metrics_database_up", ())] == 1

    # Read at most every `metrics_refresh_s`: a new row shows once that much time has passed.
    await add_proposals(session_factory, migrated, [("signed", False)])
    metrics = client._transport.app.state.metrics  # type: ignore[attr-defined]
    cached = samples((await client.get("/metrics")).text)
    assert cached[("carflow_proposals", (("state", "signed"),))] == 0
    clock = metrics.clock
    metrics.clock = lambda: clock() + migrated.metrics_refresh_s + 1
    again = samples((await client.get("/metrics")).text)
    assert again[("carflow_proposals", (("state", "signed"),))] == 1
    assert (
        again[("carflow_http_requests_total", (("method", "GET"), ("route", "/metrics"), ("status", "200")))]
        == 2
    )
