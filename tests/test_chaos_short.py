"""The fault suite in short (`make chaos` in full): real processes, a worker kill -9 during
lifecycles, then concurrent duplicate actions. Nothing lost, duplicated, stuck or false."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest

from bench.stack import Stack
from chaos.__main__ import Figures, Run, main, parse
from chaos.duplicates import duplicates

pytestmark = pytest.mark.chaos


async def test_lifecycles_survive_a_worker_kill() -> None:
    assert (
        await main(parse(["--lifecycles", "3", "--kills", "1", "--kill-every", "4", "--concurrency", "3"]))
        == 0
    )


async def test_concurrent_duplicates_attach_to_one_action() -> None:
    root = Path(tempfile.mkdtemp(prefix="carflow-chaos-dup-"))
    with Stack(root) as stack:
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
            figures = Figures()
            problems = await duplicates(Run(stack, http, figures, 90.0), copies=6)
    assert problems == []
    assert not any(status >= 500 and status != 503 for status in figures.statuses)
