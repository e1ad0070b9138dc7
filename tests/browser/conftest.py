"""The whole suite as processes on PostgreSQL + NATS, a catalogue published through management,
and Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from scripts.stack import ROOT, Stack
from tests.browser.catalogue import EXTRA_ITEMS, admin_headers
from tests.e2e.support import running_stack

CHROMIUM = Path(os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "var" / "test-results" / "screenshots"
#: Each flag keeps the browser from reaching anything but the portal under test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        # A missing browser is a broken machine, not a reason to pass quietly.
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium. Run "
            "`bash scripts/ensure_chromium.sh` (make test does) or `apt-get install -y chromium`.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def stack(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Four services with the demo catalogue, plus two items of other bodies and levels.

    Asks for the browser first, so that a machine without one fails before starting anything.
    """
    # The searches below count hits of a known catalogue (the three 住建局 demo items and
    # EXTRA_ITEMS), not the full demo catalogue of ADR 0018; later stacks load it all again.
    os.environ["MANAGEMENT_DEMO_CATALOGUE"] = "minimal"
    try:
        with running_stack("postgres", tmp_path_factory.mktemp("browser-stack")) as running:
            os.environ.pop("MANAGEMENT_DEMO_CATALOGUE", None)
            headers = admin_headers(running.var_dir)
            for code, body in EXTRA_ITEMS.items():
                r = httpx.put(f"{running.url('management')}/api/v1/items/{code}", json=body, headers=headers)
                assert r.status_code == 200, r.text
            wanted = set(EXTRA_ITEMS)
            deadline = time.monotonic() + 30
            while True:
                r = httpx.get(f"{running.url('gateway')}/api/v1/items", params={"limit": 100})
                codes = {i["item_code"] for i in r.json()["items"]}
                if wanted <= codes and len(codes) >= 5:
                    break
                assert time.monotonic() < deadline, f"portal catalogue never got the items: {sorted(codes)}"
                time.sleep(0.2)
            yield running
    finally:
        os.environ.pop("MANAGEMENT_DEMO_CATALOGUE", None)


@pytest.fixture(scope="session")
def portal(stack: Stack) -> str:
    return stack.url("gateway")


@pytest.fixture(scope="session")
async def browser(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        # Playwright gives every launch a fresh temporary user-data-dir of its own.
        launched = await pw.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
