"""`make bench-lifecycle`: full remote lifecycles through Carflow's HTTP API against a bare-Temporal baseline.

    python -m bench.lifecycle [--lifecycles 20] [--rounds 2] [--concurrency 10,20] [--open 500]
                              [--starts] [--bare-pdfs carflow|templates] [--json FILE] [--keep]
    python -m bench.lifecycle --compare A.json B.json

One stack of real processes on free ports (bench/stack.py: dev server, worker, API, SMTP
sink), plus the bare baseline's worker and API (bench/bare/) on the same dev server and the
same sink. For each concurrency, rounds alternate between Carflow and bare (the order
swaps every round, so neither always runs on a warmer or busier machine). A lifecycle is
what a remote sale is: the dealer creates and sends a proposal (`POST /api/v1/proposals`
with `send: true`), the buyer's mail arrives at the sink and gives the link, the buyer
opens it (`GET /api/v1/buyer/{token}`, a view), accepts with an IBAN and signs; it ends
when the buyer's three mails (proposal, signed contract with its PDFs, welcome) are in.

Measured and printed as a table (`--json` writes the same figures, `--compare` puts two
runs side by side):

* lifecycles/s per target and concurrency, and the Carflow/bare ratio;
* p50/p99 of each step as the client sees it (`mail` is create-to-mail, `signed_mails`
  sign-to-last-mail);
* CPU-seconds per lifecycle of each process (its whole process tree, from /proc) over the
  rounds: worker, API, dev server, and the SMTP sink;
* history events and billable actions per signed proposal, from the workflows' histories
  (rule in `billable_actions`);
* `--open N`: Carflow's worker is stopped, N draft proposals are created through the API
  (each one a started workflow waiting on its 30-day timer), the worker is started again
  and drains them: workflows started per second by one worker (their first workflow
  task), worker CPU per start, and the worker's RSS idle and with the N proposals open.

Only the HTTP contract, the mails and Temporal histories are used, so the benchmark runs
against any commit whose API keeps DESIGN.md §5.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.stack import Stack

STEPS = ("create", "mail", "view", "accept", "sign", "signed_mails")
BUYER_MAILS = 3  # proposal sent, contract signed (with the PDFs), welcome
IBAN = "FR76 3000 6000 0112 3456 7890 189"
TOKEN = re.compile(r"/p/([A-Za-z0-9_-]+)")
MiB = 1024 * 1024


def proposal_body(email_address: str, send: bool = True) -> dict[str, Any]:
    return {
        "product": {
            "code": "ENT24",
            "label": "Contrat d'entretien 24 mois",
            "kind": "service",
            "price_cents": 49900,
            "duration_months": 24,
        },
        "buyer": {
            "first_name": "Jeanne",
            "last_name": "Dupont",
            "email": email_address,
            "mobile": "06 12 34 56 78",
            "address": {"line1": "12 rue de la Paix", "postal_code": "75002", "city": "Paris"},
        },
        "vehicle": {
            "vin": "vf3lcyhzphs123456",
            "registration": "ab-123-cd",
            "make": "Peugeot",
            "model": "308",
            "first_registration": "2021-03-01",
            "mileage_km": 42000,
        },
        "seller": {
            "name": "Paul Vendeur",
            "email": "paul@garage-nord.example.com",
            "phone": "01 23 45 67 89",
        },
        "send": send,
    }


# The buyer's accept step: bank details and both attestations.
ACCEPT_BODY: dict[str, Any] = {
    "cg_accepted": True,
    "iban": IBAN,
    "account_holder": "Jeanne Dupont",
    "no_claim_since_sent": True,
}


# --- the mails, read from the sink's Maildir ------------------------------------------------------


class MailWatcher:
    """Every mail the sink stored, by recipient, with the buyer's link of the first one."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.seen: set[str] = set()
        self.count: Counter[str] = Counter()
        self.tokens: dict[str, str] = {}

    def scan(self) -> None:
        for sub in ("new", "cur"):
            folder = self.maildir / sub
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                base = path.name.split(":")[0]
                if base in self.seen:
                    continue
                self.seen.add(base)
                try:
                    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                except OSError:
                    self.seen.discard(base)  # moved from new/ to cur/ meanwhile: next scan
                    continue
                to = str(message["To"] or "").strip().lower()
                if to not in self.tokens:
                    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
                    found = TOKEN.search(body.get_content() if body is not None else "")
                    if found:
                        self.tokens[to] = found.group(1)
                # Counted last: this runs in a thread, and a waiter reads the token once counted.
                self.count[to] += 1

    async def run(self) -> None:
        while True:
            await asyncio.to_thread(self.scan)
            await asyncio.sleep(0.1)

    async def wait(self, address: str, count: int, within: float = 120.0) -> None:
        deadline = time.monotonic() + within
        while self.count[address] < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} mails to {address} not received after {within:.0f} s")
            await asyncio.sleep(0.05)


