from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run .ci/install-browser first", pytrace=False)
    pytest.skip(f"{reason} (run .ci/install-browser as root to install it)")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} not found")
    return CHROMIUM


# Module scope: Playwright's sync API keeps an event loop of its own while it is open,
# which must not outlive these tests (later tests run asyncio in this thread).
@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (never Playwright's own downloads)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored
    path.mkdir(exist_ok=True)
    return path
