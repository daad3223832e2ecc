"""The tenant picker in a real browser: the link keeps the tenant across the navigation, the
picker changes it, and a download holds the chosen tenant's rows only (issue 16).

Three simulated tenants collected into their stores beside a registry; the dashboard served
with ``python -m streamlit run`` and driven with Debian's Chromium through Playwright.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.serve import serving_dashboard
from graphsim.server import GraphSimulator
from tests.dashboard.test_tenant_picker import _build
from tests.helpers.browser import BROWSER_MARKS, CHROMIUM, LAUNCH_ARGS, click_download, playwright

pytestmark = BROWSER_MARKS
sync_api = playwright()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, GraphSimulator]]:
    with GraphSimulator(users=40, seed=4, tenants=3) as sim:
        registry = str(tmp_path_factory.mktemp("browser_tenants") / "store.sqlite")
        _build(sim, registry)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
        with serving_dashboard({**env, "LICENSE_DESK_STORE": registry}) as url:
            yield url, sim


def _settled(page: Any, title: str) -> None:
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60_000)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)


def test_the_link_the_picker_and_a_download_follow_the_tenant(served: Any, tmp_path: Path) -> None:
    url, sim = served
    _alpha, beta, gamma = sim.tenants
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(
                accept_downloads=True, viewport={"width": 1400, "height": 1000}
            ).new_page()
            page.goto(f"{url}/?tenant={beta.domain}", wait_until="domcontentloaded")
            _settled(page, "Overview")
            page.get_by_text("Tenant: Beta Ltd (customer2.onmicrosoft.com)").wait_for(timeout=60_000)
            # The navigation keeps the tenant (and the address names it for a copied link).
            page.get_by_role("link", name="Users", exact=True).click()
            _settled(page, "Users")
            page.get_by_text("Tenant: Beta Ltd (customer2.onmicrosoft.com)").wait_for(timeout=60_000)
            page.wait_for_url(f"**tenant={beta.tenant_id}**", timeout=60_000)
            # Every user name of the download is Beta's (they end in its domain), and all of them.
            target = tmp_path / "users.csv"
            click_download(page, "Download CSV").save_as(target)
            rows = list(csv.DictReader(target.read_text(encoding="utf-8").splitlines()))
            assert sorted(r["user_principal_name"] for r in rows) == sorted(u.upn for u in beta.users)
            # The picker moves every page to Gamma; the Portfolio page lists every tenant.
            page.get_by_role("link", name="Portfolio", exact=True).wait_for(timeout=60_000)
            page.locator(".st-key-tenant_picker").get_by_role("combobox").click()
            page.get_by_role("option", name="Gamma plc (customer3.onmicrosoft.com)").click()
            page.get_by_text("Tenant: Gamma plc (customer3.onmicrosoft.com)").wait_for(timeout=60_000)
            page.wait_for_url(f"**tenant={gamma.tenant_id}**", timeout=60_000)
            # From the Portfolio, one tenant's Overview opens.
            page.get_by_role("link", name="Portfolio", exact=True).click()
            _settled(page, "Portfolio")
            page.locator(".st-key-portfolio_open").get_by_role("combobox").click()
            page.get_by_role("option", name="Beta Ltd (customer2.onmicrosoft.com)").click()
            page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
                timeout=60_000
            )
            page.get_by_role("button", name="Open its Overview").click()
            _settled(page, "Overview")
            page.get_by_text("Tenant: Beta Ltd (customer2.onmicrosoft.com)").wait_for(timeout=60_000)
            page.wait_for_url(f"**tenant={beta.tenant_id}**", timeout=60_000)
        finally:
            browser.close()
