"""The bare baseline's HTTP API: `uvicorn bench.bare.api:app` (settings from BARE_* variables).

The paths and bodies of Carflow's (`POST /api/v1/proposals` with `send`, `GET
/api/v1/buyer/{token}` counting as a view, `POST .../accept`, `POST .../sign`), so the
benchmark drives both with the same client code. The token is the proposal id (no
capability links here); there is no authentication, no database and no validation
beyond what the workflow's validators refuse.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from temporalio.client import Client, WorkflowUpdateFailedError

from bench.bare.workflow import TASK_QUEUE, BareEvent, BareProposal, BareStart, BareStatus


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.client = await Client.connect(os.environ["BARE_TEMPORAL_ADDRESS"])
    yield


app = FastAPI(lifespan=lifespan)


def contract_data(proposal_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The contract's data as the PDF and email templates read it (Carflow's shape)."""
    product, buyer, vehicle = body["product"], body["buyer"], body["vehicle"]
    price = product["price_cents"]
    return {
        "contract_number": f"B{uuid.UUID(proposal_id).int % 10**10:010d}",
        "product_label": product["label"],
        "product_code": product["code"],
        "kind": product["kind"],
        "kind_label": product["kind"],
        "duration_months": product["duration_months"],
        "price": f"{price // 100} {price % 100:02d} €".replace(" ", ",", 1),
        "withdrawal_rule": "14 jours",
        "buyer": {
            "first_name": buyer["first_name"],
            "last_name": buyer["last_name"],
            "address_line1": buyer["address"]["line1"],
            "postal_code": buyer["address"]["postal_code"],
            "city": buyer["address"]["city"],
            "email": buyer["email"],
            "mobile": buyer["mobile"],
        },
        "vehicle": {**vehicle, "mileage": f"{vehicle['mileage_km']} km"},
        "dealer": {"name": "Garage du banc d'essai", "address": None, "phone": None, "email": None},
        "seller": body["seller"],
        "iban_masked": None,
        "account_holder": None,
    }


async def _update(request: Request, proposal_id: str, update: Any, event: BareEvent) -> dict[str, Any]:
    handle = request.app.state.client.get_workflow_handle_for(BareProposal.run, proposal_id)
    try:
        status: BareStatus = await handle.execute_update(update, event)
    except WorkflowUpdateFailedError as err:
        raise HTTPException(409, str(err.cause)) from None
    return {"id": status.proposal_id, "state": status.state}


@app.post("/api/v1/proposals", status_code=201)
async def create(request: Request) -> dict[str, Any]:
    body = await request.json()
    proposal_id = str(uuid.uuid4())
    client: Client = request.app.state.client
    await client.start_workflow(
        BareProposal.run,
        BareStart(proposal_id, contract_data(proposal_id, body)),
        id=proposal_id,
        task_queue=TASK_QUEUE,
        execution_timeout=timedelta(days=60),
    )
    if not body.get("send"):
        return {"id": proposal_id, "state": "draft"}
    return await _update(request, proposal_id, BareProposal.send_to_buyer, BareEvent())


@app.get("/api/v1/buyer/{token}")
async def view(token: str, request: Request) -> dict[str, Any]:
    return await _update(request, token, BareProposal.view, BareEvent())


@app.post("/api/v1/buyer/{token}/accept")
async def accept(token: str, request: Request) -> dict[str, Any]:
    body = await request.json()
    event = BareEvent(iban=body.get("iban"), account_holder=body.get("account_holder"))
    return await _update(request, token, BareProposal.accept, event)


@app.post("/api/v1/buyer/{token}/sign")
async def sign(token: str, request: Request) -> dict[str, Any]:
    body = await request.json()
    return await _update(request, token, BareProposal.sign, BareEvent(full_name=body.get("full_name")))


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
