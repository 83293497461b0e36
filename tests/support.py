"""Helpers shared by tests (importable as `support`; pytest puts tests/ on the path)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import email.utils
import mailbox
import os
import random
import shutil
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client

from carflow.settings import Settings
from cli.mailsink import start_sink
from workflows.search_attributes import CLI_TYPES

T = TypeVar("T")

# The PostgreSQL the suite runs on, or None for SQLite. Unset and empty are the same: SQLite.
PG_URL: str | None = os.environ.get("CARFLOW_TEST_DATABASE_URL") or None


CHEAP_PASSWORD_HASHING = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 8,
    "password_hash_parallelism": 1,
}


def free_port() -> int:
    """A free port below the kernel's ephemeral range. It is bound later than it is chosen
    (the SMTP sink, after the Temporal test server started): in that range an outgoing
    connection's local port could take it meanwhile (seen once: `address already in use`)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randrange(20000, max(low, 20001))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test: nothing read from the developer's environment or .env."""
    values: dict[str, object] = {
        "var_dir": tmp_path / "var",
        "log_format": "console",
        "smtp_port": free_port(),
        "temporal_address": f"127.0.0.1:{free_port()}",
        # Argon2 at its cheapest: production's parameters cost ~1 s per login on a CI core;
        # tests/activities/test_password_hashing.py checks those defaults once.
        **CHEAP_PASSWORD_HASHING,
        # The workflows under the sandbox's run-time checks (production passes them through
        # for cheaper starts; tests/test_worker.py runs that way too).
        "worker_reuse_workflow_modules": False,
    }
    values.update(overrides)
    saved = {k: v for k, v in os.environ.items() if k.startswith("CARFLOW_")}
    for key in saved:
        del os.environ[key]
    try:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]
    finally:
        os.environ.update(saved)


async def eventually(
    get: Callable[[], Awaitable[T]],
    until: Callable[[T], object] = bool,
    *,
    timeout_s: float = 20.0,
    interval_s: float = 0.05,
) -> T:
    """Poll `get()` until `until(value)` holds and return that value; fail after `timeout_s`.

    For what the worker does after an answer (a mail, a read-model projection): wait for the
    thing itself, never a fixed sleep.
    """
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await get()
        if until(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached within {timeout_s} s; last value: {value!r}")
        await asyncio.sleep(interval_s)


def test_server_path() -> str:
    beside = Path(sys.executable).parent / "temporal-test-server"
    return str(beside) if beside.exists() else (shutil.which("temporal-test-server") or "")


async def register_search_attributes(client: Client) -> None:
    types = {
        "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    }
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={name: types[kind] for name, kind in CLI_TYPES.items()},
        )
    )


class Sink:
    """The dev SMTP sink (aiosmtpd + Maildir) on the settings' port; can be stopped and restarted."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.var_dir / "sink"
        self.controller = None

    def start(self) -> None:
        self.controller = start_sink(self.dir, self.settings.smtp_host, self.settings.smtp_port)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @contextmanager
    def running(self) -> Iterator[Sink]:
        """Started for the block (a test may stop and restart it inside), stopped after."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def messages(self) -> list[email.message.EmailMessage]:
        if not self.dir.exists():
            return []
        box = mailbox.Maildir(self.dir, create=False)
        parsed = [
            email.message_from_bytes(box.get_bytes(k), policy=email.policy.default) for k in box.iterkeys()
        ]
        return sorted(parsed, key=lambda m: email.utils.parsedate_to_datetime(m["Date"]))

    def recipients(self) -> list[str]:
        return [str(m["To"]) for m in self.messages()]

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages()]