# --- what is driven: Carflow and the bare baseline -----------------------------------------------


@dataclass
class Target:
    name: str
    api_url: str
    headers: dict[str, str]
    processes: tuple[str, ...]  # names in Stack.procs, for CPU and memory
    workflow_id: Callable[[dict[str, Any]], str]


@dataclass
class RoundResult:
    target: str
    concurrency: int
    round: int
    lifecycles: int
    seconds: float
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    steps: dict[str, list[float]] = field(default_factory=dict)
    workflow_ids: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return (self.lifecycles - len(self.errors)) / self.seconds if self.seconds else 0.0


async def _call(
    http: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: Any = None
) -> dict[str, Any]:
    """One step. An answer still pending (202) is asked again; once the pending action has
    gone through, asking again is refused (409) with the state it led to: that is done."""
    pending = False
    for _ in range(60):
        answer = await http.request(method, url, json=body, headers=headers)
        if answer.status_code in (200, 201):
            return dict(answer.json())
        if pending and answer.status_code == 409:
            return dict(answer.json()["error"])
        if answer.status_code != 202:
            raise RuntimeError(f"{method} {url} -> {answer.status_code} {answer.text[:300]}")
        pending = True
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{method} {url} still pending after 60 attempts")


async def lifecycle(
    http: httpx.AsyncClient, target: Target, mails: MailWatcher, address: str, steps: dict[str, list[float]]
) -> str:
    def took(step: str, since: float) -> float:
        now = time.monotonic()
        steps.setdefault(step, []).append(now - since)
        return now

    started = time.monotonic()
    # The key makes asking again after a 202 return the same proposal, not a second one.
    headers = {**target.headers, "Idempotency-Key": address}
    created = await _call(http, "POST", f"{target.api_url}/api/v1/proposals", headers, proposal_body(address))
    mark = took("create", started)
    await mails.wait(address, 1)
    token = mails.tokens[address]
    mark = took("mail", mark)
    buyer = f"{target.api_url}/api/v1/buyer/{token}"
    await _call(http, "GET", buyer, {})
    mark = took("view", mark)
    await _call(http, "POST", f"{buyer}/accept", {}, ACCEPT_BODY)
    mark = took("accept", mark)
    await _call(http, "POST", f"{buyer}/sign", {}, {"full_name": "Jeanne Dupont"})
    mark = took("sign", mark)
    await mails.wait(address, BUYER_MAILS)
    took("signed_mails", mark)
    return target.workflow_id(created)


async def run_round(
    stack: Stack, target: Target, mails: MailWatcher, concurrency: int, number: int, n: int, label: str
) -> RoundResult:
    result = RoundResult(target.name, concurrency, number, n, 0.0)
    gate = asyncio.Semaphore(concurrency)
    done = 0
    before = {name: stack.usage(name)[0] for name in target.processes}
    started = time.monotonic()

    async def one(i: int) -> None:
        nonlocal done
        address = f"{target.name}-c{concurrency}-r{number}-{i}@bench.example.com"
        async with gate:
            try:
                result.workflow_ids.append(await lifecycle(http, target, mails, address, result.steps))
            except Exception as exc:  # noqa: BLE001 - counted and shown, the round goes on
                result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            done += 1
            _progress(f"{label}: {done}/{n} lifecycles, {len(result.errors)} errors")

    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=concurrency + 5)) as http:
        await asyncio.gather(*(one(i) for i in range(n)))
    result.seconds = time.monotonic() - started
    result.cpu = {name: stack.usage(name)[0] - before[name] for name in target.processes}
    _progress(f"{label}: {result.rate:.2f} lifecycles/s, {len(result.errors)} errors\n")
    return result


def _progress(line: str) -> None:
    sys.stderr.write(f"\r{line:<78}")
    sys.stderr.flush()


# --- histories: events and billable actions ------------------------------------------------------

