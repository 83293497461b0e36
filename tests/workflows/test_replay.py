"""Replays recorded histories against today's workflow code: a non-deterministic change
(an activity added, reordered or removed without `workflow.patched`) fails here, before it
breaks proposals that are running in production.

Histories are recorded by the lifecycle tests: `CARFLOW_RECORD_HISTORIES=1 make test`.
Re-record them only for a deliberate, patched change, and keep the old files too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from worker import PASSTHROUGH_MODULES
from workflows.registry import ALL_WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_recorded_for_each_lifecycle_ending() -> None:
    names = {path.stem for path in HISTORIES}
    assert {"expired_unsent", "sent_resent_expired", "signed_binding_service", "signed_withdrawn"} <= names
    # Listings: expiry after publication, renewal, the sold month then archive, sold while private.
    assert {
        "listing_published_expired",
        "listing_republished_expired_renewed",
        "listing_sold_archived",
        "listing_private_sold_archived",
    } <= names
    # Behind `loose-ends-v1`: envelopes voided on cancel and expiry, a superseded mail dropped.
    assert {
        "i15_cancel_voids_envelope",
        "i15_expired_while_signing_voids_envelope",
        "i15_resend_supersedes_failed_mail",
    } <= names
    # Behind `lean-lifecycle-v1`, then `-v2` (one timer across signing, with and without reminders),
    # then `-v3` (the accept answers once the contract to review is made), then `-v4` below.
    assert {"i11_lean_remote_signed_binding", "i11_lean_in_person_signed"} <= names
    assert {
        "i11_lean_v2_remote_signed_binding",
        "i11_lean_v2_reminders_signed_binding",
        "i11_lean_v2_reminder_paused_while_signing",
    } <= names
    assert {
        "i11_lean_v3_remote_signed_binding",
        "i11_lean_v3_reminders_signed_binding",
        "i11_lean_v3_reminder_paused_while_signing",
        "i11_lean_v3_in_person_signed",
    } <= names
    # Behind `-v4`: the contract to review as a local activity when no provider is called.
    assert {
        "i11_lean_v4_remote_signed_binding",
        "i11_lean_v4_reminders_signed_binding",
        "i11_lean_v4_provider_signed_binding",
        "i11_lean_v4_reminder_paused_while_signing",
        "i11_lean_v4_in_person_signed",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=list(ALL_WORKFLOWS),
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
        ),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
