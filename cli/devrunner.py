"""`carflow dev` (`make run`): migrate, load demo data, run the Procfile with honcho.

honcho starts each process in its own process group and, on Ctrl-C or when any process
dies, terminates every group, then kills what is left after a grace period: nothing stays
behind. A watcher prints where to click once /healthz answers 200.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from honcho.environ import parse_procfile
from honcho.manager import Manager

from carflow.settings import Settings

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"
READY_TIMEOUT_S = 90.0


def _ports(settings: Settings) -> dict[str, tuple[str, int]]:
    t_host, _, t_port = settings.temporal_address.rpartition(":")
    ui = urlsplit(settings.temporal_ui_url)
    return {
        "CARFLOW_TEMPORAL_ADDRESS (Temporal)": (t_host, int(t_port)),
        "CARFLOW_TEMPORAL_UI_URL (Temporal UI)": (ui.hostname or t_host, ui.port or 8233),
        "CARFLOW_API_PORT (API)": (settings.api_host, settings.api_port),
        "CARFLOW_SMTP_PORT (mail sink)": (settings.smtp_host, settings.smtp_port),
    }


def busy_ports(settings: Settings) -> list[str]:
    busy = []
    for name, (host, port) in _ports(settings).items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((host, port)) == 0:
                busy.append(f"{host}:{port} ({name})")
    return busy


def _prepare(settings: Settings) -> dict | None:
    from cli.demo import load_demo, read_credentials
    from db.migrate import upgrade
    from db.session import create_engine, create_session_factory

    async def run() -> dict | None:
        await upgrade(settings)
        engine = create_engine(settings)
        try:
            async with create_session_factory(engine)() as session:
                created = await load_demo(session, settings)
        finally:
            await engine.dispose()
        return created

    created = asyncio.run(run())
    if created is not None:
        print("carflow: demo data loaded (first start)", flush=True)
    return created or read_credentials(settings)


def banner(settings: Settings, credentials: dict | None) -> str:
    ui = settings.temporal_ui_url
    lines = [
        "",
        "=" * 72,
        "Carflow is running. Where to click:",
    ]
    login = ((credentials or {}).get("dealer") or {}).get("login")
    if login:
        lines += [
            f"  Dealer app           {settings.public_url}/vendeur  (start here)",
            f"    demo login         {login['email']} / {login['password']}",
        ]
    lines += [
        f"  API docs (OpenAPI)   {settings.public_url}/docs",
        f"  Health               {settings.public_url}/healthz",
        f"  Dev mailbox          {settings.public_url}/dev/mailbox",
        f"  Temporal UI (ADV)    {ui}",
    ]
    if credentials:
        dealer = credentials["dealer"]
        lines += [
            "",
            f'Demo dealer "{dealer.get("name", "demo")}" token:',
            f"  {dealer['token']}",
            "Try it:",
            f"  curl -H 'Authorization: Bearer {dealer['token']}' {settings.public_url}/api/v1/me",
            f"Other demo tokens (staff, inspector): {settings.var_dir / 'demo-credentials.json'}",
        ]
    lines += ["Stop everything with Ctrl-C.", "=" * 72, ""]
    return "\n".join(lines)


def _watch_ready(settings: Settings, credentials: dict | None, stop: threading.Event) -> None:
    url = f"http://{settings.api_host}:{settings.api_port}/healthz"
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer yet"
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    print(banner(settings, credentials), flush=True)
                    return
        except urllib.error.HTTPError as exc:
            last = exc.read().decode("utf-8", "replace")
        except OSError as exc:
            last = str(exc)
        stop.wait(1.0)
    if not stop.is_set():
        print(f"carflow: not healthy after {READY_TIMEOUT_S:.0f} s: {last}", file=sys.stderr, flush=True)


def child_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    # Children find `carflow`, `python` and `temporal` from the same virtualenv as this one.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("CARFLOW_LOG_FORMAT", "console")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_dev_stack(settings: Settings) -> int:
    if not settings.dev:
        print("carflow: `carflow dev` runs the embedded dev stack; set CARFLOW_PROFILE=dev", file=sys.stderr)
        return 2
    busy = busy_ports(settings)
    if busy:
        print(
            "carflow: these ports are already in use: "
            + ", ".join(busy)
            + ". Is another `make run` still running? Stop it, or change the setting named.",
            file=sys.stderr,
        )
        return 1
    credentials = _prepare(settings)
    manager = Manager()
    env = child_environment(settings)
    for entry in parse_procfile(PROCFILE.read_text()).processes.items():
        name, command = entry
        manager.add_process(name, command, env=env, cwd=str(PROCFILE.parent))
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_ready, args=(settings, credentials, stop), daemon=True)
    watcher.start()
    try:
        manager.loop()
    finally:
        stop.set()
    return manager.returncode or 0