# Temporal Cloud's actions (docs.temporal.io/cloud/actions), as far as a history shows them.
ONE_ACTION = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow_started",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "search_attribute_upserts",
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: "properties_modified",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child_workflows",
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "signals_sent",
    EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "cancels_sent",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continue_as_new",
}


def billable_actions(events: Iterable[Any]) -> Counter[str]:
    """Billable actions in one history, by kind.

    One action each: the workflow start, a signal received, an update accepted, a timer
    started, a search-attribute upsert (and a memo/properties change), a child workflow,
    a signal or cancel sent to another workflow, a continue-as-new. Activities: one per
    attempt (an activity's started event carries its attempt number; a scheduled one not
    yet started counts one). Local activities: one per workflow task that recorded any
    (the SDK batches them as markers of that task). Version markers (`workflow.patched`)
    are free. Queries and rejected updates leave no event, so they are not counted here:
    Carflow's reads go to its read model, not to the workflow.
    """
    counts: Counter[str] = Counter()
    scheduled: set[int] = set()
    local_batch = False
    for event in events:
        kind = event.event_type
        if kind in ONE_ACTION:
            counts[ONE_ACTION[kind]] += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled.add(event.event_id)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            scheduled.discard(event.activity_task_started_event_attributes.scheduled_event_id)
            counts["activity_attempts"] += max(1, event.activity_task_started_event_attributes.attempt)
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            if "local_activity" in event.marker_recorded_event_attributes.marker_name.lower():
                if not local_batch:
                    counts["local_activity_batches"] += 1
                local_batch = True
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            local_batch = False
    counts["activity_attempts"] += len(scheduled)
    return counts


async def history_figures(client: Client, workflow_ids: list[str]) -> dict[str, Any]:
    events, actions = [], []
    by_kind: Counter[str] = Counter()
    event_types: Counter[str] = Counter()
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        counted = billable_actions(history.events)
        events.append(len(history.events))
        actions.append(sum(counted.values()))
        by_kind.update(counted)
        event_types.update(
            EventType.Name(event.event_type).removeprefix("EVENT_TYPE_") for event in history.events
        )
    n = len(workflow_ids) or 1
    return {
        "proposals": len(workflow_ids),
        "events": sum(events) / n,
        "events_max": max(events, default=0),
        "actions": sum(actions) / n,
        "actions_by_kind": {kind: count / n for kind, count in sorted(by_kind.items())},
        "event_types": {kind: count / n for kind, count in event_types.most_common()},
    }


# --- many open proposals: starts per second and the worker's memory -----------------------------


