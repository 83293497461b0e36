"""The workflow client answers within its bound when no worker runs: pending, not hung."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

import api.lifecycle_client as lifecycle_client
from carflow.settings import Settings
from workflows.listing_contract import EventRequest, ListingStart


async def test_listing_action_with_no_worker_is_quickly_not_applied(
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
    with pytest.raises(lifecycle_client.ActionNotApplied) as info:
        await workflows.fire(listing_id, "mark_sold", EventRequest(actor="owner"), update_id="sold-1")
    assert time.monotonic() - started < 10
    # No worker ran the validator in time: it will refuse the late copy, so a true 503.
    assert (info.value.status_code, info.value.code) == (503, "action_not_applied")
