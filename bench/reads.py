"""The read side at scale: `make bench-reads` (`python -m bench.reads --help`).

1. A fresh PostgreSQL database of its own (`carflow_bench_reads_<pid>`, dropped at the end
   unless `--keep`), migrated, seeded with `carflow seed` (read model only).
2. The real API process and the Temporal dev server (bench/stack.py, free ports; the ADV
   list asks visibility), and a bare FastAPI + SQLAlchemy app (bench/bare_reads.py).
3. Each endpoint is called once in-process with a statement listener: its heaviest SELECT
   (authentication aside), with its parameters, is what the bare app runs for that endpoint.
4. Alternating rounds (Carflow, bare, Carflow, bare...) at a bounded rate (open loop,
   `--rate` requests per second for `--seconds` per endpoint and round): p50, p99, achieved
   requests per second, errors; a table, and `--json FILE`.

`--open-workflows N` first starts N proposal workflows on the dev server, on a task queue no
worker polls: they stay open (Running, a workflow task pending, as a burst of new proposals
waiting on a worker), so the ADV stuck list's visibility query is asked over N open workflows
(none of them with a reported problem: the query must leave them out without listing them).

Only the public HTTP contract is used: the deep page is followed by `cursor` when the list
offers `next_cursor`, else asked as `page=500`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from bench.stack import Stack, _cpu_and_rss, _http_ok, _tree, carflow_command, free_port

# A load target: its name, client, and the path and headers of an endpoint there.
Target = tuple[str, httpx.AsyncClient, Callable[["Endpoint"], str], Callable[["Endpoint"], dict[str, str]]]


@dataclass
class Endpoint:
    name: str
    path: str  # with its query string
    auth: str | None  # "dealer", "staff" or None


@dataclass
class Figures:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    sent: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of the answering app's process over the measured requests

    def summary(self) -> dict[str, float | int | None]:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

        return {
            "p50_ms": round(statistics.median(ordered), 2) if ordered else None,
            "p99_ms": pct(0.99),
            "req_per_s": round(len(ordered) / self.seconds, 1) if self.seconds else None,
            "requests": self.sent,
            "errors": self.errors,
            "cpu_ms_per_request": round(self.cpu_seconds * 1000 / self.sent, 2) if self.sent else None,
        }


def log(line: str) -> None:
    print(f"[bench-reads {time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


# --- database -----------------------------------------------------------------------------


async def _admin(admin_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def database_url_for(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return f"postgresql+asyncpg://{parts.netloc}/{name}"


def seed(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    """`carflow seed` with its progress on our stderr; its JSON (tokens) back."""
    done = subprocess.run(
        carflow_command(
            "seed",
            "--proposals",
            str(args.proposals),
            "--listings",
            str(args.listings),
            "--dealers",
            str(args.dealers),
        ),
        env=stack.env(),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=3600,
    )
    return json.loads(done.stdout)


async def vacuum_analyze(database_url: str) -> None:
    """Visibility map and statistics fresh after the bulk load, as a live database has them
    (index-only scans need the visibility map; an unvacuumed table reads the heap)."""
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants."""
    return sum(_cpu_and_rss(p)[0] for p in _tree(pid))


# --- endpoints and their SELECT -----------------------------------------------------------


async def endpoints(api: str, tokens: dict[str, str]) -> list[Endpoint]:
    """The endpoints measured, with ids and cursors found through the API itself."""
    dealer = {"Authorization": f"Bearer {tokens['dealer']}"}
    async with httpx.AsyncClient(base_url=api, timeout=60) as http:
        first = (await http.get("/api/v1/proposals", headers=dealer)).raise_for_status().json()
        deep = Endpoint("proposals ?page=500", "/api/v1/proposals?page=500", "dealer")
        if first.get("next_cursor"):
            cursor = first["next_cursor"]
            for _ in range(25):  # a page well into the dealer's proposals
                page = (await http.get("/api/v1/proposals", params={"cursor": cursor}, headers=dealer)).json()
                if not page.get("next_cursor"):
                    break
                cursor = page["next_cursor"]
            deep = Endpoint(
                "proposals cursor (page 27)", "/api/v1/proposals?" + urlencode({"cursor": cursor}), "dealer"
            )
        detail_id = first["items"][0]["id"]
    return [
        Endpoint("proposals page 1", "/api/v1/proposals", "dealer"),
        deep,
        Endpoint("proposals ?state=sent", "/api/v1/proposals?state=sent", "dealer"),
        Endpoint("proposals ?q=dubois", "/api/v1/proposals?q=dubois", "dealer"),
        Endpoint("proposal detail", f"/api/v1/proposals/{detail_id}", "dealer"),
        Endpoint(
            "listings make+max price",
            "/api/v1/listings?" + urlencode({"make": "Citroën", "max_price_cents": 1500000}),
            None,
        ),
        Endpoint("ADV stuck=true", "/api/v1/adv/workflows?stuck=true", "staff"),
        Endpoint("/metrics", "/metrics", None),
    ]


