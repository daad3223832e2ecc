"""`report costs` keeps "unused" (signs in, uses none of the SKU's workloads) apart from inactive,
and `report reclaim` lists it with the usage evidence, on a simulated tenant collected over HTTPS.

Every user's usage is pinned to "everything used on the report date", except three E3 holders
who used nothing (tests.helpers.usage_tenant): so SPE_E3 has exactly 3 unused seats and no other SKU has any."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli
from tests.helpers.usage_tenant import build_unused_tenant


def test_costs_and_reclaim_show_unused_seats(tmp_path: Path) -> None:
    tenant = build_unused_tenant(tmp_path)
    env = tenant.env
    runner = CliRunner()

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
    assert sorted(r["user_id"] for r in unused) == tenant.user_ids
    assert all(r["evidence"].startswith("No use of its workloads in 90 days: Exchange never") for r in unused)
    assert all(r["evidence"].endswith(f"(usage report of {tenant.report_date}).") for r in unused)
    assert all(r["action"].startswith("Remove the user from group") for r in unused)  # E3 comes from groups
