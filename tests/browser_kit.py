"""What browser tests use besides their fixtures (tests/browser/conftest.py): the live
server, the accessibility audit (axe-core), and layout checks."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page
from stack import SharedStack

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CARFLOW_TEST_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, and this
# sandbox refuses every such connection.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = REPO / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("CARFLOW_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
VIEWPORTS: dict[str, dict[str, int]] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1366, "height": 900},
}
SERIOUS = ("serious", "critical")
# Playwright waits this long for an element or a navigation before failing the test.
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Live:
    """The stack under test, reachable by a real browser at `url`."""

    url: str
    stack: SharedStack

    @property
    def settings(self) -> Any:
        return self.stack.settings

    @property
    def sink(self) -> Any:
        return self.stack.sink


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """The app on http://127.0.0.1:<port>, served by uvicorn in this event loop."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it (a taken port...)
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


# --- accessibility ---------------------------------------------------------------------------


async def audit(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A/AA)."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: `make install-test` installs axe-core from npm")
    await page.add_script_tag(path=str(AXE_JS))
    result = await page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
            resultTypes: ["violations"],
        })"""
    )
    return [v for v in result["violations"] if v.get("impact") in SERIOUS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}")
    return "\n".join(lines)


async def assert_accessible(page: Page) -> None:
    violations = await audit(page)
    assert not violations, f"{page.url}:\n{describe_violations(violations)}"


async def in_first_screen(page: Page, selector: str) -> bool:
    """Whether the element is visible without scrolling (inside the first viewport)."""
    box = await page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return (
        box is not None and size is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
    )
