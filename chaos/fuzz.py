"""`python -m chaos.fuzz`: schemathesis over the whole OpenAPI, as every kind of caller.

It starts a stack of real processes (bench/stack.py: Temporal dev server, worker, API, SMTP
sink) on PostgreSQL (`--database-url`) or SQLite, and makes real credentials for every kind
of caller: the dealer's API token, an ADV staff token, an inspector token, an owner session
(cookie + X-CSRF-Token, from the credentials mail of a real inspection) and buyers (the link
of a real proposal mail). `anonymous` sends what schemathesis generates, auth included.

For each operation of the OpenAPI and each caller it draws `--per-operation` cases with
Hypothesis (fixed seed, so a run can be repeated): positive and negative schemathesis cases,
half of them with the caller's real ids in the path (its proposal, listing, buyer token), and
about one string or number in three replaced by a hostile value (NUL and other control
characters, lone surrogates, bidi and zero-width characters, LIKE wildcards, 100 kB texts,
integers beyond 64 bits). The pages, which the OpenAPI leaves out, get as many GETs per
caller (owner, buyer, anonymous): real or hostile path values, hostile query values under the
names pages read. The cases are sent:

1. one after the other (`sequential`), Temporal up;
2. all again, `--concurrency` at a time (`concurrent`), Temporal up;
3. with `--outage`: the same cases with the Temporal dev server killed (`outage`).

A server error is any 5xx, or no answer at all, except an honest 503: from `/healthz` or
`/readyz` (whose job is to say so), or, only while Temporal is down, the API's JSON error
(`{"error": {"code": ...}}`) or a French page. It prints the cases sent per caller and pass, the
statuses, and each distinct server error (method, route, status, body, the request as curl)
then exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import mailbox
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from schemathesis.generation.modes import GenerationMode

from bench.lifecycle import proposal_body
from bench.stack import Stack

LINK = re.compile(r"/p/([A-Za-z0-9_-]{20,})")
PASSWORD = re.compile(r"Mot de passe : (\S+)")
CALLERS = ("dealer", "staff", "inspector", "owner", "buyer", "anonymous")

# Hostile strings: what a form, a proxy or a script may send in any text field.
HOSTILE_TEXTS = [
    "\x00",
    "a\x00b",
    "%00",
    "\x1b[31m",
    "\x7f",
    "line\r\nX-Injected: 1",
    "\t",
    "\u2028\u2029",
    "\u202egnp.exe",
    "\u200b\ufeff",
    "\ud800",
    "\udfff lone",
    "%",
    "_",
    "\\",
    "%_%\\",
    "' OR 1=1 --",
    '"; DROP TABLE proposals; --',
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "🚗" * 50,
    "é" * 300,
    "ß\u0301\u0308\u0327",
    "0",
    "-1",
    "1e309",
    "NaN",
    "null",
    "true",
    "",
    " ",
]
HOSTILE_NUMBERS = [2**63, -(2**63) - 1, 2**31, -(2**31) - 1, 10**30, -1, 0, 1e308, -1e308]


def hostile_text(surrogates: bool = True) -> st.SearchStrategy[str]:
    """Hostile strings; lone surrogates only where the wire can carry them (JSON's \\ud800)."""
    texts = st.one_of(
        st.sampled_from(HOSTILE_TEXTS),
        st.text(st.characters(codec="utf-8", min_codepoint=0, max_codepoint=0x3000), max_size=40),
        st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Cs"]), min_size=1, max_size=8),
        st.integers(1_000, 100_000).map(lambda n: "x" * n),
        st.tuples(st.sampled_from(["Jeanne", "a@b.fr", "FR76"]), st.sampled_from(HOSTILE_TEXTS)).map("".join),
    )
    return texts if surrogates else texts.filter(_encodable)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _mutate(value: Any, draw: Callable[[st.SearchStrategy[Any]], Any], surrogates: bool = True) -> Any:
    """The value with about one leaf in three (string or number) replaced by a hostile one."""
    if isinstance(value, dict):
        return {key: _mutate(item, draw, surrogates) for key, item in value.items()}
    if isinstance(value, list):
        return [_mutate(item, draw, surrogates) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str | int | float) and draw(st.integers(0, 2)) == 0:
        if isinstance(value, str):
            return draw(hostile_text(surrogates))
        return draw(st.sampled_from(HOSTILE_NUMBERS))
    return value


# --- the callers --------------------------------------------------------------------------------


@dataclass
class Caller:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    # Real ids this caller may use in paths (schemathesis generates the others).
    ids: dict[str, list[str]] = field(default_factory=dict)


class SourceAddress(HTTPAdapter):
    """Connections from this local address (any 127.x.y.z reaches the API on loopback)."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.host, 0)
        super().init_poolmanager(*args, **kwargs)


class Callers:
    """Every kind of caller, with real credentials on `stack`."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.base = stack.api_url
        self.http = requests.Session()
        self.lock = threading.Lock()
        self.owner_email = ""
        self.owner_password = ""
        self.failed_logins = 0
        self.logins = 0
        self.by_name: dict[str, Caller] = {}

    def make(self) -> dict[str, Caller]:
        dealer = {"Authorization": f"Bearer {self.stack.dealer_token}"}
        staff = json.loads(self.stack.run_cli("staff", "create", "Agnès ADV"))["token"]
        inspector = json.loads(self.stack.run_cli("inspector", "create", "Jean Expert"))["token"]
        proposal_ids, buyer_tokens = [], []
        for number in range(3):
            address = f"fuzz-buyer-{number}-{uuid.uuid4().hex[:6]}@example.com"
            created = self.http.post(
                f"{self.base}/api/v1/proposals", json=proposal_body(address), headers=dealer, timeout=60
            )
            created.raise_for_status()
            proposal_ids.append(created.json()["id"])
            buyer_tokens.append(self._wait_mail(address, LINK))
        self.owner_email = f"fuzz-owner-{uuid.uuid4().hex[:6]}@example.com"
        inspected = self.http.post(
            f"{self.base}/api/v1/inspections",
            json=intake_body(self.owner_email),
            headers={"Authorization": f"Bearer {inspector}"},
            timeout=60,
        )
        inspected.raise_for_status()
        listing_id = str(inspected.json().get("listing_id") or inspected.json()["listing"]["id"])
        self.owner_password = self._wait_mail(self.owner_email, PASSWORD)
        self.by_name = {
            "dealer": Caller("dealer", dealer, ids={"proposal_id": proposal_ids}),
            "staff": Caller(
                "staff",
                {"Authorization": f"Bearer {staff}"},
                ids={"proposal_id": proposal_ids, "listing_id": [listing_id]},
            ),
            "inspector": Caller("inspector", {"Authorization": f"Bearer {inspector}"}),
            "owner": Caller("owner", ids={"listing_id": [listing_id]}),
            "buyer": Caller("buyer", ids={"token": buyer_tokens}),
            "anonymous": Caller("anonymous", ids={"listing_id": [listing_id]}),
        }
        self.login_owner()
        return self.by_name

    def login_owner(self) -> None:
        """(Re)open the owner's session: after the fuzz's own logout, or a password change."""
        with self.lock:
            # From a loopback address of its own each time: the fuzz's login cases from
            # 127.0.0.1 spend that address's login budget (30 in 15 min) within seconds.
            self.logins += 1
            session = requests.Session()
            session.mount("http://", SourceAddress(f"127.0.{self.logins // 250}.{2 + self.logins % 250}"))
            answer = session.post(
                f"{self.base}/api/v1/owner/login",
                json={"email": self.owner_email, "password": self.owner_password},
                timeout=30,
            )
            if answer.status_code != 200:
                # Locked by the fuzz's own wrong passwords: the owner's cases get 401s meanwhile.
                self.failed_logins += 1
                if self.failed_logins == 1:
                    print(f"fuzz: owner login answered {answer.status_code} {answer.text[:200]}")
                return
            owner = self.by_name["owner"]
            owner.cookies = {cookie.name: cookie.value or "" for cookie in session.cookies}
            owner.headers = {"X-CSRF-Token": answer.json()["csrf_token"]}

    def _wait_mail(self, address: str, pattern: re.Pattern[str], timeout: float = 120.0) -> str:
        directory = Path(self.stack.env()["CARFLOW_VAR_DIR"]) / "mailbox"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if directory.exists():
                box = mailbox.Maildir(directory, create=False)
                for key in box.iterkeys():
                    message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
                    if address not in str(message["To"]):
                        continue
                    part = message.get_body(preferencelist=("plain",))
                    found = pattern.search(part.get_content() if part is not None else "")
                    if found:
                        return found.group(1)
            time.sleep(0.3)
        raise TimeoutError(f"no mail matching {pattern.pattern} for {address}")


def intake_body(owner_email: str) -> dict[str, Any]:
    return {
        "owner": {"email": owner_email, "first_name": "Marie", "last_name": "Curie"},
        "vehicle": {
            "make": "Peugeot",
            "model": "308",
            "version": "1.2 PureTech 130 Allure",
            "registration": "ab-123-cd",
            "vin": "VF3LCYHZPHS123456",
            "first_registration": "2019-03-01",
            "mileage_km": 84250,
            "fuel": "Essence",
            "gearbox": "Manuelle",
            "color": "Gris",
        },
        "report": {
            "inspected_at": "2026-11-20T10:30:00+01:00",
            "place": "Lyon",
            "summary": "Véhicule sain.",
            "checkpoints": [{"section": "Mécanique", "label": "Embrayage", "grade": "good"}],
            "photos": [],
        },
        "listing": {"price_cents": 1_290_000, "negotiable": True, "location": "Lyon 3e"},
    }


# --- the cases ----------------------------------------------------------------------------------


@dataclass
class Request:
    caller: str
    operation: str  # "POST /api/v1/proposals"
    kwargs: dict[str, Any]

    def curl(self) -> str:
        body = self.kwargs.get("json", self.kwargs.get("data"))
        text = json.dumps(body, ensure_ascii=True)[:300] if body is not None else ""
        params = self.kwargs.get("params") or {}
        return f"{self.kwargs['method']} {self.kwargs['url']} params={params!r} body={text}"[:600]


def generate(
    schema: Any, base_url: str, callers: dict[str, Caller], per_operation: int, seed: int
) -> list[Request]:
    """`per_operation` cases for each (operation, caller), drawn with a fixed seed."""
    found: list[Request] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        names = {p.name for p in operation.path_parameters}
        for caller in callers.values():
            fixed = {name: st.sampled_from(caller.ids[name]) for name in names if name in caller.ids}
            strategies = [
                operation.as_strategy(GenerationMode.POSITIVE),
                operation.as_strategy(GenerationMode.NEGATIVE),
            ]
            if fixed:
                strategies += [st.fixed_dictionaries(fixed).flatmap(_positive_with(operation))] * 2
            found += fuzz_cases(strategies, per_operation, seed, base_url, caller.name, label)
    return found


def _positive_with(operation: Any) -> Callable[[dict[str, str]], st.SearchStrategy[Any]]:
    """Positive cases of `operation` with these real path parameters (the caller's own ids)."""

    def strategy(ids: dict[str, str]) -> st.SearchStrategy[Any]:
        return operation.as_strategy(GenerationMode.POSITIVE, path_parameters=ids)

    return strategy


def fuzz_cases(
    strategies: list[Any], count: int, seed: int, base_url: str, caller: str, label: str
) -> list[Request]:
    """`count` cases drawn from `strategies` (same seed, same cases), one in two made hostile."""
    collected: list[Request] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @fixed_seed(seed)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        case = data.draw(st.one_of(strategies))
        hostile = data.draw(st.booleans())
        if hostile and case.path_parameters and data.draw(st.integers(0, 3)) == 0:
            case.path_parameters = _mutate(case.path_parameters, data.draw, surrogates=False)
        kwargs = case.as_transport_kwargs(base_url=base_url)
        if hostile:
            # After serializing: schemathesis would re-validate (and choke on) a lone surrogate.
            if kwargs.get("params"):
                kwargs["params"] = _mutate(kwargs["params"], data.draw, surrogates=False)
            if isinstance(kwargs.get("json"), dict | list):
                kwargs["json"] = _mutate(kwargs["json"], data.draw)
        headers = dict(kwargs.get("headers") or {})
        headers.pop("X-Schemathesis-TestCaseId", None)
        if caller != "anonymous":
            headers.pop("Authorization", None)  # the caller's own credentials replace it
        kwargs["headers"] = headers
        collected.append(Request(caller, label, kwargs))

    draw()
    return collected


# --- the pages (not in the OpenAPI) -------------------------------------------------------------

# The query parameters pages read (their forms' and links' names), besides their routes' own.
PAGE_QUERY_NAMES = ["marque", "modele", "prix_max", "ville", "tri", "page", "curseur", "cursor"]
PAGE_QUERY_NAMES += ["suite", "ok", "message", "tous", "relance", "q", "etat"]
PAGE_CALLERS = ("owner", "buyer", "anonymous")
PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def page_routes(environment: dict[str, str]) -> list[tuple[str, tuple[str, ...]]]:
    """(path template, query names) of every GET page: the app's routes outside /api and the docs."""
    os.environ.update(environment)  # the stack's settings, to build the app and read its routes
    from api import create_app

    found: set[tuple[str, tuple[str, ...]]] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            inner = getattr(route, "routes", None) or getattr(
                getattr(route, "original_router", None), "routes", None
            )
            if inner:
                walk(inner)
                continue
            path = getattr(route, "path", "")
            if "GET" not in (getattr(route, "methods", None) or ()) or path.startswith(SKIPPED_PAGES):
                continue
            dependant = getattr(route, "dependant", None)
            found.add((path, tuple(q.name for q in dependant.query_params) if dependant else ()))

    walk(create_app().routes)
    return sorted(found)


SKIPPED_PAGES = ("/api/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json", "/dev/")


def page_cases(
    routes: list[tuple[str, tuple[str, ...]]],
    base_url: str,
    callers: dict[str, Caller],
    count: int,
    seed: int,
) -> list[Request]:
    """`count` GETs per page and caller: real or hostile path values, hostile query values."""
    found: list[Request] = []
    for path, own_names in routes:
        names = sorted(set(PAGE_QUERY_NAMES) | set(own_names))
        for caller in callers.values():
            if caller.name not in PAGE_CALLERS:
                continue
            found += _page_draws(path, names, caller, base_url, count, seed)
    return found


def _page_draws(
    path: str, names: list[str], caller: Caller, base_url: str, count: int, seed: int
) -> list[Request]:
    collected: list[Request] = []
    real = [value for values in caller.ids.values() for value in values]

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @fixed_seed(seed)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        url = path
        for parameter in PATH_PARAMETER.findall(path):
            choices = [hostile_text(surrogates=False)] + ([st.sampled_from(real)] if real else [])
            value = data.draw(st.one_of(choices))
            url = url.replace(f"{{{parameter}}}", quote(value, safe=""), 1)
        params = data.draw(
            st.dictionaries(st.sampled_from(names), hostile_text(surrogates=False), max_size=3)
        )
        kwargs = {"method": "GET", "url": base_url + url, "params": params, "headers": {}}
        collected.append(Request(caller.name, f"GET {path}", kwargs))

    draw()
    return collected


# --- sending ------------------------------------------------------------------------------------


@dataclass
class Figures:
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    cases: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[tuple[str, str, str], tuple[int, str, str, int]] = field(default_factory=dict)
    error_count: Counter[str] = field(default_factory=Counter)
    by_caller: dict[tuple[str, str], Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, run: str, request: Request, status: int, body: str, honest_503: bool) -> None:
        with self.lock:
            self.statuses[run][status] += 1
            self.by_caller[(run, request.caller)][status] += 1
            self.cases[run][request.caller] += 1
            if status < 500 or (status == 503 and honest_503):
                return
            self.error_count[run] += 1
            key = (run, request.operation, str(status))
            seen = self.errors.get(key)
            self.errors[key] = (status, body[:300], request.curl(), (seen[3] if seen else 0) + 1)


# Their job is to answer 503 when a dependency is down (their body is a status report).
HEALTH = {"GET /healthz", "GET /readyz"}


def honest(status: int, body: str, content_type: str, operation: str, temporal_down: bool) -> bool:
    """A 503 that tells the truth: a health check, or the API's error while Temporal is down."""
    if status != 503:
        return False
    if operation in HEALTH:
        return True
    if not temporal_down:
        return False
    if content_type.startswith("text/html"):
        return True
    try:
        return bool(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return False


def send(
    requests_: list[Request],
    callers: Callers,
    figures: Figures,
    run: str,
    concurrency: int,
    temporal_down: bool,
    timeout: float,
) -> None:
    local = threading.local()

    def one(request: Request) -> None:
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = requests.Session()
        caller = callers.by_name[request.caller]
        kwargs = dict(request.kwargs)
        kwargs["headers"] = {**kwargs["headers"], **caller.headers}
        kwargs["cookies"] = {**(kwargs.get("cookies") or {}), **caller.cookies}
        try:
            answer = http.request(**kwargs, timeout=timeout, allow_redirects=False)
        except requests.RequestException as failed:
            figures.record(run, request, 599, f"no answer: {type(failed).__name__}: {failed}", False)
            return
        content_type = answer.headers.get("content-type", "")
        text = answer.text
        ok = honest(answer.status_code, text, content_type, request.operation, temporal_down)
        figures.record(run, request, answer.status_code, text, ok)
        if request.caller == "owner" and request.operation == "POST /api/v1/owner/logout":
            callers.login_owner()  # the session it just ended

    if concurrency <= 1:
        for request in requests_:
            one(request)
        return
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, requests_))


