"""The lifecycle rules run inside Temporal's workflow sandbox, as the workflows use them.

The sandbox rejects lazy imports and calls such as `locale.normalize` at run time, which a
pure-looking function can hit deep inside a library (it did, with `holidays.France`).
This runs every public rule inside a real sandboxed workflow once (on the shared
time-skipping server fixture) and compares with the results computed outside it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from statemachines import deadlines, listing, proposal

SIGNED_AT = "2026-03-21T09:00:00+00:00"  # a chain: Saturday, Sunday, Easter Monday


def exercise_rules(signed_at_iso: str) -> list[str]:
    """Every public rule once; returns printable results to compare in and out of the sandbox."""
    at = datetime.fromisoformat(signed_at_iso)
    results = [
        deadlines.proposal_expires_at(at, at + timedelta(days=1)).isoformat(),
        deadlines.withdrawal_deadline(at, "service").isoformat(),
        deadlines.withdrawal_deadline(at, "insurance").isoformat(),
        deadlines.listing_publication_ends_at(at).isoformat(),
        deadlines.listing_sold_period_ends_at(at).isoformat(),
    ]
    offer = proposal.new_proposal("service", at)
    for event in ["send_to_buyer", "view", "accept", "abandon", "start_in_person", "sign"]:
        results.append(offer.fire(event, now=at))
    results += offer.allowed(now=at, actor="buyer")
    results.append(str(offer.next_timer()))
    results.append(str(offer.refusal("withdraw", now=at + timedelta(days=60), actor="buyer")))
    results += proposal.allowed_events("signing", "viewed")
    for refused_event in ["view", "draft"]:  # illegal here; not an event at all
        try:
            offer.fire(refused_event, now=at)
        except proposal.TransitionNotAllowed as refused:
            results.append(str(refused))
    ad = listing.restore_listing()
    ad.fire("complete_survey", now=at, publish=True)
    results.append(str(ad.edit_events(False)))
    ad.fire("edit", now=at, price_cents=500_000)
    ends = ad.model.publication_ends_at
    for event, when in [("publication_ends", ends), ("publish", ends), ("mark_sold", ends)]:
        results.append(ad.fire(event, now=when))
    results += ad.allowed(now=at, actor="owner")
    results.append(repr(ad.model))
    return results


# Any exception, a sandbox refusal included, fails the workflow at once instead of
# retrying its task until the execution timeout.
@workflow.defn(sandboxed=True, failure_exception_types=[Exception])
class RulesProbe:
    @workflow.run
    async def run(self, signed_at_iso: str) -> list[str]:
        return exercise_rules(signed_at_iso)


async def test_rules_run_unchanged_inside_the_workflow_sandbox(
    temporal_env: WorkflowEnvironment,
) -> None:
    # Nothing computed beforehand may be served from a cache inside the sandbox.
    deadlines.french_public_holidays.cache_clear()

    async with Worker(temporal_env.client, task_queue="rules-probe", workflows=[RulesProbe]):
        try:
            result = await temporal_env.client.execute_workflow(
                RulesProbe.run,
                SIGNED_AT,
                id=f"rules-probe-{uuid.uuid4()}",
                task_queue="rules-probe",
                execution_timeout=timedelta(seconds=30),
            )
        except WorkflowFailureError as failure:
            pytest.fail(f"the rules fail inside the sandbox: {failure.cause}")

    expected = exercise_rules(SIGNED_AT)
    assert result == expected
    assert expected[1] == "2026-04-07T21:59:59.999999+00:00"
    assert datetime.fromisoformat(result[1]).tzinfo == UTC


# What the modules the worker shares with the sandbox may pull in: the standard library,
# the SDK and its protobufs, python-statemachine, and one another. A database driver, an
# HTTP client or our activities here would be I/O reachable from workflow code.
SHAREABLE_TOP_LEVEL = {"temporalio", "google", "nexusrpc", "typing_extensions", "statemachine"}


def test_modules_passed_through_the_sandbox_import_nothing_with_side_effects() -> None:
    import subprocess
    import sys

    from worker import PASSTHROUGH_MODULES, WORKFLOW_MODULES

    modules = [*PASSTHROUGH_MODULES, *WORKFLOW_MODULES, "workflows.registry"]
    script = (
        "import importlib, sys\n"
        "before = set(sys.modules)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(' '.join(sorted({n.split('.')[0] for n in set(sys.modules) - before})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    ours = {name.split(".")[0] for name in modules}
    imported = set(done.stdout.split()) - set(sys.stdlib_module_names) - ours - SHAREABLE_TOP_LEVEL
    assert {name for name in imported if not name.startswith("_")} == set()
    # Nothing of ours but the pure kernel helpers either (the import contracts say the same).
    loaded = subprocess.run(
        [sys.executable, "-c", script.replace("n.split('.')[0]", "n")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [name for name in loaded if name.startswith("carflow.")] == ["carflow.records"]
