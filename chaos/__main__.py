"""`python -m chaos [--lifecycles N] [--kills K] [--concurrency C]`: worker kill -9 during lifecycles.

Each lifecycle: the dealer creates and sends a proposal (its own buyer address), the buyer
opens the mailed link, accepts (IBAN, attestations) and signs. Meanwhile the worker is killed
with SIGKILL K times, and restarted a few seconds later. A `202` (pending) is followed by
polling; a `503` is retried with the same request (same Idempotency-Key: the same update).
In the end every proposal must be `signed`, every buyer must have exactly one proposal mail
and one signed-contract mail, and no answer may be a 500.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import mailbox
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.lifecycle import ACCEPT_BODY, proposal_body
from bench.stack import Stack

LINK = re.compile(r"/p/([A-Za-z0-9_-]{20,})")


@dataclass
class Figures:
    statuses: Counter[int] = field(default_factory=Counter)
    signed: int = 0
    stuck: list[str] = field(default_factory=list)
    false_answers: list[str] = field(default_factory=list)
    retries: int = 0


class Run:
    def __init__(self, stack: Stack, http: httpx.AsyncClient, figures: Figures, deadline_s: float) -> None:
        self.stack = stack
        self.http = http
        self.figures = figures
        self.deadline_s = deadline_s
        self.dealer = {"Authorization": f"Bearer {stack.dealer_token}"}

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, retried (same request, same key) while the answer is 503 or no answer."""
        started = time.monotonic()
        while True:
            try:
                response = await self.http.request(method, url, **kwargs)
            except httpx.TransportError:
                response = None
            if response is not None:
                self.figures.statuses[response.status_code] += 1
                if response.status_code != 503:
                    return response
            if time.monotonic() - started > self.deadline_s:
                raise TimeoutError(f"{method} {url}: no answer but 503 for {self.deadline_s:.0f} s")
            self.figures.retries += 1
            await asyncio.sleep(1.0)

    async def until(self, what: str, check: Any) -> Any:
        started = time.monotonic()
        while time.monotonic() - started < self.deadline_s:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.5)
        raise TimeoutError(what)

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        directory = Path(self.stack.env()["CARFLOW_VAR_DIR"]) / "mailbox"
        if not directory.exists():
            return []
        box = mailbox.Maildir(directory, create=False)
        found = []
        for key in box.iterkeys():
            message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            if address in str(message["To"]):
                found.append(message)
        return found

    async def lifecycle(self, number: int) -> None:
        buyer = f"chaos-{number}-{uuid.uuid4().hex[:6]}@example.com"
        body = proposal_body(buyer)
        key = {"Idempotency-Key": f"chaos-create-{number}-{buyer}"}
        created = await self.call("POST", "/api/v1/proposals", json=body, headers={**self.dealer, **key})
        if created.status_code not in (201, 202):
            self.figures.stuck.append(f"{buyer}: create answered {created.status_code} {created.text[:200]}")
            return
        proposal_id = created.json()["id"]

        async def link() -> str | None:
            for message in self.mails_to(buyer):
                body_part = message.get_body(preferencelist=("plain",))
                match = LINK.search(body_part.get_content() if body_part else "")
                if match:
                    return match.group(1)
            return None

        try:
            token = await self.until(f"{buyer}: proposal mail", link)
            await self.until(f"{buyer}: viewed", lambda: self._state(token, {"viewed"}))
            accepted = await self.call("POST", f"/api/v1/buyer/{token}/accept", json=ACCEPT_BODY)
            if accepted.status_code not in (200, 202):
                self.figures.false_answers.append(
                    f"{buyer}: accept {accepted.status_code} {accepted.text[:200]}"
                )
            await self.until(f"{buyer}: signing", lambda: self._state(token, {"signing", "signed"}))
            # The worker prepares the contract to sign; the buyer's page waits for it.
            await self.until(f"{buyer}: contract to sign", lambda: self._contract_ready(token))
            signed = await self.call(
                "POST", f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"}
            )
            if signed.status_code not in (200, 202):
                self.figures.false_answers.append(f"{buyer}: sign {signed.status_code} {signed.text[:200]}")
            await self.until(f"{buyer}: signed", lambda: self._dealer_state(proposal_id, "signed"))
            await self.until(f"{buyer}: contract mail", lambda: self._mails(buyer, 3))
        except TimeoutError as stuck:
            self.figures.stuck.append(str(stuck))
            return
        self.figures.signed += 1

    async def _state(self, token: str, states: set[str]) -> bool:
        opened = await self.call("GET", f"/api/v1/buyer/{token}")
        return opened.status_code == 200 and opened.json()["state"] in states

    async def _contract_ready(self, token: str) -> bool:
        return (await self.call("GET", f"/api/v1/buyer/{token}/contract.pdf")).status_code == 200

    async def _dealer_state(self, proposal_id: str, state: str) -> bool:
        detail = await self.call("GET", f"/api/v1/proposals/{proposal_id}", headers=self.dealer)
        return detail.status_code == 200 and detail.json()["state"] == state

    async def _mails(self, buyer: str, count: int) -> bool:
        return len(self.mails_to(buyer)) >= count


