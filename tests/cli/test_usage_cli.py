"""`report costs` keeps "unused" (signs in, uses none of the SKU's workloads) apart from inactive,
and `report reclaim` lists it with the usage evidence, on a simulated tenant collected over HTTPS.

Every user's usage is pinned to "everything used on the report date", except three E3 holders
chosen below who used nothing: so SPE_E3 has exactly 3 unused seats and no other SKU has any."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from cli.demo_tenant import simulator_settings
from cli.main import cli
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from graphsim.usage import UsageProfile, refresh_date


def test_costs_and_reclaim_show_unused_seats(tmp_path: Path) -> None:
    with GraphSimulator(users=150, seed=3) as sim:
        t = sim.tenant
        # 40 days on: every licence (assigned when the tenant was built) is past the 30-day
        # guardrail, and the last sign-ins (a few days before the build) are still within 90 days.
        t.now += timedelta(days=40)
        e3 = t.sku_id("SPE_E3")
        day = refresh_date(t)
        for user in t.users:
            t.usage_overrides[user.id] = UsageProfile(
                exchange=day, onedrive=day, sharepoint=day, teams=day, yammer=day, apps=day, desktop=True,
                copilot=day, mailbox_bytes=1, onedrive_bytes=1,
            )  # fmt: skip
        # Signs in, holds only E3.
        chosen = [
            u for u in t.users
            if u.held_skus() == {e3} and u.activity == "active" and u.account_enabled and not u.is_guest
        ][:3]  # fmt: skip
        assert len(chosen) == 3
        for user in chosen:
            t.usage_overrides[user.id] = UsageProfile()
        settings = simulator_settings(sim, str(tmp_path / "s.sqlite"))
        env = settings.environ()
        runner = CliRunner()
        # On the tenant's clock, as the demo collects: "inactive" is then relative to its sign-ins.
        run_collection(settings, clock=lambda: t.now.isoformat().replace("+00:00", "Z"))
    prices = tmp_path / "prices.csv"
    prices.write_text("sku,unit_price,currency,period,effective_from\nSPE_E3,36.00,USD,month,2020-01-01\n")
    assert runner.invoke(cli, ["prices", "import", str(prices)], env=env).exit_code == 0

    costs = json.loads(runner.invoke(cli, ["report", "costs", "--format", "json"], env=env).stdout)
    by_sku = {r["sku_part_number"]: r for r in costs if r["kind"] == "sku"}
    assert by_sku["SPE_E3"]["unused_seats"] == 3
    assert by_sku["SPE_E3"]["unused_cost_monthly"] == "108.00"  # 3 x 36.00
    assert {p: r["unused_seats"] for p, r in by_sku.items() if r["unused_seats"]} == {"SPE_E3": 3}
    total = next(r for r in costs if r["kind"] == "total" and r["currency"] == "USD")
    assert total["unused_cost_monthly"] == "108.00"
    # Kept apart: the inactive seats are the sign-in ones, and waste holds both.
    waste = sum(float(total[f"{k}_cost_monthly"] or 0) for k in
                ("unassigned", "disabled", "inactive", "never_signed_in", "unused"))  # fmt: skip
    assert float(total["waste_cost_monthly"]) == waste
    table = runner.invoke(cli, ["report", "costs"], env=env).stdout
    assert "unused (signs in, uses none of its apps) 108.00" in table

    reclaim = json.loads(runner.invoke(cli, ["report", "reclaim", "--format", "json"], env=env).stdout)
    unused = [r for r in reclaim if r["kind"] == "candidate" and r["reason"] == "unused"]
    assert sorted(r["user_id"] for r in unused) == sorted(u.id for u in chosen)
    assert all(r["evidence"].startswith("No use of its workloads in 90 days: Exchange never") for r in unused)
    assert all(r["evidence"].endswith(f"(usage report of {day}).") for r in unused)
    assert all(r["action"].startswith("Remove the user from group") for r in unused)  # E3 comes from groups
