"""Every JSON the command line prints parses with a strict parser (no NaN, no Infinity), missing
values are null, and tables for people show no NaN/None/<NA> and no snake_case headers.

Run against a demo store built by the real collectors from the simulator, with audit rows a real
apply would leave (a pending change has no HTTP status yet: that null once printed as NaN).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from store import queries
from store.audit import record_intent, record_outcome
from store.db import open_store


def strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from cli.demo_tenant import build_demo_store

    path = str(tmp_path_factory.mktemp("json") / "demo.sqlite")
    build_demo_store(path, users=80, days=3)
    with open_store(path) as store:
        done = record_intent(store, plan_id="p1", actor="ops", tenant_id="t", action="assign",
                             user_principal_name="a@contoso.com", sku_part_number="SPE_E3")  # fmt: skip
        record_outcome(store, done, status="succeeded", http_status=200, request_id="r-1")
        record_intent(store, plan_id="p2", actor="ops", tenant_id="t", action="assign",
                      user_principal_name="b@contoso.com", sku_part_number="SPE_E3")  # fmt: skip
    return path


def _run(store: str, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"LICENSE_DESK_STORE": store})


def _a_user_and_an_error_group(store_path: str) -> tuple[str, str]:
    with open_store(store_path) as store:
        sid = queries.resolve_snapshot(store)
        upn = str(queries.users(store, sid)["user_principal_name"].iloc[0])
        group = str(queries.group_errors(store, sid)["group_name"].iloc[0])
    return upn, group


REPORTS = ["skus", "users", "errors", "subscriptions", "costs", "groups", "reclaim", "renewals"]


@pytest.mark.parametrize("what", REPORTS)
def test_report_json_is_strict(demo_store: str, what: str) -> None:
    result = _run(demo_store, "report", what, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = strict(result.output)
    assert isinstance(rows, list) and rows


def test_missing_user_fields_are_null(demo_store: str) -> None:
    with open_store(demo_store) as store:
        users = queries.users(store, queries.resolve_snapshot(store))
    no_department = set(users.loc[users["department"].isna(), "user_principal_name"])
    assert no_department, "the demo tenant has users without a department"
    rows = strict(_run(demo_store, "report", "users", "--format", "json").output)
    assert {r["user_principal_name"] for r in rows if r["department"] is None} == no_department


def test_audit_json_is_strict_and_a_pending_change_has_no_status(demo_store: str) -> None:
    rows = strict(_run(demo_store, "audit", "--format", "json").output)
    by_plan = {r["plan_id"]: r for r in rows}
    assert type(by_plan["p1"]["http_status"]) is int and by_plan["p1"]["http_status"] == 200  # not 200.0
    assert by_plan["p2"]["http_status"] is None and by_plan["p2"]["status"] == "pending"


def test_check_and_previews_json_are_strict(demo_store: str) -> None:
    check = _run(demo_store, "check", "--format", "json")
    assert check.exit_code == 1 and strict(check.output)["status"] == "attention"
    upn, group = _a_user_and_an_error_group(demo_store)
    assign = _run(demo_store, "assign", "--sku", "AAD_PREMIUM_P2", "--user", upn, "--format", "json")
    preview = strict(assign.stdout)
    assert set(preview) >= {"changes", "refused", "seats"}
    reprocess = _run(demo_store, "reprocess", "--group", group, "--format", "json")
    assert strict(reprocess.stdout)["changes"]


MISSING = re.compile(r"(?<![\w])(NaN|nan|None|<NA>|NaT)(?![\w])")


@pytest.mark.parametrize("what", REPORTS)
def test_tables_show_empty_cells_and_labels(demo_store: str, what: str) -> None:
    result = _run(demo_store, "report", what)
    assert result.exit_code == 0, result.output
    assert not MISSING.search(result.output), result.output[:2000]
    header = result.output.splitlines()[0]
    assert "_" not in header.replace("Licensing - ", ""), header  # no snake_case keys as labels


def test_tables_leave_out_ids_unless_asked(demo_store: str) -> None:
    guid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    for what in ("skus", "users", "errors", "subscriptions", "reclaim", "renewals"):
        assert not guid.search(_run(demo_store, "report", what).output), what
    shown = _run(demo_store, "report", "skus", "--show-ids").output
    assert shown.splitlines()[0].startswith("SKU ID") and guid.search(shown)
    # The one exception: finding a group's id is what `report groups` is for.
    assert _run(demo_store, "report", "groups").output.splitlines()[0].startswith("Group ID")


def test_csv_keeps_the_keys_and_leaves_missing_cells_empty(demo_store: str) -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(_run(demo_store, "report", "users", "--format", "csv").output)))
    assert list(rows[0])[:3] == ["id", "user_principal_name", "display_name"]
    assert {r["department"] for r in rows} >= {""}
    assert not any(MISSING.fullmatch(v) for r in rows for v in r.values())