def _tasks_done(metrics_url: str) -> float:
    """Workflow tasks the worker has completed, from its Prometheus endpoint."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=5) as answer:  # noqa: S310 - loopback only
            text = answer.read().decode()
    except OSError:
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith("temporal_workflow_task_execution_latency") and "_count" in line.split("{")[0]:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def open_proposals(stack: Stack, carflow: Target, n: int) -> dict[str, Any]:
    """N drafts created while the worker is stopped, then drained by a fresh worker."""
    stack.kill("worker")
    gate = asyncio.Semaphore(20)
    created, failed = 0, []
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=25)) as http:

        async def one(i: int) -> None:
            nonlocal created
            async with gate:
                body = proposal_body(f"open-{i}@bench.example.com", send=False)
                try:
                    await _call(http, "POST", f"{carflow.api_url}/api/v1/proposals", carflow.headers, body)
                except (RuntimeError, httpx.HTTPError) as exc:  # counted and shown; the rest opens
                    failed.append(str(exc)[:300])
                    return
                created += 1
                if created % 50 == 0 or created == n:
                    _progress(f"open proposals: {created}/{n} drafts created (worker stopped)")

        await asyncio.gather(*(one(i) for i in range(n)))
    create_seconds = time.monotonic() - started
    for error in failed[:3]:
        print(f"\nerror (open proposals): {error}", file=sys.stderr)
    n = created
    stack.start_process("worker")
    stack.wait_ready(["worker"])
    metrics = f"http://127.0.0.1:{stack.ports['metrics']}/metrics"
    cpu_idle, rss_idle = stack.usage("worker")
    # A fresh process: its counter starts at zero (it may have taken a few tasks already).
    tasks_before = 0.0
    drain_started = last_progress = time.monotonic()
    done = 0.0
    while done < n:
        now_done = _tasks_done(metrics) - tasks_before
        if now_done > done:
            done, last_progress = now_done, time.monotonic()
        elif time.monotonic() - last_progress > 30:
            # A task or two the metrics never count should not lose the whole run.
            print(f"\nopen proposals: stalled at {done:.0f}/{n} first tasks", file=sys.stderr)
            break
        _progress(f"open proposals: worker drained {done:.0f}/{n} first workflow tasks")
        await asyncio.sleep(0.2)
    n_drained = int(min(done, n))
    drain = max(last_progress - drain_started, 1e-6)
    cpu, rss = stack.usage("worker")
    await asyncio.sleep(3)  # let the cache settle before reading memory again
    rss_later = stack.usage("worker")[1]
    _progress(
        f"open proposals: {n_drained / drain:.1f} starts/s, worker RSS {max(rss, rss_later) / MiB:.0f} MiB\n"
    )
    return {
        "proposals": n,
        "create_errors": len(failed),
        "drafts_created_per_s": n / create_seconds,
        "drained": n_drained,
        "starts_per_s": n_drained / drain,
        "worker_cpu_ms_per_start": (cpu - cpu_idle) * 1000 / max(n_drained, 1),
        "worker_rss_idle_mib": rss_idle / MiB,
        "worker_rss_open_mib": max(rss, rss_later) / MiB,
    }


# --- the stack with the bare baseline beside it --------------------------------------------------


def start_bare(stack: Stack, pdfs: str = "carflow") -> Target:
    port = stack.ports.setdefault("bare_api", _free_port())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CARFLOW_", "BARE_"))},
        "BARE_PDFS": pdfs,
        "BARE_TEMPORAL_ADDRESS": stack.temporal_address,
        "BARE_SMTP_PORT": str(stack.ports["smtp"]),
        "BARE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }
    commands = {
        "bare_worker": [sys.executable, "-m", "bench.bare.worker"],
        "bare_api": [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare.api:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
    }
    for name, command in commands.items():
        log = (stack.root / f"{name}.log").open("ab")
        stack.procs[name] = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 90
    while not (
        "worker_started" in stack.tail("bare_worker") and _healthy(f"http://127.0.0.1:{port}/healthz")
    ):
        for name, proc in stack.procs.items():
            if name.startswith("bare") and proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {stack.tail(name)}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"bare baseline not ready: {stack.tail('bare_worker')} {stack.tail('bare_api')}"
            )
        time.sleep(0.2)
    return Target(
        "bare",
        f"http://127.0.0.1:{port}",
        {},
        ("bare_worker", "bare_api", "temporal", "mail"),
        lambda c: str(c["id"]),
    )


def _free_port() -> int:
    from bench.stack import free_port

    return free_port()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback only
            return bool(answer.status == 200)
    except OSError:
        return False


# --- figures ------------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(rounds: list[RoundResult]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for concurrency in sorted({r.concurrency for r in rounds}):
        per: dict[str, Any] = {}
        for target in ("carflow", "bare"):
            mine = [r for r in rounds if r.concurrency == concurrency and r.target == target]
            if not mine:
                continue
            ok = sum(r.lifecycles - len(r.errors) for r in mine)
            seconds = sum(r.seconds for r in mine)
            cpu: Counter[str] = Counter()
            for r in mine:
                cpu.update(r.cpu)
            steps = {step: [v for r in mine for v in r.steps.get(step, [])] for step in STEPS}
            cpu_per = {name: total / max(ok, 1) for name, total in cpu.items()}
            per[target] = {
                "lifecycles": ok,
                "errors": sum(len(r.errors) for r in mine),
                "lifecycles_per_s": ok / seconds if seconds else 0.0,
                "cpu_s_per_lifecycle": {**cpu_per, "total": sum(cpu_per.values())},
                "steps_ms": {
                    step: {"p50": _percentile(v, 0.5) * 1000, "p99": _percentile(v, 0.99) * 1000}
                    for step, v in steps.items()
                },
            }
        if "carflow" in per and "bare" in per and per["bare"]["lifecycles_per_s"]:
            per["ratio"] = per["carflow"]["lifecycles_per_s"] / per["bare"]["lifecycles_per_s"]
            bare_cpu = per["bare"]["cpu_s_per_lifecycle"]["total"]
            per["cpu_ratio"] = per["carflow"]["cpu_s_per_lifecycle"]["total"] / bare_cpu if bare_cpu else 0.0
        summary[f"c{concurrency}"] = per
    return summary


PROCESS_LABELS = {
    "worker": "worker",
    "bare_worker": "worker",
    "api": "API",
    "bare_api": "API",
    "temporal": "dev server",
    "mail": "SMTP sink",
}


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(label, carflow, bare, ratio) rows of the table."""

    def f(value: float | None, digits: int = 2) -> str:
        return "—" if value is None else f"{value:.{digits}f}"

    out: list[tuple[str, str, str, str]] = []
    for key, per in figures.get("summary", {}).items():
        c, b = per.get("carflow", {}), per.get("bare", {})
        out.append(
            (
                f"[{key}] lifecycles/s",
                f(c.get("lifecycles_per_s")),
                f(b.get("lifecycles_per_s")),
                f(per.get("ratio")),
            )
        )
        out.append((f"[{key}] errors", str(c.get("errors", "—")), str(b.get("errors", "—")), ""))
        for step in STEPS:
            cs, bs = c.get("steps_ms", {}).get(step, {}), b.get("steps_ms", {}).get(step, {})
            out.append(
                (
                    f"[{key}] {step} p50/p99 ms",
                    f"{f(cs.get('p50'), 0)}/{f(cs.get('p99'), 0)}",
                    f"{f(bs.get('p50'), 0)}/{f(bs.get('p99'), 0)}",
                    "",
                )
            )
        ccpu, bcpu = c.get("cpu_s_per_lifecycle", {}), b.get("cpu_s_per_lifecycle", {})
        for label in ("worker", "API", "dev server", "SMTP sink"):
            cv = sum(v for n, v in ccpu.items() if PROCESS_LABELS.get(n) == label) if ccpu else None
            bv = sum(v for n, v in bcpu.items() if PROCESS_LABELS.get(n) == label) if bcpu else None
            out.append(
                (
                    f"[{key}] CPU-s/lifecycle {label}",
                    f(cv),
                    f(bv),
                    f(cv / bv) if cv is not None and bv else "",
                )
            )
        out.append(
            (
                f"[{key}] CPU-s/lifecycle total",
                f(ccpu.get("total")),
                f(bcpu.get("total")),
                f(per.get("cpu_ratio")),
            )
        )
    history = figures.get("history", {})
    c, b = history.get("carflow", {}), history.get("bare", {})
    if c.get("proposals") or b.get("proposals"):
        out.append(("history events / signed proposal", f(c.get("events"), 1), f(b.get("events"), 1), ""))
        out.append(("billable actions / signed proposal", f(c.get("actions"), 1), f(b.get("actions"), 1), ""))
        for kind in sorted(set(c.get("actions_by_kind", {})) | set(b.get("actions_by_kind", {}))):
            out.append(
                (
                    f"  {kind}",
                    f(c.get("actions_by_kind", {}).get(kind, 0.0), 1),
                    f(b.get("actions_by_kind", {}).get(kind, 0.0), 1),
                    "",
                )
            )
    opened = figures.get("open")
    if opened:
        n = opened["proposals"]
        out.append((f"drafts created/s (API, {n})", f(opened["drafts_created_per_s"], 1), "", ""))
        out.append(("workflow starts/s (one worker)", f(opened["starts_per_s"], 1), "", ""))
        out.append(("worker CPU ms / start", f(opened["worker_cpu_ms_per_start"], 1), "", ""))
        out.append(("worker RSS idle MiB", f(opened["worker_rss_idle_mib"], 0), "", ""))
        out.append((f"worker RSS with {n} open MiB", f(opened["worker_rss_open_mib"], 0), "", ""))
    return out


