"""CPU and SQL statements per request, in process, on a database `make bench-reads` kept.

    make bench-reads BENCH_ARGS=--keep          # prints the database's name
    .venv/bin/python -m bench.request_cpu carflow_bench_reads_<pid> [-n 40] [--only a,b]
    .venv/bin/python -m bench.request_cpu carflow_bench_reads_<pid> --profile listings

Each endpoint of bench/reads.py (and a 404, `/me`) is called `-n` times over ASGI, with a
Temporal dev server for the ADV list. It prints the process CPU per request (the test client
included, so compare runs with each other, not with bench-reads' figures) and the statements
per request. `--profile SLUG` writes a CPU-time cProfile of that endpoint to
`request_cpu_SLUG.prof` and prints its heaviest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import event, func, select

from bench.stack import Stack


async def run(args: argparse.Namespace) -> None:
    from api import create_app
    from carflow.logs import configure_logging
    from carflow.settings import load_settings
    from db.accounts import create_staff, issue_token
    from db.models import Proposal, Role

    settings = load_settings(metrics_refresh_s=15)
    configure_logging(settings, service="api")
    app = create_app(settings)
    async with app.state.session_factory() as session:
        biggest = (
            select(Proposal.dealer_id).group_by(Proposal.dealer_id).order_by(func.count().desc()).limit(1)
        )
        dealer = await issue_token(session, Role.DEALER, await session.scalar(biggest))
        staff = (await create_staff(session, "request_cpu")).token
        await session.commit()
    headers: dict[str | None, dict[str, str]] = {
        "dealer": {"Authorization": f"Bearer {dealer}"},
        "staff": {"Authorization": f"Bearer {staff}"},
        None: {},
    }
    count = [0]

    def record(*_args: Any) -> None:
        count[0] += 1

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://b", timeout=120) as http,
    ):
        first = (await http.get("/api/v1/proposals", headers=headers["dealer"])).json()
        endpoints = [
            ("proposals-page-1", "/api/v1/proposals", "dealer"),
            ("cursor", "/api/v1/proposals?" + urlencode({"cursor": first["next_cursor"]}), "dealer"),
            ("state-sent", "/api/v1/proposals?state=sent", "dealer"),
            ("q-dubois", "/api/v1/proposals?q=dubois", "dealer"),
            ("detail", f"/api/v1/proposals/{first['items'][0]['id']}", "dealer"),
            (
                "listings",
                "/api/v1/listings?" + urlencode({"make": "Citroën", "max_price_cents": 1500000}),
                None,
            ),
            ("adv-stuck", "/api/v1/adv/workflows?stuck=true", "staff"),
            ("metrics", "/metrics", None),
            ("404", "/no/such", None),
            ("me", "/api/v1/me", "dealer"),
        ]
        for slug, path, role in endpoints:
            if args.only and slug not in args.only.split(","):
                continue
            for _ in range(5):  # warm: pool, statement caches, prepared statements
                response = await http.get(path, headers=headers[role])
            if response.status_code not in (200, 404):
                raise RuntimeError(f"{slug}: {response.status_code} {response.text[:300]}")
            count[0] = 0
            profile = cProfile.Profile(time.process_time) if args.profile == slug else None
            started = time.process_time()
            if profile:
                profile.enable()
            for _ in range(args.n):
                await http.get(path, headers=headers[role])
            if profile:
                profile.disable()
            cpu = (time.process_time() - started) / args.n * 1000
            print(f"{slug:18} cpu {cpu:7.2f} ms  statements {count[0] / args.n:.1f}", flush=True)
            if profile:
                profile.dump_stats(f"request_cpu_{slug}.prof")
                pstats.Stats(profile).sort_stats("tottime").print_stats(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.request_cpu", description=__doc__.splitlines()[0])
    parser.add_argument("database", help="a database bench-reads seeded and kept (--keep)")
    parser.add_argument("-n", type=int, default=40, help="requests per endpoint")
    parser.add_argument("--only", help="comma-separated endpoint slugs")
    parser.add_argument("--profile", help="the slug of an endpoint to profile")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    host = args.admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    stack = Stack(
        Path(tempfile.mkdtemp(prefix="carflow-request-cpu-")),
        database_url=f"postgresql+asyncpg://{host}/{args.database}",
    )
    stack.start(["temporal"])
    os.environ.update(stack.env())
    try:
        asyncio.run(run(args))
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
