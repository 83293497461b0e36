"""Browser tests: Playwright for Python driving Debian's Chromium against the live app.

* `live` (module scope): the stack of tests/stack.py (database from the template, a
  time-skipping Temporal server, the SMTP sink, the real worker, the app) served over HTTP by
  uvicorn on a free port, with `public_url` pointing at it so the links in mails work.
* `browser` (module scope): one headless Chromium (/usr/bin/chromium, from Debian; Playwright
  cannot download its own browsers here) with the flags this sandbox needs.
* `screen` (per test, parametrised): a page in a fresh browser context (no cookies), in
  French, at the phone (390×844) and at the desktop (1366×900) viewport; `phone` and
  `desktop` give one of them.
* On failure, the page's screenshot and HTML go to `test-artifacts/browser/` (CI keeps it;
  `CARFLOW_TEST_ARTIFACTS` moves it).
* tests/browser_kit.py: `assert_accessible(page)` (axe-core, the npm package installed by
  `make install-test`: fails on any serious or critical violation), `in_first_screen`.

Browser test modules share one event loop per module (the stack and the browser live in
it): start each with `pytestmark = pytest.mark.asyncio(loop_scope="module")`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from browser_kit import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, VIEWPORTS, Live, serving
from database_template import DatabaseTemplate
from playwright.async_api import Browser, Page, async_playwright
from stack import shared_stack

from support import free_port


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(
    tmp_path_factory: pytest.TempPathFactory, database_template: DatabaseTemplate
) -> AsyncIterator[Live]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    directory = tmp_path_factory.mktemp("live")
    async with (
        shared_stack(directory, database_template, public_url=url) as stack,
        serving(stack.app, port),
    ):
        yield Live(url, stack)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    # Kept on the test item so the page fixture knows, at teardown, whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


async def _page(browser: Browser, viewport: str, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(
        viewport=VIEWPORTS[viewport],
        locale="fr-FR",
        timezone_id="Europe/Paris",
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            await _keep_evidence(page, request.node.nodeid)
        await context.close()


async def _keep_evidence(page: Page, nodeid: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-150:]
    try:
        await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        (ARTIFACTS / f"{name}.html").write_text(await page.content(), encoding="utf-8")
    except Exception as exc:  # noqa: BLE001 - evidence is best effort; the failure is reported anyway
        (ARTIFACTS / f"{name}.txt").write_text(f"no screenshot: {exc}", encoding="utf-8")


@pytest_asyncio.fixture(loop_scope="module", params=list(VIEWPORTS))
async def screen(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A fresh page at each viewport in turn (the test runs once per viewport)."""
    async for page in _page(browser, request.param, request):
        yield page


@pytest_asyncio.fixture(loop_scope="module")
async def phone(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    async for page in _page(browser, "phone", request):
        yield page


@pytest_asyncio.fixture(loop_scope="module")
async def desktop(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    async for page in _page(browser, "desktop", request):
        yield page