def print_table(figures: dict[str, Any]) -> None:
    meta = figures.get("meta", {})
    print(
        f"\nCarflow {meta.get('commit', '?')} vs bare Temporal — "
        f"{meta.get('lifecycles')} lifecycles per round, "
        f"{meta.get('rounds')} rounds per target and concurrency; "
        f"bare PDFs: {meta.get('bare_pdfs', 'templates')}"
    )
    print(f"{'':44} {'carflow':>12} {'bare':>12} {'ratio':>7}")
    for label, c, b, ratio in rows(figures):
        print(f"{label:44} {c:>12} {b:>12} {ratio:>7}")


def _flatten(figures: dict[str, Any]) -> dict[str, str]:
    return {label: f"{c} | {b}" if b else c for label, c, b, _ in rows(figures)} | {
        label + " ratio": ratio for label, _, _, ratio in rows(figures) if ratio
    }


def compare(a_path: Path, b_path: Path) -> None:
    a, b = (json.loads(path.read_text()) for path in (a_path, b_path))
    fa, fb = _flatten(a), _flatten(b)
    name_a = f"{a['meta'].get('commit', a_path.name)}"
    name_b = f"{b['meta'].get('commit', b_path.name)}"
    print(f"{'(carflow | bare)':44} {name_a:>24} {name_b:>24}")
    for label in list(dict.fromkeys([*fa, *fb])):
        print(f"{label:44} {fa.get(label, '—'):>24} {fb.get(label, '—'):>24}")


