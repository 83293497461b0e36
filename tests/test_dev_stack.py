"""`make run` end to end: `carflow dev` starts the embedded stack, serves, stops cleanly, and a
second start reuses the data. Runs on free ports so it never meets a developer's own stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from support import free_port

CARFLOW = str(Path(sys.executable).parent / "carflow")
READY_WITHIN_S = 90


class DevStack:
    def __init__(self, tmp_path: Path) -> None:
        self.var = tmp_path / "var"
        self.ports = {name: free_port() for name in ("temporal", "ui", "api", "smtp", "metrics")}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CARFLOW_")}
        self.env.update(
            CARFLOW_VAR_DIR=str(self.var),
            CARFLOW_TEMPORAL_ADDRESS=f"127.0.0.1:{self.ports['temporal']}",
            CARFLOW_TEMPORAL_UI_URL=f"http://127.0.0.1:{self.ports['ui']}",
            CARFLOW_API_PORT=str(self.ports["api"]),
            CARFLOW_PUBLIC_URL=f"http://127.0.0.1:{self.ports['api']}",
            CARFLOW_SMTP_PORT=str(self.ports["smtp"]),
            CARFLOW_WORKER_METRICS_PORT=str(self.ports["metrics"]),
        )
        self.log = tmp_path / "stack.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [CARFLOW, "dev"], env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT
        )

    def get(self, path: str, port: str = "api") -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.ports[port]}{path}"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def wait_healthy(self) -> float:
        started = time.monotonic()
        while time.monotonic() - started < READY_WITHIN_S:
            assert self.process is not None and self.process.poll() is None, self.log.read_text()
            try:
                if self.get("/healthz")[0] == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"not healthy within {READY_WITHIN_S} s:\n{self.log.read_text()}")

    def wait_for_log(self, text: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text():
                return
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not in log:\n{self.log.read_text()}")

    def interrupt(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C delivers
        return self.process.wait(timeout=30)

    def leftovers(self) -> list[str]:
        """Processes still running with this stack's var dir in their command line or env."""
        found = []
        marker = str(self.var).encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if marker in (proc / "cmdline").read_bytes() or marker in (proc / "environ").read_bytes():
                    status = (proc / "status").read_text()
                    if "State:\tZ" not in status:
                        found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
        return found

    def kill_all(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()


@pytest.fixture
def stack(tmp_path: Path):  # noqa: ANN201
    s = DevStack(tmp_path)
    yield s
    s.kill_all()


async def test_make_run_stack_serves_stops_cleanly_and_keeps_data(stack: DevStack) -> None:
    stack.start()
    elapsed = stack.wait_healthy()
    assert elapsed < READY_WITHIN_S

    # The banner says where to click and gives a working demo dealer token.
    stack.wait_for_log("Carflow is running. Where to click:")
    credentials = json.loads((stack.var / "demo-credentials.json").read_text())
    token = credentials["dealer"]["token"]
    assert token in stack.log.read_text()
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.ports['api']}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=3) as response:
        assert json.loads(response.read())["role"] == "dealer"

    assert stack.get("/", port="ui")[0] == 200  # Temporal UI
    # The worker's Prometheus endpoint is on its free port too, not on the default 9464.
    stack.wait_for_log(f"http://127.0.0.1:{stack.ports['metrics']}/metrics")
    assert stack.get("/metrics", port="metrics")[0] == 200
    status, page = stack.get("/dev/mailbox")
    assert status == 200 and "Boîte de réception de développement" in page

    client = await Client.connect(stack.env["CARFLOW_TEMPORAL_ADDRESS"])
    listed = await client.operator_service.list_search_attributes(
        __import__("temporalio.api.operatorservice.v1", fromlist=["x"]).ListSearchAttributesRequest(
            namespace="default"
        )
    )
    assert {"ProposalState", "ListingState", "DealerId", "ContractNumber", "EmailFailed"} <= set(
        listed.custom_attributes
    )
    # A workflow left open (no worker polls this queue) must survive the restart.
    await client.start_workflow("PersistenceProbe", id="persistence-probe", task_queue="nobody-polls")

    assert stack.interrupt() in (0, 130, -2)
    time.sleep(0.5)
    assert stack.leftovers() == []

    stack.start()
    stack.wait_healthy()
    assert stack.log.read_text().count("demo data loaded (first start)") == 1
    client = await Client.connect(stack.env["CARFLOW_TEMPORAL_ADDRESS"])
    described = await client.get_workflow_handle("persistence-probe").describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    await client.get_workflow_handle("persistence-probe").terminate("test done")
    assert stack.interrupt() in (0, 130, -2)
    time.sleep(0.5)
    assert stack.leftovers() == []


def test_refuses_to_start_when_a_port_is_taken(stack: DevStack) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", stack.ports["api"]))
        taken.listen()
        result = subprocess.run([CARFLOW, "dev"], env=stack.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"127.0.0.1:{stack.ports['api']} (CARFLOW_API_PORT (API))" in result.stderr
    assert "Traceback" not in result.stderr
