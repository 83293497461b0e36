"""The production worker passes the workflow modules through the sandbox (cheaper starts).

The suite runs the workflows under the sandbox's run-time checks (tests/support.py); this
runs the buyer's journey on a worker configured as in production, with a second proposal
beside it on the same worker: passed-through modules are shared by every workflow of the
process, so each must still keep to its own state.
"""

from __future__ import annotations

from buyer_helpers import accept_body, contract_ready, send_proposal
from stack import running_worker

URL = "/api/v1/proposals"


async def test_passed_through_workflows_run_the_journey_and_keep_to_themselves(
    client, dealers, new_body, temporal_env, migrated, session_factory, sink
) -> None:
    production = migrated.model_copy(update={"worker_reuse_workflow_modules": True})
    async with running_worker(temporal_env, production, session_factory) as worker:
        assert "workflows" in worker.config()["workflow_runner"].restrictions.passthrough_modules  # type: ignore[attr-defined]
        other = (await client.post(URL, json=new_body(), headers=dealers.a.headers)).json()
        proposal, token = await send_proposal(client, dealers, new_body, sink)

        assert (await client.get(f"/api/v1/buyer/{token}")).json()["state"] == "viewed"
        accepted = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
        assert accepted.json()["state"] == "signing", accepted.text
        cancelled = await client.post(f"{URL}/{other['id']}/cancel", headers=dealers.a.headers)
        await contract_ready(client, token)
        signed = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})

        assert signed.status_code == 200, signed.text
        assert signed.json()["state"] == "signed"
        assert cancelled.status_code == 200, cancelled.text
        details = [
            (await client.get(f"{URL}/{ident}", headers=dealers.a.headers)).json()
            for ident in (proposal["id"], other["id"])
        ]
        assert [(d["state"], d["view_count"], d["sent_count"]) for d in details] == [
            ("signed", 1, 1),
            ("cancelled", 0, 0),
        ]