def mail_figures(run: Run, buyers: list[str]) -> tuple[int, int]:
    """(lost, duplicated) buyer mails: each buyer gets one proposal, one contract, one welcome.
    The mailbox is read once (per buyer it was quadratic: minutes after 100 lifecycles)."""
    mails: dict[str, list[email.message.EmailMessage]] = {}
    for message in run.mails_to("@"):
        mails.setdefault(str(message["To"]), []).append(message)
    lost = duplicated = 0
    for buyer in buyers:
        received = [m for to, found in mails.items() if buyer in to for m in found]
        subjects = Counter(str(m["Subject"]) for m in received)
        ids = Counter(str(m["Message-ID"]) for m in received)
        duplicated += sum(n - 1 for n in ids.values() if n > 1) + sum(
            n - 1 for n in subjects.values() if n > 1
        )
        lost += max(0, 3 - len(subjects))
    return lost, duplicated


async def main(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="carflow-chaos-"))
    figures = Figures()
    with Stack(root, database_url=args.database_url) as stack:
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
            run = Run(stack, http, figures, args.deadline)
            semaphore = asyncio.Semaphore(args.concurrency)

            async def one(number: int) -> None:
                async with semaphore:
                    await run.lifecycle(number)

            async def killer() -> None:
                # Worker kills first, then the Temporal dev server (restarted on its database
                # file), then the SMTP sink down for a while: each meets requests in flight.
                outages = ["worker"] * args.kills + ["temporal"] * args.temporal_kills
                outages += ["mail"] * (1 if args.smtp_down else 0)
                for name in outages:
                    await asyncio.sleep(args.kill_every)
                    print(f"chaos: kill -9 {name} at {time.strftime('%H:%M:%S')}", flush=True)
                    stack.kill(name)
                    await asyncio.sleep(args.smtp_down if name == "mail" else args.down_for)
                    await asyncio.to_thread(stack.restart, name)
                    if name == "temporal":  # the worker and API reconnect by themselves
                        print(f"chaos: temporal back at {time.strftime('%H:%M:%S')}", flush=True)

            started = time.monotonic()
            await asyncio.gather(killer(), *(one(n) for n in range(args.lifecycles)))
            elapsed = time.monotonic() - started
            buyers = sorted(
                {str(m["To"]) for m in run.mails_to("chaos-") if str(m["To"]).startswith("chaos-")}
            )
            lost, duplicated = mail_figures(run, buyers)
    server_errors = sum(n for status, n in figures.statuses.items() if status >= 500 and status != 503)
    print(
        f"chaos: {args.lifecycles} lifecycles, {args.kills} worker kills, {args.temporal_kills} Temporal "
        f"kills, SMTP down {args.smtp_down:.0f} s, {elapsed:.0f} s: "
        f"signed {figures.signed}, stuck {len(figures.stuck)}, emails lost {lost}, duplicated {duplicated}, "
        f"HTTP 5xx (not 503) {server_errors}, 503 retried {figures.retries}, false answers "
        f"{len(figures.false_answers)}; statuses {dict(sorted(figures.statuses.items()))}"
    )
    for line in figures.stuck + figures.false_answers:
        print(f"  {line}")
    failed = figures.stuck or figures.false_answers or lost or duplicated or server_errors
    print(f"chaos: {'FAILED' if failed else 'ok'} (logs in {root})")
    return 1 if failed else 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=20)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--temporal-kills", type=int, default=0, help="kill -9 the Temporal dev server")
    parser.add_argument(
        "--smtp-down", type=float, default=0.0, help="seconds the SMTP sink is down (0: never)"
    )
    parser.add_argument("--kill-every", type=float, default=8.0, help="seconds between kills")
    parser.add_argument("--down-for", type=float, default=3.0, help="seconds the worker stays dead")
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds a lifecycle step may take")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