def report(figures: Figures, runs: list[tuple[str, float]]) -> int:
    total_errors = 0
    for run, took in runs:
        cases = figures.cases[run]
        print(
            f"fuzz {run}: {sum(cases.values())} cases in {took:.0f} s, server errors "
            f"{figures.error_count[run]}; per caller {dict(sorted(cases.items()))}; "
            f"statuses {dict(sorted(figures.statuses[run].items()))}"
        )
        for caller in sorted(cases):
            print(f"  {caller}: {dict(sorted(figures.by_caller[(run, caller)].items()))}")
        total_errors += figures.error_count[run]
    for (run, operation, _status), (status, body, curl, count) in sorted(figures.errors.items()):
        print(f"  [{run}] {operation} -> {status} ×{count}: {body!r}\n      e.g. {curl}")
    return total_errors


@contextmanager
def own_schema(database_url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL schema for the run (others may share the database), dropped after."""
    if not database_url or not database_url.startswith("postgresql"):
        yield None
        return
    schema = f"fuzz_{uuid.uuid4().hex[:12]}"

    async def execute(statement: str) -> None:
        connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(execute(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        asyncio.run(execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def main(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="carflow-fuzz-"))
    figures = Figures()
    runs: list[tuple[str, float]] = []
    started = time.monotonic()
    with (
        own_schema(args.database_url) as schema_name,
        Stack(root, database_url=args.database_url, database_schema=schema_name) as stack,
    ):
        callers = Callers(stack)
        made = callers.make()
        spec = requests.get(f"{stack.api_url}/openapi.json", timeout=30).json()
        chosen = {name: made[name] for name in CALLERS if name in args.callers}
        cases = generate(
            schemathesis.openapi.from_dict(spec), stack.api_url, chosen, args.per_operation, args.seed
        )
        pages = page_routes(stack.env())
        cases += page_cases(pages, stack.api_url, chosen, args.per_operation, args.seed)
        print(f"fuzz: {len(cases)} cases generated in {time.monotonic() - started:.0f} s (seed {args.seed})")
        passes = [("sequential", 1, False)]
        if args.concurrency > 1:
            passes.append(("concurrent", args.concurrency, False))
        if args.outage:
            passes.append(("outage", args.concurrency, True))
        for run, concurrency, down in passes:
            if down:
                stack.kill("temporal")
            began = time.monotonic()
            send(cases, callers, figures, run, concurrency, down, args.timeout)
            runs.append((run, time.monotonic() - began))
            print(f"fuzz: {run} pass done in {runs[-1][1]:.0f} s", flush=True)
    errors = report(figures, runs)
    print(f"fuzz: {'FAILED' if errors else 'ok'}, {time.monotonic() - started:.0f} s in all (logs in {root})")
    return 1 if errors else 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--per-operation", type=int, default=22, help="cases per operation and caller")
    parser.add_argument("--callers", nargs="+", default=list(CALLERS), choices=CALLERS)
    parser.add_argument("--concurrency", type=int, default=8, help="parallel requests (1: none)")
    parser.add_argument("--outage", action="store_true", help="a last pass with Temporal killed")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each answer")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(parse(sys.argv[1:])))
