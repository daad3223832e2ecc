"""One full apply in a real browser: Assign & fix against the simulator, writes enabled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graphsim.server import GraphSimulator
from licensedesk.demo import DEMO_PERMISSIONS, simulator_settings
from licensedesk.runner import run_collection
from store import queries
from store.db import open_store
from tests.dashboard.test_browser import CHROMIUM, LAUNCH_ARGS, REPO, _free_port, _open

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed ({CHROMIUM})"
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[tuple[Any, str, str, str]]:
    """A simulated tenant whose worst group can be fixed by reprocessing, and a dashboard on it."""
    store = str(tmp_path / "store.sqlite")
    with GraphSimulator(users=250, seed=4) as sim:
        sim.set_permissions(DEMO_PERMISSIONS)
        settings = simulator_settings(sim, store)
        run_collection(settings)
        with open_store(store) as s:
            errors = queries.group_errors(s, queries.resolve_snapshot(s))
        worst = errors.groupby("group_id")["user_id"].nunique().sort_values(ascending=False).index[0]
        short = errors[(errors["group_id"] == worst) & (errors["error"] == "CountViolation")]
        for part, members in short.groupby("sku_part_number")["user_id"].nunique().items():
            sim.tenant.buy_seats(str(part), int(members) + 2, process=False)  # the admin bought seats
        run_collection(settings)
        port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")},
            **{f"LICENSE_DESK_{k.upper()}": v for k, v in sim.ready_info().items()},
            "LICENSE_DESK_STORE": store,
            "LICENSE_DESK_ALLOW_WRITES": "true",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "PYTHONPATH": str(REPO),
        }
        command = [
            sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"), "--server.headless=true",
            f"--server.port={port}", "--server.address=127.0.0.1", "--server.fileWatcherType=none",
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.read().decode().strip() == "ok":
                            break
                except OSError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.2)
            yield sim, store, url, str(worst)
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_one_full_apply_in_the_browser(writable: tuple[Any, str, str, str]) -> None:
    sim, store, url, fixed_group = writable
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Overview", exact=True).first.wait_for(timeout=60_000)
        _open(page, "Assign & fix", has_chart=False)
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
