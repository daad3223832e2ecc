"""One full apply in a real browser: Assign & fix against the simulator, writes enabled."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.demo_tenant import simulator_settings
from cli.serve import serving_dashboard
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from store import queries
from store.db import open_store
from tests.helpers.browser import BROWSER_MARKS, CHROMIUM, LAUNCH_ARGS, open_page, playwright

pytestmark = BROWSER_MARKS
sync_api = playwright()


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[tuple[Any, str, str, str]]:
    """A simulated tenant whose worst group can be fixed by reprocessing, and a dashboard on it."""
    store = str(tmp_path / "store.sqlite")
    with GraphSimulator(users=250, seed=4) as sim:
        settings = simulator_settings(sim, store)
        run_collection(settings)
        with open_store(store) as s:
            errors = queries.group_errors(s, queries.resolve_snapshot(s))
        worst = errors.groupby("group_id")["user_id"].nunique().sort_values(ascending=False).index[0]
        short = errors[(errors["group_id"] == worst) & (errors["error"] == "CountViolation")]
        for part, members in short.groupby("sku_part_number")["user_id"].nunique().items():
            sim.tenant.buy_seats(str(part), int(members) + 2, process=False)  # the admin bought seats
        run_collection(settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
        env.update(settings.environ())
        env["LICENSE_DESK_ALLOW_WRITES"] = "true"
        with serving_dashboard(env) as url:
            yield sim, store, url, str(worst)


def test_one_full_apply_in_the_browser(writable: tuple[Any, str, str, str]) -> None:
    sim, store, url, fixed_group = writable
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Overview", exact=True).first.wait_for(timeout=60_000)
        open_page(page, "Assign & fix", has_chart=False)
        assert page.locator('[data-testid="stException"]').count() == 0
        apply = page.get_by_role("button", name="Apply")
        assert apply.is_disabled()  # nothing can be sent before confirming
        assert sim.write_requests() == []
        page.get_by_text("Send these", exact=False).first.click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Apply' && !b.disabled)",
            timeout=30_000,
        )
        apply.click()
        page.get_by_text("succeeded", exact=False).first.wait_for(timeout=60_000)
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "0 failed" in page.inner_text("body")
        browser.close()
    writes = sim.write_requests()
    assert writes and all(w.path.endswith("/reprocessLicenseAssignment") for w in writes)
    with open_store(store) as s:
        sid = queries.resolve_snapshot(s)
        log = queries.snapshots(s)
        assert len(log) == 3  # the fresh snapshot taken after applying
        errors = queries.group_errors(s, sid)
    fixed = errors[errors["group_id"] == fixed_group]
    assert fixed[fixed["error"] == "CountViolation"].empty
