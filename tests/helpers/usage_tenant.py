"""A simulated tenant, collected over HTTPS, where everyone used everything on the usage report
date except three E3-only holders who sign in and used nothing (the unused-licence tests' tenant).

40 days on from the build: every licence is past the 30-day guardrail, and the last sign-ins (a
few days before the build) are still within 90 days. SPE_E3 is priced USD 36.00 a month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner

from cli.demo_tenant import simulator_settings
from cli.main import cli
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from graphsim.state import TenantState
from graphsim.usage import UsageProfile, refresh_date

PRICES = "sku,unit_price,currency,period,effective_from\nSPE_E3,36.00,USD,month,2020-01-01\n"


@dataclass(frozen=True)
class UnusedTenant:
    store: str
    env: dict[str, str]  # the simulator's settings as environment variables
    user_ids: list[str]  # the three unused E3 holders, sorted
    upns: list[str]  # theirs, sorted
    report_date: str  # the usage report's date, ISO


def everyone_busy(t: TenantState) -> date:
    """Move the tenant 40 days on and make every user use every workload on the report date (which it
    returns): the tests then set the few users they are about."""
    t.now += timedelta(days=40)
    day = refresh_date(t)
    for user in t.users:
        t.usage_overrides[user.id] = UsageProfile(
            exchange=day, onedrive=day, sharepoint=day, teams=day, yammer=day, apps=day, desktop=True,
            copilot=day, mailbox_bytes=1, onedrive_bytes=1,
        )  # fmt: skip
    return day


def build_unused_tenant(tmp: Path, *, concealed: bool = False) -> UnusedTenant:
    path = str(tmp / "s.sqlite")
    with GraphSimulator(users=150, seed=3) as sim:
        t = sim.tenant
        t.concealed_names = concealed
        day = everyone_busy(t)
        e3 = t.sku_id("SPE_E3")
        chosen = [
            u for u in t.users
            if u.held_skus() == {e3} and u.activity == "active" and u.account_enabled and not u.is_guest
        ][:3]  # fmt: skip
        assert len(chosen) == 3
        for user in chosen:
            t.usage_overrides[user.id] = UsageProfile()
        settings = simulator_settings(sim, path)
        # On the tenant's clock, as the demo collects: "inactive" is then relative to its sign-ins.
        run_collection(settings, clock=lambda: t.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    env = settings.environ()
    prices = tmp / "prices.csv"
    prices.write_text(PRICES, encoding="utf-8")
    result = CliRunner().invoke(cli, ["prices", "import", str(prices)], env=env)
    assert result.exit_code == 0, result.output
    return UnusedTenant(
        path, env, sorted(u.id for u in chosen), sorted(u.upn for u in chosen), day.isoformat()
    )