def slug(name: str) -> str:
    """An endpoint's name as the bare app's path segment."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def encode(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return {"t": "uuid", "v": str(value)}
    if isinstance(value, dt.datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return {"t": "list", "v": [encode(v) for v in value]}
    return value


async def capture(
    stack: Stack, measured: list[Endpoint], headers: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Each endpoint's heaviest SELECT (not the token lookup), run in-process thrice."""
    from sqlalchemy import event

    saved = dict(os.environ)
    os.environ.update(stack.env())
    try:
        from api import create_app
        from carflow.settings import load_settings

        app = create_app(load_settings(metrics_refresh_s=0))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    found: dict[str, Any] = {}
    timings: dict[str, list[Any]] = {}
    started: list[float] = []

    def before(_conn, _cursor, statement, parameters, *_a) -> None:  # noqa: ANN001
        started.append(time.perf_counter())

    def after(_conn, _cursor, statement, parameters, *_a) -> None:  # noqa: ANN001
        took = time.perf_counter() - started.pop()
        if "access_tokens" in statement or not statement.lstrip().upper().startswith("SELECT"):
            return
        entry = timings.setdefault(statement, [0.0, parameters])
        entry[0] += took

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
            ) as http,
        ):
            for endpoint in measured:
                timings.clear()
                for _ in range(3):
                    response = await http.get(endpoint.path, headers=headers.get(endpoint.auth or "", {}))
                    if response.status_code != 200:
                        raise RuntimeError(f"{endpoint.name}: {response.status_code} {response.text[:300]}")
                if timings:
                    sql, (_, params) = max(timings.items(), key=lambda item: item[1][0])
                    found[slug(endpoint.name)] = {"sql": sql, "params": [encode(p) for p in (params or ())]}
    finally:
        await app.state.engine.dispose()
    return found


