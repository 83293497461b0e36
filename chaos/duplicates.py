"""Concurrent duplicate actions: the same create (one Idempotency-Key) and the same accept
sent N times at once must give one proposal, one update, one mail each, and no 5xx."""

from __future__ import annotations

import asyncio
import uuid

from bench.lifecycle import ACCEPT_BODY, proposal_body
from chaos.__main__ import LINK, Run


async def duplicates(run: Run, copies: int = 10) -> list[str]:
    """Returns what went wrong (empty when every duplicate attached to the first)."""
    problems: list[str] = []
    buyer = f"chaos-dup-{uuid.uuid4().hex[:8]}@example.com"
    headers = {**run.dealer, "Idempotency-Key": f"dup-{buyer}"}
    creates = await asyncio.gather(
        *(
            run.call("POST", "/api/v1/proposals", json=proposal_body(buyer), headers=headers)
            for _ in range(copies)
        )
    )
    ids = {r.json().get("id") for r in creates if r.status_code in (200, 201, 202)}
    if len(ids) != 1 or any(r.status_code >= 500 for r in creates):
        problems.append(f"creates: {sorted(r.status_code for r in creates)}, ids {ids}")
        return problems

    async def token() -> str | None:
        for message in run.mails_to(buyer):
            body = message.get_body(preferencelist=("plain",))
            match = LINK.search(body.get_content() if body else "")
            if match:
                return match.group(1)
        return None

    link = await run.until(f"{buyer}: proposal mail", token)
    await run.until(f"{buyer}: viewed", lambda: run._state(link, {"viewed"}))
    accepts = await asyncio.gather(
        *(run.call("POST", f"/api/v1/buyer/{link}/accept", json=ACCEPT_BODY) for _ in range(copies))
    )
    if any(r.status_code >= 500 for r in accepts) or not any(r.status_code == 200 for r in accepts):
        problems.append(f"accepts: {sorted(r.status_code for r in accepts)}")
    await asyncio.sleep(2.0)
    if len(run.mails_to(buyer)) != 1:
        problems.append(f"{buyer}: {len(run.mails_to(buyer))} mails, expected 1 proposal mail")
    return problems
