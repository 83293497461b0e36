"""DocuSign Connect webhook: `POST /api/v1/webhooks/docusign` (JSON SIM messages).

Connect signs the raw body with HMAC-SHA256 (base64) in `X-DocuSign-Signature-1`
(`-2`, … while keys rotate). A body that no configured key signed is refused with 401 and
nothing happens. A signed `envelope-completed`, `envelope-declined` or `envelope-voided`
becomes the `signature_provider_event` signal of the workflow `proposal-<id>`, found through
the envelope's `proposal_id` custom field. The workflow ignores an event that no longer
applies, so a replayed message is harmless. Other events are acknowledged and ignored;
a proposal whose workflow is gone is acknowledged too (Connect would retry forever).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import APIRouter, Request
from temporalio.service import RPCError, RPCStatusCode

from activities.signature import SignatureProviderError
from api.body_limit import body_limited_route
from api.buyer.deps import app_signature_provider
from api.deps import SettingsDep, get_temporal
from api.errors import ApiError
from carflow.settings import Settings
from workflows.proposal_contract import SIGNAL_PROVIDER_EVENT, ProviderEvent, proposal_workflow_id

log = structlog.get_logger(__name__)

# Connect messages carry the envelope summary, never the documents (docs/docusign.md).
MAX_BODY_BYTES = 1024 * 1024
OUTCOMES = {
    "envelope-completed": "completed",
    "envelope-declined": "declined",
    "envelope-voided": "voided",
}
SIGNATURE_HEADER = re.compile(r"^x-docusign-signature-\d+$", re.IGNORECASE)
SIGNAL_TIMEOUT = timedelta(seconds=10)

router = APIRouter(
    prefix="/api/v1/webhooks", tags=["webhooks"], route_class=body_limited_route(MAX_BODY_BYTES)
)


def hmac_keys(settings: Settings) -> list[bytes]:
    """The configured Connect keys, used as DocuSign shows them (base64 text, not decoded)."""
    if settings.docusign_connect_hmac_keys is None:
        return []
    raw = settings.docusign_connect_hmac_keys.get_secret_value()
    return [key.strip().encode() for key in raw.split(",") if key.strip()]


def connect_signature(key: bytes, body: bytes) -> str:
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def signature_valid(body: bytes, headers: Mapping[str, str], keys: Iterable[bytes]) -> bool:
    """Whether any `X-DocuSign-Signature-N` header is the HMAC of `body` under any key."""
    received = [value.strip().encode() for name, value in headers.items() if SIGNATURE_HEADER.match(name)]
    expected = [connect_signature(key, body).encode() for key in keys]
    valid = False
    for signature in received:
        for candidate in expected:
            # Constant time; no early exit, so timing tells nothing about which one matched.
            valid |= hmac.compare_digest(signature, candidate)
    return valid


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text_fields(summary: Any) -> dict[str, str]:
    if not isinstance(summary, dict):
        return {}
    custom = summary.get("customFields") or {}
    fields = custom.get("textCustomFields") if isinstance(custom, dict) else None
    return {
        str(f["name"]): str(f["value"])
        for f in fields or []
        if isinstance(f, dict) and f.get("name") is not None and f.get("value") is not None
    }


@router.post(
    "/docusign",
    summary="DocuSign Connect callback (JSON SIM, HMAC-signed)",
    responses={401: {"description": "Missing or wrong HMAC signature"}},
)
async def docusign_connect(request: Request, settings: SettingsDep) -> dict[str, Any]:
    body = await request.body()
    keys = hmac_keys(settings)
    if not keys:
        log.warning("docusign_webhook_refused", reason="no Connect HMAC key configured")
        raise ApiError(
            401,
            "unauthorized",
            "DocuSign Connect is not configured here (CARFLOW_DOCUSIGN_CONNECT_HMAC_KEYS).",
        )
    if not signature_valid(body, request.headers, keys):
        log.warning("docusign_webhook_refused", reason="bad or missing HMAC signature", size=len(body))
        raise ApiError(401, "unauthorized", "Missing or invalid X-DocuSign-Signature header.")

    try:
        message = json.loads(body)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        raise ApiError(400, "bad_request", "Expected a Connect message in JSON (SIM) format.")
    event = str(message.get("event") or "")
    outcome = OUTCOMES.get(event)
    if outcome is None:
        return {"status": "ignored", "event": event, "note": "event not handled"}
    data = _object(message.get("data"))
    summary = _object(data.get("envelopeSummary"))
    envelope_id = str(data.get("envelopeId") or summary.get("envelopeId") or "")
    if not envelope_id:
        raise ApiError(400, "bad_request", f"{event} without an envelopeId.")

    proposal_id = _text_fields(summary).get("proposal_id") or _text_fields(data).get("proposal_id")
    if not proposal_id and settings.signature_provider == "docusign":
        # Connect configured without "custom fields" in its data: ask DocuSign.
        try:
            proposal_id = await app_signature_provider(request, settings).envelope_proposal_id(envelope_id)
        except SignatureProviderError as exc:
            log.warning("docusign_webhook_lookup_failed", envelope_id=envelope_id, error=exc.message)
            if exc.retryable:
                raise ApiError(503, "unavailable", "DocuSign did not answer; retry later.") from None
    try:
        proposal_uuid = uuid.UUID(str(proposal_id))
    except ValueError:
        log.warning("docusign_webhook_unknown_envelope", envelope_id=envelope_id, docusign_event=event)
        note = "not a Carflow envelope (no proposal_id custom field)"
        return {"status": "ignored", "event": event, "envelope_id": envelope_id, "note": note}

    workflow_id = proposal_workflow_id(proposal_uuid)
    client = await get_temporal(request)
    signal = ProviderEvent(
        provider="docusign", envelope_id=envelope_id, outcome=outcome, received_at=datetime.now(UTC)
    )
    try:
        await client.get_workflow_handle(workflow_id).signal(
            SIGNAL_PROVIDER_EVENT, signal, rpc_timeout=SIGNAL_TIMEOUT
        )
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            log.warning(
                "docusign_webhook_workflow_gone",
                workflow_id=workflow_id,
                envelope_id=envelope_id,
                outcome=outcome,
            )
            return {
                "status": "ignored",
                "event": event,
                "envelope_id": envelope_id,
                "workflow_id": workflow_id,
                "note": "no running workflow for this proposal",
            }
        log.warning("docusign_webhook_signal_failed", workflow_id=workflow_id, error=str(err)[:200])
        raise ApiError(503, "unavailable", "Could not reach the workflow; retry later.") from None
    log.info("docusign_webhook_signalled", workflow_id=workflow_id, envelope_id=envelope_id, outcome=outcome)
    return {"status": "signalled", "event": event, "envelope_id": envelope_id, "workflow_id": workflow_id}
