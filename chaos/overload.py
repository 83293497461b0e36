"""`python -m chaos.overload [--rate R] [--multiples 2,5,10] [--seconds S]`: creates beyond the rate.

Creates with `send: true` are fired open-loop (one every 1/(k·R) s, whatever the answers) for
S seconds at each multiple k of the sustainable rate R. Every 201/202 must be true (its
buyer's proposal mail arrives), every refusal must be immediate (`503 overloaded` well under
a second) and honest (its buyer never gets a mail), and no answer may be another 5xx.
Prints, per multiple: sent, 201/202, 503 by code, refusal latencies p50/p99, mails that
arrived for accepted creates, false answers. Exits non-zero on any false answer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from email.utils import getaddresses
from pathlib import Path

import httpx

from bench.lifecycle import proposal_body
from bench.stack import Stack
from chaos.__main__ import Figures, Run


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_rate(run: Run, rate: float, seconds: float, drain_s: float) -> bool:
    answers: list[tuple[str, int, str, float]] = []

    async def create(number: int) -> None:
        buyer = f"over-{rate:g}-{number}-{uuid.uuid4().hex[:6]}@example.com"
        started = time.monotonic()
        try:
            response = await run.http.post(
                "/api/v1/proposals",
                json=proposal_body(buyer),
                headers={**run.dealer, "Idempotency-Key": f"over-{buyer}"},
            )
            code = response.json().get("error", {}).get("code", "") if response.status_code >= 400 else ""
            answers.append((buyer, response.status_code, code, time.monotonic() - started))
        except httpx.TransportError as err:
            answers.append((buyer, 0, type(err).__name__, time.monotonic() - started))

    tasks = []
    began = time.monotonic()
    for number in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, began + number / rate - time.monotonic()))
        tasks.append(asyncio.create_task(create(number)))
    await asyncio.gather(*tasks)
    accepted = [a for a in answers if a[1] in (201, 202)]
    refused = [a for a in answers if a[1] == 503]

    # Wait for the accepted creates' mails (the worker drains its backlog).
    # The mailbox is read once per look (reading it per buyer is quadratic).
    def mailed() -> set[str]:
        return {address for m in run.mails_to("@") for _, address in getaddresses([str(m["To"])])}

    deadline = time.monotonic() + drain_s
    while time.monotonic() < deadline:
        arrived = mailed()
        missing = [a for a in accepted if a[0] not in arrived]
        if not missing:
            break
        await asyncio.sleep(2.0)
    arrived = mailed()
    missing = [a for a in accepted if a[0] not in arrived]
    refused_but_sent = [a for a in refused if a[0] in arrived]
    other_5xx = [a for a in answers if a[1] >= 500 and a[1] != 503]
    no_answer = [a for a in answers if a[1] == 0]
    slow_refusals = [a for a in refused if a[2] == "overloaded" and a[3] > 1.0]
    latencies = [a[3] for a in refused if a[2] == "overloaded"]
    statuses = Counter(f"{a[1]}{':' + a[2] if a[2] else ''}" for a in answers)
    false = len(missing) + len(refused_but_sent) + len(other_5xx) + len(no_answer) + len(slow_refusals)
    print(
        f"overload {rate:g}/s for {seconds:g} s: sent {len(answers)} -> 201/202 {len(accepted)}, "
        f"503 {len(refused)} ({dict(statuses)}); refusals p50 {_pct(latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {_pct(latencies, 0.99) * 1000:.0f} ms; accepted p50 "
        f"{(statistics.median([a[3] for a in accepted]) if accepted else 0):.2f} s; mails arrived "
        f"{len(accepted) - len(missing)}/{len(accepted)}; refused yet mailed {len(refused_but_sent)}; "
        f"5xx (not 503) {len(other_5xx)}; no answer {len(no_answer)}; false answers {false}",
        flush=True,
    )
    return false == 0


async def main(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="carflow-overload-"))
    ok = True
    with Stack(root, database_url=args.database_url) as stack:
        async with httpx.AsyncClient(
            base_url=stack.api_url, timeout=120, limits=httpx.Limits(max_connections=1000)
        ) as http:
            run = Run(stack, http, Figures(), 120.0)
            for multiple in args.multiples:
                ok = await one_rate(run, args.rate * multiple, args.seconds, args.drain) and ok
    print(f"overload: {'ok' if ok else 'FAILED'} (logs in {root})")
    return 0 if ok else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos.overload", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2.0, help="the sustainable create rate, per second")
    parser.add_argument(
        "--multiples", type=lambda v: [float(x) for x in v.split(",")], default=[2.0, 5.0, 10.0]
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--drain", type=float, default=300.0, help="seconds to wait for accepted mails")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