async def open_workflows(address: str, count: int, *, concurrency: int = 64) -> float:
    """`count` proposal workflows started and left open (nobody polls their task queue).

    Returns the starts per second."""
    from temporalio.client import Client

    from workflows.proposal_contract import WORKFLOW_TYPE, ProposalStart

    client = await Client.connect(address)
    numbers = iter(range(count))  # shared by the starters: each takes the next one
    started = time.monotonic()
    done = 0

    async def starter() -> None:
        nonlocal done
        for number in numbers:
            proposal_id = str(uuid.uuid4())
            start = ProposalStart(
                proposal_id=proposal_id,
                dealer_id=str(uuid.uuid4()),
                contract_number=f"B{number:010d}",
                kind="service",
                saved_at=dt.datetime.now(dt.UTC),
                summary="bench: an open proposal nobody works on",
            )
            await client.start_workflow(
                WORKFLOW_TYPE,
                start,
                id=f"proposal-{proposal_id}",
                task_queue="bench-reads-nobody-polls",
                search_attributes=start.search_attributes(),
            )
            done += 1
            if done % max(1, count // 10) == 0:
                log(f"open workflows: {done}/{count} ({done / (time.monotonic() - started):.0f}/s)")

    await asyncio.gather(*(starter() for _ in range(min(concurrency, count))))
    rate = count / (time.monotonic() - started)
    await time_problems_query(client, count)
    return rate


async def time_problems_query(client: Any, open_count: int, times: int = 7) -> None:
    """What one refresh of the ADV list's view of Temporal costs over the open workflows."""
    from api.adv.visibility import ask_problems

    took = []
    for _ in range(times):
        began = time.perf_counter()
        await ask_problems(client)
        took.append((time.perf_counter() - began) * 1000)
    took.sort()
    log(
        f"ADV visibility query over {open_count} open workflows: p50 {took[times // 2]:.1f} ms, "
        f"max {took[-1]:.1f} ms ({times} calls; the API asks it once per refresh, in the background)"
    )


# --- load -----------------------------------------------------------------------------------


async def measure(
    http: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    cpu: Callable[[], float] = lambda: 0.0,
) -> Figures:
    """Open loop: request i leaves at start + i/rate whether or not the earlier ones answered.

    `cpu` reads the answering process's CPU seconds, before and after."""
    figures = Figures()
    cpu_before = cpu()
    count = max(1, int(rate * seconds))
    start = time.perf_counter() + 0.05

    async def one(index: int) -> None:
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        sent = time.perf_counter()
        try:
            response = await http.get(path, headers=headers)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            figures.latencies_ms.append((time.perf_counter() - sent) * 1000)
        else:
            figures.errors += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    figures.cpu_seconds = cpu() - cpu_before
    figures.sent = count
    figures.seconds = time.perf_counter() - start
    return figures


async def run_rounds(
    carflow: str,
    bare: str,
    measured: list[Endpoint],
    headers: dict[str, dict[str, str]],
    args: argparse.Namespace,
    cpu: dict[str, Callable[[], float]] | None = None,
) -> dict[str, dict[str, Figures]]:
    """`cpu`: each target's ("carflow", "bare") process CPU seconds, read around each measure."""
    cpu = cpu or {}
    results: dict[str, dict[str, Figures]] = {
        e.name: {"carflow": Figures(), "bare": Figures()} for e in measured
    }
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with (
        httpx.AsyncClient(base_url=carflow, timeout=30, limits=limits) as to_carflow,
        httpx.AsyncClient(base_url=bare, timeout=30, limits=limits) as to_bare,
    ):
        targets: tuple[Target, ...] = (
            ("carflow", to_carflow, lambda e: e.path, lambda e: headers.get(e.auth or "", {})),
            ("bare", to_bare, lambda e: f"/q/{slug(e.name)}", lambda e: {}),
        )
        for endpoint in measured:  # warm both (connections, caches, prepared statements)
            for _, http, path, hdrs in targets:
                for _ in range(5):
                    await http.get(path(endpoint), headers=hdrs(endpoint))
        for number in range(args.rounds):
            for target, http, path, hdrs in targets:
                for endpoint in measured:
                    got = await measure(
                        http,
                        path(endpoint),
                        hdrs(endpoint),
                        args.rate,
                        args.seconds,
                        cpu.get(target, lambda: 0.0),
                    )
                    total = results[endpoint.name][target]
                    total.latencies_ms += got.latencies_ms
                    total.errors += got.errors
                    total.sent += got.sent
                    total.seconds += got.seconds
                    total.cpu_seconds += got.cpu_seconds
                    summary = got.summary()
                    log(
                        f"round {number + 1}/{args.rounds} {target:7} {endpoint.name:28} "
                        f"p50 {summary['p50_ms']} ms  p99 {summary['p99_ms']} ms  "
                        f"cpu {summary['cpu_ms_per_request']} ms/req  errors {got.errors}"
                    )
    return results


def table(results: dict[str, dict[str, Figures]]) -> tuple[str, list[dict[str, Any]]]:
    rows = []
    lines = [
        f"{'endpoint':28} {'carflow p50':>11} {'p99':>8} {'req/s':>6} {'err':>4} {'cpu ms':>6} | "
        f"{'bare p50':>8} {'p99':>8} {'req/s':>6} {'cpu ms':>6} | {'p50 x':>6} {'p99 x':>6}",
    ]
    for name, pair in results.items():
        c, b = pair["carflow"].summary(), pair["bare"].summary()

        def ratio(key: str, c: dict[str, Any] = c, b: dict[str, Any] = b) -> float | None:
            return round(c[key] / b[key], 2) if c[key] and b[key] else None

        row = {
            "endpoint": name,
            "carflow": c,
            "bare": b,
            "p50_ratio": ratio("p50_ms"),
            "p99_ratio": ratio("p99_ms"),
        }
        rows.append(row)
        lines.append(
            f"{name:28} {c['p50_ms']!s:>11} {c['p99_ms']!s:>8} {c['req_per_s']!s:>6} {c['errors']!s:>4} "
            f"{c['cpu_ms_per_request']!s:>6} | "
            f"{b['p50_ms']!s:>8} {b['p99_ms']!s:>8} {b['req_per_s']!s:>6} {b['cpu_ms_per_request']!s:>6} | "
            f"{row['p50_ratio']!s:>6} {row['p99_ratio']!s:>6}"
        )
    return "\n".join(lines), rows


@contextlib.contextmanager
def bare_app(stack: Stack, statements_file: Path) -> Iterator[tuple[str, int]]:
    """The bare app's URL and pid."""
    port = free_port()
    env = {**stack.env(), "BENCH_BARE_STATEMENTS": str(statements_file)}
    logfile = (stack.root / "bare.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_reads:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _http_ok(f"{url}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bare app did not start: {(stack.root / 'bare.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        logfile.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.reads", description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--dealers", type=int, default=10, help="the first holds 20%% of the proposals")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (open loop)")
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint, target and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating Carflow/bare rounds")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--open-workflows", type=int, default=0, help="proposal workflows left open on the dev server"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--json", type=Path, help="write the figures there")
    args = parser.parse_args(argv)

    name = f"carflow_bench_reads_{os.getpid()}"
    asyncio.run(_admin(args.admin_url, f'CREATE DATABASE "{name}"'))
    log(f"database {name}")
    root = Path(tempfile.mkdtemp(prefix="carflow-bench-reads-"))
    stack = Stack(root, database_url=database_url_for(args.admin_url, name))
    try:
        stack.run_cli("migrate")
        log(f"seeding {args.proposals} proposals and {args.listings} listings")
        seeded = seed(stack, args)
        log(f"seeded in {seeded['seconds']} s")
        asyncio.run(vacuum_analyze(stack.database_url or ""))
        log("VACUUM ANALYZE done")
        tokens = {"dealer": seeded["dealers"][0]["token"], "staff": seeded["staff_token"]}
        headers = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
        stack.dealer_token = tokens["dealer"]
        stack.start(["temporal", "api"])
        log(f"API at {stack.api_url}")
        if args.open_workflows:
            rate = asyncio.run(open_workflows(stack.temporal_address, args.open_workflows))
            log(f"{args.open_workflows} workflows open on the dev server ({rate:.0f} starts/s)")
        measured = asyncio.run(endpoints(stack.api_url, tokens))
        statements = asyncio.run(capture(stack, measured, headers))
        statements_file = root / "bare_statements.json"
        statements_file.write_text(json.dumps(statements, indent=2))
        with bare_app(stack, statements_file) as (bare, bare_pid):
            log(f"bare app at {bare}; {args.rounds} rounds at {args.rate} req/s, {args.seconds} s each")
            cpu = {"carflow": lambda: stack.usage("api")[0], "bare": lambda: process_cpu_seconds(bare_pid)}
            load_before = os.getloadavg()
            results = asyncio.run(run_rounds(stack.api_url, bare, measured, headers, args, cpu))
            load_after = os.getloadavg()
        text, rows = table(results)
        print(
            f"\nPostgreSQL, {args.proposals} proposals (one dealer 20 %), {args.listings} listings "
            f"(30 % public); {args.rate} req/s open loop, {args.rounds} x {args.seconds} s "
            "per endpoint and target; cpu ms: the app process's CPU per request sent"
        )
        print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}\n")
        print(text)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "settings": {
                            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                        },
                        "endpoints": rows,
                        "bare_statements": statements,
                        "seed_seconds": seeded["seconds"],
                        "load_average": {"before": load_before, "after": load_after},
                    },
                    indent=2,
                    default=str,
                )
            )
            log(f"figures written to {args.json}")
    finally:
        stack.stop()
        if not args.keep:
            asyncio.run(_admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


__all__ = ["Endpoint", "Figures", "asdict", "main"]

if __name__ == "__main__":
    sys.exit(main())
