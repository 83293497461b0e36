"""The short version of `make fuzz` (chaos/fuzz.py): no 5xx for hostile input on a few routes.

The same generator as the fuzz (schemathesis positive and negative cases, hostile strings:
NUL, lone surrogates, bidi characters, 100 kB texts, 64-bit overflows), with a fixed seed so
the cases are the same every run, sent in process to the app on SQLite or PostgreSQL: the
dealer's list (its `q` search), create and sellers, the public listings search and the owner
login. The whole OpenAPI, every caller and the concurrent and Temporal-down passes are
`make fuzz`'s.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis
from schemathesis.generation.modes import GenerationMode

from chaos.fuzz import Request, fuzz_cases

# (method, path, caller): the routes whose text input reaches a LIKE, a unique index or a
# JSON column; 30 cases each.
OPERATIONS = [
    ("GET", "/api/v1/proposals", "dealer"),
    ("POST", "/api/v1/proposals", "dealer"),
    ("GET", "/api/v1/sellers", "dealer"),
    ("GET", "/api/v1/listings", "anonymous"),
    ("POST", "/api/v1/owner/login", "anonymous"),
]
PER_OPERATION = 30


def httpx_arguments(request: Request, headers: dict[str, str]) -> dict[str, Any]:
    """The requests-style arguments of a generated case, for httpx."""
    kwargs = request.kwargs
    arguments: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "params": kwargs.get("params") or None,
        "headers": {**(kwargs.get("headers") or {}), **headers},
    }
    if "json" in kwargs:
        # As requests does (ensure_ascii): a lone surrogate travels as "\\ud800".
        arguments["content"] = json.dumps(kwargs["json"]).encode()
        arguments["headers"].setdefault("Content-Type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        arguments["content"] = data if isinstance(data, bytes) else str(data).encode()
    return arguments


async def test_no_server_error_for_hostile_input(app, client: httpx.AsyncClient, dealers) -> None:
    schema = schemathesis.openapi.from_dict(app.openapi())
    callers = {"dealer": dealers.a.headers, "anonymous": {}}
    statuses: dict[int, int] = {}
    errors = []
    for method, path, caller in OPERATIONS:
        operation = schema[path][method]
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        for request in fuzz_cases(strategies, PER_OPERATION, 15, "http://testserver", caller, path):
            try:
                answer = await client.request(**httpx_arguments(request, callers[caller]))
            except httpx.InvalidURL:
                continue  # over httpx's 64 kB URL limit: make fuzz sends those (with requests)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            if answer.status_code >= 500:
                errors.append(f"{method} {path} -> {answer.status_code}: {request.curl()}")
    assert not errors, "\n".join(errors)
    assert sum(statuses.values()) >= len(OPERATIONS) * PER_OPERATION * 0.9
    # Both kinds of answer were exercised: the generator is not only sending refusals.
    assert any(200 <= status < 300 for status in statuses), statuses
    assert 422 in statuses, statuses
