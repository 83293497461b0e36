"""The ADV lists from indexed data: paged by cursor without describing a workflow, the
detail view describes one, and an unreachable Temporal is a 503, never "nothing stuck".

Rows come from `carflow seed` (read model only: no workflow exists for them, so a list
that described its rows would drop every one of them).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from temporalio.client import Client

from cli.seed import seed
from db.models import ActivityFailure, Proposal
from support import free_port
from tests.adv.test_adv_pages import log_in
from workflows.proposal_contract import PROPOSAL

URL = "/api/v1/adv/workflows"


async def test_stuck_list_pages_by_cursor_from_indexed_rows(
    client, tokens, session_factory, migrated
) -> None:
    await seed(session_factory, proposals=300, listings=20, dealers=2)
    old = datetime.now(UTC) - timedelta(hours=migrated.adv_signing_stuck_hours + 1)
    async with session_factory() as session:
        ids = list(await session.scalars(select(Proposal.id).order_by(Proposal.id)))
        failed, signing = ids[:70], ids[70:110]
        await session.execute(update(Proposal).values(email_failed=False))
        await session.execute(update(Proposal).where(Proposal.state == "signing").values(state="sent"))
        await session.execute(
            update(Proposal)
            .where(Proposal.id.in_(failed))
            .values(email_failed=True, email_error="550 refusé")
        )
        await session.execute(
            update(Proposal).where(Proposal.id.in_(signing)).values(state="signing", updated_at=old)
        )
        broken = ids[200]
        session.add(
            ActivityFailure(
                workflow_run_id="run-1",
                activity_id="3",
                workflow_id=PROPOSAL.workflow_id(broken),
                kind="proposal",
                target_id=str(broken),
                activity_type="send_proposal_email",
                attempt=migrated.adv_stuck_attempts,
                first_failed_at=datetime.now(UTC) - timedelta(minutes=2),
                last_failed_at=datetime.now(UTC),
                last_error="SMTP 127.0.0.1:1 refused connection",
            )
        )
        await session.commit()

    seen: list[dict] = []
    cursor = None
    for _ in range(10):
        params = {"stuck": "true", "page_size": "50", **({"cursor": cursor} if cursor else {})}
        response = await client.get(URL, params=params, headers=tokens.adv)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == 111
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 111 and len({i["workflow_id"] for i in seen}) == 111
    # By cause (the failing activity first), then oldest problem first.
    assert seen[0]["cause"] == "activity_failing" and seen[0]["id"] == str(broken)
    assert "send_proposal_email failing" in seen[0]["reason"] and seen[0]["attempts"] == 4
    assert [i["cause"] for i in seen[1:71]] == ["email_failed"] * 70
    assert all("550 refusé" in i["reason"] and i["label"] for i in seen[1:71])
    since = [i["since"] for i in seen[1:71]]
    assert since == sorted(since)
    assert {i["cause"] for i in seen[71:]} == {"signing_open"} and {i["state"] for i in seen[71:]} == {
        "signing"
    }

    # The page-number form gives the same second page.
    second = (
        await client.get(URL, params={"stuck": "true", "page_size": "50", "page": "2"}, headers=tokens.adv)
    ).json()
    assert [i["workflow_id"] for i in second["items"]] == [i["workflow_id"] for i in seen[50:100]]
    listings = (await client.get(URL, params={"stuck": "true", "kind": "listing"}, headers=tokens.adv)).json()
    assert listings["total"] == 0 and listings["items"] == []

    # The running list (read model, newest first) flags the same problems.
    running = (
        await client.get(URL, params={"kind": "proposal", "page_size": "100"}, headers=tokens.adv)
    ).json()
    flagged = {i["id"]: i["cause"] for i in running["items"] if i["stuck"]}
    assert all(flagged[str(i)] == "email_failed" for i in failed if str(i) in flagged)

    bad = await client.get(URL, params={"stuck": "true", "cursor": "not-a-cursor"}, headers=tokens.adv)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"


async def test_detail_view_describes_one_workflow(client, tokens, proposals) -> None:
    handle = await proposals.create()
    proposal_id = handle.id.removeprefix("proposal-")
    found = await client.get(f"/api/v1/adv/proposals/{proposal_id}", headers=tokens.adv)
    assert found.status_code == 200, found.text
    assert (found.json()["workflow_id"], found.json()["state"], found.json()["stuck"]) == (
        handle.id,
        "draft",
        False,
    )
    missing = await client.get(f"/api/v1/adv/proposals/{uuid.uuid4()}", headers=tokens.adv)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    refused = await client.get(f"/api/v1/adv/proposals/{proposal_id}", headers=tokens.bearer(tokens.dealer))
    assert refused.status_code == 403


async def _app_without_temporal(settings, client: Client | None):  # noqa: ANN202
    from api import create_app

    return create_app(
        settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}), temporal_client=client
    )


async def test_temporal_unreachable_is_a_503_not_an_empty_list(migrated, tokens) -> None:
    # Never connected (the API started while Temporal was down), then connected to a server
    # that has gone away since (a lazy client fails on its first call).
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    for temporal in (None, dead):
        app = await _app_without_temporal(migrated, temporal)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as http:
                response = await http.get(URL, params={"stuck": "true"}, headers=tokens.adv)
                assert response.status_code == 503, response.text
                error = response.json()["error"]
                assert error["code"] == "temporal_unavailable"
                assert error["message"].startswith("Cannot see the workflows: Temporal did not answer")

                assert (await log_in(http, tokens.staff)).status_code == 303
                page = await http.get("/adv")
                assert page.status_code == 503
                assert "Impossible de voir les workflows : Temporal ne répond pas" in page.text
                assert "Aucun workflow bloqué" not in page.text
        finally:
            await app.state.engine.dispose()
