"""The workflow client answers 503 within its bound when no worker runs (no hung request)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

import api.lifecycle_client as lifecycle_client
from api.errors import ApiError
from carflow.settings import Settings
from workflows.listing_contract import ListingStart


async def test_listing_action_with_no_worker_is_a_quick_503(
    migrated: Settings, temporal_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle_client, "UPDATE_TIMEOUT", timedelta(seconds=2))
    workflows = lifecycle_client.listing_workflows(temporal_env.client, migrated)
    listing_id = uuid.uuid4()
    # Started, but no worker polls the queue: the update can never be handled.
    await workflows.start(
        listing_id,
        ListingStart(
            listing_id=str(listing_id), owner_id=str(uuid.uuid4()), inspection_id="i-1", summary="test"
        ),
    )
    started = time.monotonic()
    with pytest.raises(ApiError) as info:
        await workflows.fire(listing_id, "sold_period_ends", None)
    assert time.monotonic() - started < 10
    assert (info.value.status_code, info.value.code) == (503, "workflow_unavailable")
    assert "worker" in info.value.message
