"""Driving Debian's Chromium with Playwright: where it is, how it starts here, the marks that skip a
test module without it, and the two waits every browser test needs (a page fully drawn, a download
that a loaded machine may drop the first click of)."""

from __future__ import annotations

import os
from typing import Any

import pytest

CHROMIUM = "/usr/lib/chromium/chromium"
# Without the background-networking flags Chromium's own connections are refused by this closed
# network, many at a time; sandboxing needs a user namespace CI does not give root.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed ({CHROMIUM})"
    ),
]


def playwright() -> Any:
    """``playwright.sync_api``, or the calling test module skipped with the reason."""
    return pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )


def open_page(page: Any, title: str, has_chart: bool) -> None:
    """Open the page of navigation ``title`` and wait until it is drawn, plotly marks included."""
    current = page.get_by_role("link", name=title, exact=True)
    # Clicking the page already shown only reruns it, and a rerun replaces elements under the mouse.
    if current.get_attribute("aria-current") != "page":
        current.click()
    # Titles are unique, so the heading proves this page's run started; the script state says it ended.
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60_000)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
    # Widgets are drawn as skeletons first; wait until every one is real.
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60_000)
    if has_chart:
        # plotly draws after the element appears: wait for a drawn mark, not the empty frame.
        page.locator(".js-plotly-plot g.trace path").first.wait_for(state="attached", timeout=60_000)


def click_download(page: Any, button: str, key: str | None = None) -> Any:
    """Click a download button (the first so labelled, or the one of the widget ``key``) and return
    the download; a loaded machine can drop the first click."""
    timeout_error = playwright().TimeoutError
    scope = page.locator(f".st-key-{key}") if key else page
    for attempt in range(3):
        try:
            with page.expect_download(timeout=20_000) as download:
                scope.get_by_role("button", name=button).first.click()
            return download.value
        except timeout_error:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