# --- main ---------------------------------------------------------------------------------------------


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


async def bench(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    mails = MailWatcher(stack.root / "var" / "mailbox")
    watcher = asyncio.create_task(mails.run())
    carflow = Target(
        "carflow",
        stack.api_url,
        {"Authorization": f"Bearer {stack.dealer_token}"},
        ("worker", "api", "temporal", "mail"),
        lambda created: f"proposal-{created['id']}",
    )
    bare = start_bare(stack, args.bare_pdfs)
    rounds: list[RoundResult] = []
    if args.lifecycles:
        # A few lifecycles each first, unmeasured: imports, connections and caches warm up.
        await run_round(stack, carflow, mails, 2, 0, 2, "warm-up carflow")
        await run_round(stack, bare, mails, 2, 0, 2, "warm-up bare")
    for concurrency in args.concurrency if args.lifecycles else []:
        for number in range(1, args.rounds + 1):
            order = (carflow, bare) if number % 2 else (bare, carflow)
            for target in order:
                label = f"c={concurrency} round {number}/{args.rounds} {target.name}"
                rounds.append(
                    await run_round(stack, target, mails, concurrency, number, args.lifecycles, label)
                )
    for r in rounds:
        for error in r.errors[:3]:
            print(f"error ({r.target}, c={r.concurrency}): {error}", file=sys.stderr)
    client = await Client.connect(stack.temporal_address)
    history = {
        target: await history_figures(
            client, [w for r in rounds if r.target == target for w in r.workflow_ids]
        )
        for target in ("carflow", "bare")
    }
    figures: dict[str, Any] = {
        "meta": {
            "commit": _commit(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "lifecycles": args.lifecycles,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "bare_pdfs": args.bare_pdfs,
            "cpus": os.cpu_count(),
        },
        "summary": summarise(rounds),
        "history": history,
        "rounds": [
            {
                "target": r.target,
                "concurrency": r.concurrency,
                "round": r.round,
                "lifecycles": r.lifecycles,
                "errors": len(r.errors),
                "seconds": r.seconds,
                "lifecycles_per_s": r.rate,
                "cpu": r.cpu,
            }
            for r in rounds
        ],
    }
    if args.open:
        figures["open"] = await open_proposals(stack, carflow, args.open)
    watcher.cancel()
    return figures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__.split("\n")[0])
    parser.add_argument("--lifecycles", type=int, default=20, help="per round (default 20; 0: only --open)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per target and concurrency (default 2)")
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[10, 20],
        help="comma-separated concurrencies (default 10,20)",
    )
    parser.add_argument("--open", type=int, default=500, help="open proposals for starts/s and RSS (0: skip)")
    parser.add_argument(
        "--starts", action="store_true", help="only the --open phase: starts/s and worker RSS"
    )
    parser.add_argument(
        "--bare-pdfs",
        choices=("carflow", "templates"),
        default="carflow",
        help="how the bare baseline makes its PDFs: with Carflow's renderer (default: the same "
        "activities, so the difference is the engine's), or WeasyPrint from the templates at every "
        "signature (a plain app that never made its PDFs cheap)",
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs, databases)")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("A.json", "B.json"), help="two runs side by side"
    )
    args = parser.parse_args(argv)
    if args.starts:
        args.lifecycles = 0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A SIGTERM (make interrupted, a timeout) still stops every process of the stack.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.compare:
        compare(*args.compare)
        return 0
    root = Path(tempfile.mkdtemp(prefix="carflow-bench-"))
    stack = Stack(root)
    try:
        _progress("starting the stack (dev server, worker, API, SMTP sink) and the bare baseline…")
        stack.start()
        figures = asyncio.run(bench(args, stack))
    finally:
        for name in ("bare_api", "bare_worker"):
            stack.kill(name)
        stack.stop()
        if args.keep:
            print(f"\nstack kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
