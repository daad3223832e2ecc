"""`license-desk assign` from the command line against the simulator: what a user sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from licensedesk.cli import cli
from tests.actions.conftest import assignable, plan_inputs


def test_users_file_with_a_quoted_display_name_plans_the_named_user(tenant: Any, tmp_path: Path) -> None:
    sim, settings = tenant
    _skus, users, licenses = plan_inputs(settings.store)
    manager, olga = assignable(users, licenses, sim.tenant.sku_id("VISIOCLIENT"))[:2]
    file = tmp_path / "users.csv"
    file.write_text(
        f'displayName,manager,userPrincipalName\n"Kim, Olga",{manager},{olga}\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli, ["assign", "--sku", "VISIOCLIENT", "--users-file", str(file), "--format", "json"],
        env=settings.environ(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert [c["user_principal_name"] for c in plan["changes"]] == [olga]
    assert sim.write_requests() == []


def test_users_file_without_a_user_column_is_refused_in_one_sentence(tenant: Any, tmp_path: Path) -> None:
    sim, settings = tenant
    file = tmp_path / "people.csv"
    file.write_text("displayName,department\nOlga Kim,Sales\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["assign", "--sku", "VISIOCLIENT", "--users-file", str(file)], env=settings.environ()
    )
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"license-desk: error: The users file {file} has several columns")
    assert "'displayName', 'department'" in line and "userPrincipalName" in line
    assert sim.write_requests() == []


def test_disable_plan_by_name_or_id_reaches_graph_as_plan_ids(tenant: Any) -> None:
    sim, settings = tenant
    _skus, users, licenses = plan_inputs(settings.store)
    visio = sim.tenant.sku("VISIOCLIENT")
    online = next(p for p in visio.plans if p.name == "VISIOONLINE")
    onedrive = next(p for p in visio.plans if p.name == "ONEDRIVE_BASIC")
    (user,) = assignable(users, licenses, visio.sku_id)[:1]
    args = ["assign", "--sku", "VISIOCLIENT", "--user", user,
            "--disable-plan", "visioonline", "--disable-plan", onedrive.id.upper()]  # fmt: skip
    preview = CliRunner().invoke(cli, [*args, "--format", "json"], env=settings.environ())
    assert preview.exit_code == 0, preview.output
    (change,) = json.loads(preview.stdout)["changes"]
    assert change["disabled_plans"] == sorted([online.id, onedrive.id])
    applied = CliRunner().invoke(cli, [*args, "--apply"], env=settings.environ())
    assert applied.exit_code == 0, applied.output
    assert sim.tenant.user(user).direct[visio.sku_id].disabled_plans == tuple(
        sorted([online.id, onedrive.id])
    )


def test_an_unknown_disabled_plan_is_refused_naming_the_skus_plans(tenant: Any) -> None:
    sim, settings = tenant
    _skus, users, licenses = plan_inputs(settings.store)
    (user,) = assignable(users, licenses, sim.tenant.sku_id("VISIOCLIENT"))[:1]
    result = CliRunner().invoke(
        cli, ["assign", "--sku", "VISIOCLIENT", "--user", user, "--disable-plan", "Teams", "--apply"],
        env=settings.environ(),
    )  # fmt: skip
    assert result.exit_code == 1
    assert (
        "license-desk: refused: VISIOCLIENT has no service plan 'Teams'; its plans are EXCHANGE_S_FOUNDATION, "
        "ONEDRIVE_BASIC, VISIOONLINE, VISIO_CLIENT_SUBSCRIPTION (by name or id)."
    ) in result.stderr.splitlines()
    assert sim.write_requests() == []
