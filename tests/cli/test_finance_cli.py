"""`report costs`, `check` and `prices import|export` from the command line.

The demo store (built by the real collectors against the simulator) shows the commands work end
to end; the hand-written finance tenant pins exact figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.demo_tenant import LIST_PRICES_SOURCE
from cli.main import cli
from store.db import open_store
from store.prices import load_prices, save_threshold
from tests.analysis import finance_tenant as t


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from cli.demo_tenant import build_demo_store

    path = str(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    build_demo_store(path, users=80, days=3)
    return path


def _run(store: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"LICENSE_DESK_STORE": store})


def test_demo_ships_an_example_price_book(demo_store: str) -> None:
    with open_store(demo_store) as store:
        book = load_prices(store)
    assert len(book) == 18
    assert set(book["source"]) == {LIST_PRICES_SOURCE}
    assert "list prices" in LIST_PRICES_SOURCE and "example" in LIST_PRICES_SOURCE
    e3 = book[book["sku_part_number"] == "SPE_E3"].iloc[0]
    assert (e3["unit_price_minor"], e3["currency"], e3["period"]) == (3600, "USD", "month")


def test_report_costs_json_on_the_demo_store(demo_store: str) -> None:
    result = _run(demo_store, "report", "costs", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    skus = [r for r in rows if r["kind"] == "sku"]
    totals = [r for r in rows if r["kind"] == "total"]
    assert {r["currency"] for r in totals} == {"USD"}
    assert {"sku_id", "sku_part_number", "status", "purchased_cost_monthly", "waste_cost_annual"} <= set(
        skus[0]
    )
    unpriced = {r["sku_part_number"] for r in skus if r["status"] == "no price"}
    assert unpriced == {"CONTOSO_PARTNER_ADDON", "CRMSTANDARD"}  # no list price: flagged, never free
    assert all(r["purchased_cost_monthly"] is None for r in skus if r["status"] == "no price")
    usd = totals[0]
    assert usd["unpriced_skus"] == 2
    # money is exact decimal text; the total is the sum of the SKU lines
    from decimal import Decimal

    lines = sum(Decimal(r["purchased_cost_monthly"]) for r in skus if r["currency"] == "USD")
    assert Decimal(usd["purchased_cost_monthly"]) == lines > 0


def test_check_on_the_demo_store_exits_1_with_json(demo_store: str) -> None:
    result = _run(demo_store, "check", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["status"] == "attention"
    assert report["counts"]["group_error"] > 0  # the simulator always seeds group errors
    assert {f["kind"] for f in report["findings"]} <= {"threshold", "group_error", "expiring", "renewal"}
    text = _run(demo_store, "check")
    assert text.exit_code == 1
    assert text.output.splitlines()[0].startswith("group_error: Group ")


@pytest.fixture
def tenant_store(tmp_path: Path) -> str:
    path = str(tmp_path / "store.sqlite")
    t.build(path)
    return path


def test_report_costs_exact_figures(tenant_store: str) -> None:
    rows = json.loads(_run(tenant_store, "report", "costs", "--format", "json").output)
    usd = next(r for r in rows if r["kind"] == "total" and r["currency"] == "USD")
    eur = next(r for r in rows if r["kind"] == "total" and r["currency"] == "EUR")
    assert (usd["purchased_cost_monthly"], usd["purchased_cost_annual"], usd["waste_cost_monthly"]) == (
        "571.00", "6852.00", "285.00",
    )  # fmt: skip
    assert (eur["purchased_cost_monthly"], eur["purchased_cost_annual"]) == ("33.33", "400.00")
    e3 = next(r for r in rows if r["sku_part_number"] == "SPE_E3")
    assert (e3["unit_price"], e3["effective_from"], e3["disabled_cost_monthly"]) == (
        "36.00",
        "2026-01-01",
        "36.00",
    )
    table = _run(tenant_store, "report", "costs")
    assert "USD: purchased 571.00/month (6852.00/year)" in table.output
    assert "1 SKU(s) have no price and are in no total: CONTOSO_PARTNER_ADDON" in table.output
    csv = _run(tenant_store, "report", "costs", "--format", "csv").output.splitlines()
    assert csv[0].startswith("kind,sku_id,sku_part_number,name,status,unit_price")


def test_check_all_clear_exits_0(tmp_path: Path) -> None:
    from store.snapshots import SnapshotWriter

    path = str(tmp_path / "quiet.sqlite")
    with open_store(path) as store, SnapshotWriter(store, "t") as writer:
        writer.stage("stage_skus", [(t.E3, "SPE_E3", "User", "Enabled", 10, 0, 0, 0, 0)])
        writer.complete()
    result = _run(path, "check")
    assert result.exit_code == 0
    assert result.output.startswith("All clear (snapshot 1, ")
    quiet = json.loads(_run(path, "check", "--format", "json").output)
    assert (quiet["status"], quiet["findings"]) == ("ok", [])
    with open_store(path) as store:
        save_threshold(store, t.E3, "SPE_E3", min_free_seats=11, max_utilization_percent=None)
    assert _run(path, "check").output == "threshold: SPE_E3 has 10 free seats, below the minimum of 11.\n"


def test_prices_export_and_import_round_trip(tenant_store: str, tmp_path: Path) -> None:
    out = tmp_path / "book.csv"
    result = _run(tenant_store, "prices", "export", str(out))
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("sku,unit_price,currency,period,effective_from\n")
    assert "SPE_E5,684.00,USD,year,2025-01-01\n" in text
    assert _run(tenant_store, "prices", "export").output == text
    again = _run(tenant_store, "prices", "import", str(out))
    assert again.exit_code == 0
    assert again.output == f"Replaced the price book with 7 price row(s) from {out} (7 old row(s) removed).\n"


def test_prices_import_refuses_a_bad_file_and_changes_nothing(tenant_store: str, tmp_path: Path) -> None:
    with open_store(tenant_store) as store:
        before = load_prices(store).drop(columns="updated_at").values.tolist()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sku,unit_price,currency,period,effective_from\nSPE_E3,1,USD,month,2027-01-01\nSPE_E3,2,ZZZ,month,2027-02-01\n"
    )
    result = _run(tenant_store, "prices", "import", str(bad))
    assert result.exit_code == 1
    assert (
        result.output
        == "license-desk: error: bad.csv, row 3: currency 'ZZZ' is not an ISO 4217 currency code.\n"
    )
    with open_store(tenant_store) as store:
        assert load_prices(store).drop(columns="updated_at").values.tolist() == before
    missing = _run(tenant_store, "prices", "import", str(tmp_path / "none.csv"))
    assert missing.exit_code == 1 and "does not exist" in missing.output
