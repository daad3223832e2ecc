"""``license-desk downgrade``: the Reclaim advice's downgrades (or a list of users) as a plan,
previewed with its saving, applied with --apply. The tenant: ``tests/helpers/downgrade_tenant.py``
(three direct E5 holders with unused premium plans, two available E3 seats, E5 USD 57.00 and E3
USD 36.00 a month)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from tests.helpers.downgrade_tenant import DowngradeTenant, downgrade_tenant


@pytest.fixture
def tenant(store_path: str) -> Iterator[DowngradeTenant]:
    with downgrade_tenant(store_path) as built:
        yield built


def _run(t: DowngradeTenant, *args: str) -> Result:
    return CliRunner().invoke(cli, ["downgrade", *args], env=t.settings.environ())


def test_reclaim_downgrades_preview_as_json_then_apply(tenant: DowngradeTenant) -> None:
    t = tenant
    preview = _run(t, "--reclaim", "--format", "json")
    assert preview.exit_code == 0, preview.output
    plan = json.loads(preview.stdout)
    a, b, c = t.upns
    assert [(ch["kind"], ch["user_principal_name"], ch["from_sku_part_number"], ch["sku_part_number"])
            for ch in plan["changes"]] == [("downgrade", a, "SPE_E5", "SPE_E3"), ("downgrade", b, "SPE_E5", "SPE_E3")]  # fmt: skip
    assert plan["refused"] == []
    assert [s["target"] for s in plan["skipped"]] == [c]
    assert "1 seat(s) missing" in plan["skipped"][0]["reason"]
    # Two downgrades at USD 57.00 - 36.00 = 21.00 each.
    assert plan["savings"] == [{"currency": "USD", "downgrades": 2, "saving_monthly": "42.00"}]
    assert plan["seats"]["SPE_E3"]["available_after"] == 0
    assert t.sim.write_requests() == []

    applied = _run(t, "--reclaim", "--apply")
    assert applied.exit_code == 0, applied.output
    assert "Applied plan" in applied.stderr and "2 succeeded, 0 failed" in applied.stderr
    audit = CliRunner().invoke(cli, ["audit", "--format", "json"], env=t.settings.environ())
    rows = json.loads(audit.stdout)
    assert sorted((r["action"], r["user_principal_name"], r["sku_part_number"], r["status"]) for r in rows) == [
        ("downgrade", a, "SPE_E3", "succeeded"), ("downgrade", b, "SPE_E3", "succeeded"),
    ]  # fmt: skip
    # The snapshot taken after the apply: a and b hold E3 and no longer E5, c still E5.
    report = CliRunner().invoke(cli, ["report", "users", "--format", "json"], env=t.settings.environ())
    held = {u["user_principal_name"]: sorted(lic["sku_part_number"] for lic in u["licenses"])
            for u in json.loads(report.stdout)}  # fmt: skip
    assert [held[a], held[b], held[c]] == [["SPE_E3"], ["SPE_E3"], ["SPE_E5"]]


def test_named_users_preview_as_a_table(tenant: DowngradeTenant) -> None:
    t = tenant
    a = t.upns[0]
    preview = _run(t, "--user", a, "--from", "SPE_E5", "--to", "SPE_E3")
    assert preview.exit_code == 0, preview.output
    assert f"  + downgrade {a} from SPE_E5 to SPE_E3" in preview.stdout.splitlines()
    assert "  saving per month: USD 21.00 (1 downgrade(s))" in preview.stdout.splitlines()
    assert "Preview only: nothing was sent." in preview.stderr


@pytest.mark.parametrize(
    "args",
    [["--user", "x"], ["--reclaim", "--from", "SPE_E5"], ["--from", "SPE_E5", "--to", "SPE_E3"]],
)
def test_bad_usage_is_one_sentence(tenant: DowngradeTenant, args: list[str]) -> None:
    result = _run(tenant, *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
