"""A whole Carflow stack of real processes on free ports: for `make bench` and `make chaos`.

The same processes as `make run` (Procfile): the Temporal dev server on its own SQLite file,
the worker, the API and the SMTP sink, each started with the `carflow` command line in its
own process group, configured only through `CARFLOW_*` variables. Nothing is shared with a
developer's running stack: every port is free, every file is under the stack's directory.

What the benchmark and the fault suite need from it: start and stop everything, kill -9 or
restart one process (the dev server restarts on its database file, so workflows survive),
the CPU seconds and memory of each process (its whole process tree), and a dealer's API
token to drive lifecycles through the HTTP API.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PROCESSES = ("temporal", "mail", "worker", "api")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def carflow_command(*args: str) -> list[str]:
    """`carflow ...` with this interpreter, so it runs in the same virtualenv."""
    return [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())", *args]


def _tree(pid: int) -> list[int]:
    """The pid and all its descendants (a dev server's Go child, uvicorn's...)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo += [int(child) for child in children]
        except OSError:
            continue
    return found


def _cpu_and_rss(pid: int) -> tuple[float, int]:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0, 0
    # utime, stime are fields 14 and 15 of stat (counted after the command name).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS, rss_pages * _PAGE


@dataclass
class Stack:
    """Processes of one stack; `database_url` defaults to a SQLite file in `root`."""

    root: Path
    database_url: str | None = None
    database_schema: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    dealer_token: str | None = None
    _starts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in ("temporal", "ui", "api", "smtp", "metrics"):
            self.ports.setdefault(name, free_port())

    # --- configuration ------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.ports['temporal']}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARFLOW_")}
        env.update(
            CARFLOW_PROFILE="dev",
            CARFLOW_VAR_DIR=str(self.root / "var"),
            CARFLOW_TEMPORAL_ADDRESS=self.temporal_address,
            CARFLOW_TEMPORAL_UI_URL=f"http://127.0.0.1:{self.ports['ui']}",
            CARFLOW_TEMPORAL_DEV_DB=str(self.root / "temporal.db"),
            CARFLOW_API_PORT=str(self.ports["api"]),
            CARFLOW_PUBLIC_URL=self.api_url,
            CARFLOW_SMTP_PORT=str(self.ports["smtp"]),
            CARFLOW_WORKER_METRICS_PORT=str(self.ports["metrics"]),
            CARFLOW_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        if self.database_url:
            env["CARFLOW_DATABASE_URL"] = self.database_url
        if self.database_schema:
            env["CARFLOW_DATABASE_SCHEMA"] = self.database_schema
        env.update(self.extra_env)
        return env

    def run_cli(self, *args: str) -> str:
        """Run a `carflow` command against this stack's settings; returns its stdout."""
        done = subprocess.run(
            carflow_command(*args), env=self.env(), capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"carflow {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    # --- life -----------------------------------------------------------------------------------

    def start(self, names: Iterable[str] = PROCESSES, timeout: float = 90.0) -> Stack:
        names = list(names)
        if "api" in names and self.dealer_token is None:
            self.run_cli("migrate")
            created = self.run_cli("dealer", "create", "Garage du banc d'essai")
            self.dealer_token = json.loads(created)["token"]
        for name in names:
            self.start_process(name)
        self.wait_ready(names, timeout)
        return self

    def start_process(self, name: str) -> None:
        command = {
            "temporal": carflow_command("devserver"),
            "mail": carflow_command("mailsink"),
            "worker": carflow_command("worker"),
            "api": carflow_command("api"),
        }[name]
        self._starts[name] = self._starts.get(name, 0) + 1
        env = self.env()
        if name == "worker":
            env["CARFLOW_LOG_LEVEL"] = "INFO"  # its `worker_started` line says it polls
        log = (self.root / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, names: Iterable[str], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            while not self.ready(name):
                proc = self.procs.get(name)
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}: {self.tail(name)}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout:.0f} s: {self.tail(name)}")
                time.sleep(0.2)

    def ready(self, name: str) -> bool:
        if name == "temporal":
            return _port_open(self.ports["temporal"])
        if name == "mail":
            return _port_open(self.ports["smtp"])
        if name == "api":
            return _http_ok(f"{self.api_url}/healthz")
        if name == "worker":
            # Started since the last (re)start: the log is appended to, so count the lines.
            return self.tail(name, 1_000_000).count("worker_started") >= self._starts.get(name, 0)
        raise ValueError(name)

    def tail(self, name: str, size: int = 2000) -> str:
        path = self.root / f"{name}.log"
        return path.read_bytes()[-size:].decode(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the process group (kill -9 by default) and reap it."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def restart(self, name: str, sig: int = signal.SIGKILL, timeout: float = 90.0) -> None:
        self.kill(name, sig)
        self.start_process(name)
        self.wait_ready([name], timeout)

    def stop(self) -> None:
        for name in reversed(PROCESSES):
            self.kill(name, signal.SIGTERM)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- measures ---------------------------------------------------------------------------

    def usage(self, name: str) -> tuple[float, int]:
        """(CPU seconds, resident bytes) of the process and its descendants, now."""
        proc = self.procs.get(name)
        if proc is None:
            return 0.0, 0
        cpu, rss = 0.0, 0
        for pid in _tree(proc.pid):
            c, r = _cpu_and_rss(pid)
            cpu, rss = cpu + c, rss + r
        return cpu, rss

    def cpu_seconds(self) -> dict[str, float]:
        return {name: self.usage(name)[0] for name in self.procs}


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback only
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False
