"""Usage reports collected from the simulator over HTTPS into a real SQLite store: the redirect
followed without the token, the CSV quirks, history as intervals, concealed names, a missing
Reports.Read.All as one warning, and a failing report publishing nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cli.demo_tenant import simulator_settings
from collectors.graph import GraphClient, RetryPolicy
from collectors.runner import run_collection
from collectors.usage import CONCEALED_WARNING, FORBIDDEN_WARNING, FetchedUsage, UsageJoin
from collectors.usage_csv import parse_report, text_lines
from collectors.usage_rows import BIT
from graphsim.server import GraphSimulator
from graphsim.usage import GB, UsageProfile
from licensedesk.errors import GraphError
from store import queries
from store.db import open_store
from store.snapshots import SnapshotSummary
from store.usage import load_usage, load_usage_reports

FAST = RetryPolicy(max_attempts=3, max_total_wait=5.0, max_single_wait=0.1, base_backoff=0.01)
READ = {"Organization.Read.All", "User.Read.All", "Group.Read.All", "AuditLog.Read.All"}


def test_csv_quirks_parse_whatever_the_chunking() -> None:
    # A BOM, CRLF, a quoted comma, an empty date, an unknown extra column, a blank line, a hashed row.
    text = (
        "\ufeffReport Refresh Date,User Principal Name,Display Name,Exchange Last Activity Date,"
        "OneDrive Last Activity Date,SharePoint Last Activity Date,Teams Last Activity Date,"
        "Yammer Last Activity Date,Brand New Column\r\n"
        '2026-03-09,Ann@Contoso.com,"Doe, Ann",2026-03-08,,2026-01-01,2026-03-07,,x\r\n'
        "\r\n"
        "2026-03-09,bob@contoso.com,Bob,,,,,,\r\n"
    ).encode()
    for size in (1, 2, 7, len(text)):  # every split: inside the BOM, between CR and LF, mid-field
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        parsed = parse_report("active", text_lines(chunks), "test")
        assert parsed.refresh_date == "2026-03-09"
        assert parsed.rows == {
            "ann@contoso.com": ("2026-03-08", None, "2026-01-01", "2026-03-07", None),
            "bob@contoso.com": (None, None, None, None, None),
        }
        assert not parsed.concealed


def test_hashed_rows_are_never_keyed_and_a_missing_column_is_one_sentence() -> None:
    text = "Report Refresh Date,Report Period,User Principal Name,Last Activity Date\n2026-03-09,30,DC8C64D6EC3A3AA17481D7E5EB5B68A6,2026-03-01\n"
    parsed = parse_report("copilot", text_lines([text.encode()]), "test")
    assert parsed.concealed and parsed.rows == {}
    with pytest.raises(GraphError, match=r"^Graph's mailbox report has no column 'Storage Used \(Byte\)'"):
        parse_report(
            "mailbox", text_lines([b"User Principal Name,Last Activity Date,Has Archive\n"]), "mailbox"
        )


def _collect(sim: GraphSimulator, store: str, **kwargs: Any) -> SnapshotSummary:
    settings = simulator_settings(sim, store)
    return run_collection(settings, client=GraphClient(settings, retry=FAST), **kwargs)


def test_usage_is_stored_per_user_and_as_intervals(sim: GraphSimulator, tmp_path: Path) -> None:
    store_path = str(tmp_path / "s.sqlite")
    copilot = sim.tenant.sku_id("Microsoft_365_Copilot")
    user = next(u for u in sim.tenant.users if copilot in u.held_skus())
    sim.tenant.usage_overrides[user.id] = UsageProfile(
        exchange=date(2026, 1, 3), teams=date(2026, 1, 2), apps=date(2026, 1, 1), desktop=False,
        web_mobile=True, copilot=None, recipient_type="SharedMailbox", mailbox_bytes=3 * GB, on_hold=True,
    )  # fmt: skip
    first = _collect(sim, store_path)
    downloads = [r for r in sim.requests if r.path.startswith("/reports-download/")]
    assert len(downloads) == 5 and all(r.status == 200 for r in downloads)
    assert all(r.client_id is None for r in downloads)  # no bearer token went to the download
    with open_store(store_path) as store:
        usage = load_usage(store, first.snapshot_id).set_index("user_id")  # type: ignore[attr-defined]
        reports = load_usage_reports(store, first.snapshot_id).set_index("report")  # type: ignore[attr-defined]
        users = queries.users(store, first.snapshot_id)  # type: ignore[attr-defined]
    row = usage.loc[user.id]
    assert (row["exchange_at"], row["teams_at"], row["apps_at"]) == ("2026-01-03", "2026-01-02", "2026-01-01")
    assert (row["desktop_apps"], row["web_mobile_apps"], row["copilot_at"]) == (0, 1, None)
    assert (row["recipient_type"], row["mailbox_bytes"], row["on_hold"], row["has_archive"]) == (
        "SharedMailbox", 3 * 1024**3, 1, 0,
    )  # fmt: skip
    assert set(reports["status"]) == {"ok"}
    licensed = sum(1 for u in sim.tenant.users if u.held_skus())
    assert reports.loc["active", "rows"] == licensed and reports.loc["active", "matched"] == licensed
    assert set(usage.index) <= set(users["user_id"])

    # Same usage the next day: no row is written; one user's change closes one row and opens one.
    sim.tenant.usage_overrides[user.id].teams = date(2026, 1, 4)
    second = _collect(sim, store_path)
    with open_store(store_path) as store:
        opened = store.conn.execute(
            "SELECT COUNT(*) FROM user_usage WHERE valid_from = ?", (second.snapshot_id,)
        )
        closed = store.conn.execute(
            "SELECT COUNT(*) FROM user_usage WHERE valid_to = ?", (second.snapshot_id,)
        )
        assert (opened.fetchone()[0], closed.fetchone()[0]) == (1, 1)
        assert (
            load_usage(store, first.snapshot_id).set_index("user_id").loc[user.id, "teams_at"] == "2026-01-02"
        )
        assert (
            load_usage(store, second.snapshot_id).set_index("user_id").loc[user.id, "teams_at"]
            == "2026-01-04"
        )


def test_without_reports_read_all_the_rest_is_collected_with_one_warning(
    sim: GraphSimulator, tmp_path: Path
) -> None:
    sim.set_permissions(READ)
    summary = _collect(sim, str(tmp_path / "s.sqlite"))
    assert summary.warnings.count(FORBIDDEN_WARNING) == 1  # type: ignore[attr-defined]
    assert summary.users == len(sim.tenant.users)  # type: ignore[attr-defined]
    with open_store(str(tmp_path / "s.sqlite")) as store:
        assert load_usage(store, summary.snapshot_id).empty  # type: ignore[attr-defined]
        assert set(load_usage_reports(store, summary.snapshot_id)["status"]) == {"forbidden"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("setting_readable", [True, False])
def test_concealed_names_join_nobody(sim: GraphSimulator, tmp_path: Path, setting_readable: bool) -> None:
    sim.tenant.concealed_names = True
    if not setting_readable:  # no ReportSettings.Read.All: the hashes in the rows give it away
        sim.set_permissions(READ | {"Reports.Read.All"})
    summary = _collect(sim, str(tmp_path / "s.sqlite"))
    assert CONCEALED_WARNING in summary.warnings  # type: ignore[attr-defined]
    with open_store(str(tmp_path / "s.sqlite")) as store:
        assert load_usage(store, summary.snapshot_id).empty  # type: ignore[attr-defined]
        assert set(load_usage_reports(store, summary.snapshot_id)["status"]) == {"concealed"}  # type: ignore[attr-defined]
    fetched = [r for r in sim.requests if r.path.startswith("/reports-download/")]
    assert len(fetched) == (0 if setting_readable else 5)


def test_a_failing_report_publishes_nothing(sim: GraphSimulator, tmp_path: Path) -> None:
    store_path = str(tmp_path / "s.sqlite")
    first = _collect(sim, store_path)
    sim.faults.add("unavailable", path_prefix="/reports-download/")
    with pytest.raises(GraphError):
        _collect(sim, store_path)
    with open_store(store_path) as store:
        assert queries.resolve_snapshot(store) == first.snapshot_id  # type: ignore[attr-defined]
        assert (
            store.conn.execute(
                "SELECT COUNT(*) FROM user_usage WHERE valid_from > ?", (first.snapshot_id,)
            ).fetchone()[0]
            == 0
        )
        assert (
            store.conn.execute(
                "SELECT COUNT(*) FROM usage_reports WHERE snapshot_id > ?", (first.snapshot_id,)
            ).fetchone()[0]
            == 0
        )


def test_a_cut_download_and_a_throttled_report_are_asked_again(sim: GraphSimulator, tmp_path: Path) -> None:
    sim.faults.add("truncate", path_prefix="/reports-download/", first=1)
    sim.faults.add("throttle", path_prefix="/v1.0/reports/getMailboxUsageDetail", first=1, retry_after=0)
    summary = _collect(sim, str(tmp_path / "s.sqlite"))
    with open_store(str(tmp_path / "s.sqlite")) as store:
        reports = load_usage_reports(store, summary.snapshot_id).set_index("report")  # type: ignore[attr-defined]
    assert set(reports["status"]) == {"ok"}
    assert reports.loc["active", "rows"] == sum(1 for u in sim.tenant.users if u.held_skus())


def test_check_says_names_are_concealed(sim: GraphSimulator, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    store_path = str(tmp_path / "s.sqlite")
    _collect(sim, store_path)
    env = simulator_settings(sim, store_path).environ()
    before = CliRunner().invoke(cli, ["check", "--format", "json"], env=env)
    assert '"usage": 0' in before.stdout
    sim.tenant.concealed_names = True
    _collect(sim, store_path)
    result = CliRunner().invoke(cli, ["check"], env=env)
    assert result.exit_code == 1
    assert (
        "usage: Microsoft 365 usage reports conceal user names, so Reclaim uses sign-in activity only"
        in result.stdout
    )


def test_a_failed_sweep_stops_the_report_reader_instead_of_it_sitting_out_retry_after(
    sim: GraphSimulator, tmp_path: Path
) -> None:
    """The reports are read on a thread beside the user sweep; when the sweep fails, that thread
    must end at its next try, not wait out every Retry-After (the process waits for it at exit:
    with Graph's defaults, up to five minutes of a cron job or a test worker hanging on)."""
    import threading
    import time

    patient = RetryPolicy(max_attempts=6, max_total_wait=60.0, max_single_wait=2.0, base_backoff=0.01)
    sim.faults.add("throttle", path_prefix="/v1.0/reports/", retry_after=2)
    sim.faults.add("unavailable", path_prefix="/v1.0/users")
    settings = simulator_settings(sim, str(tmp_path / "s.sqlite"))
    earlier = set(threading.enumerate())  # only this collection's reader is waited for
    with pytest.raises(GraphError):
        run_collection(settings, client=GraphClient(settings, retry=patient))
    failed_at = time.monotonic()
    while any(t.name.startswith("usage-reports") for t in set(threading.enumerate()) - earlier):
        assert time.monotonic() - failed_at < 5, "the report reader went on after the sweep failed"
        time.sleep(0.05)


def _row(exchange: str | None, bits: int) -> list[Any]:
    """A merged row: 14 fields (only the Exchange date set here), then which reports named the user."""
    return [exchange, *([None] * 13), bits]


def test_usage_rows_join_each_page_as_it_comes_once_the_reports_are_in() -> None:
    """The sweep's pages reach the join before and after the reports do: Ann's page came first,
    Bob's after. Each row goes to the first user with its name (Zed repeats Ann's), and a row
    nobody holds (Old, deleted) is named but not matched."""
    active, mailbox = BIT["active"], BIT["mailbox"]
    fetched = FetchedUsage(
        by_name={
            "ann@x.com": _row("2026-03-08", active | mailbox),
            "bob@x.com": _row("2026-03-01", active),
            "old@x.com": _row(None, mailbox),
        },
        refresh={"active": "2026-03-09", "mailbox": "2026-03-07"},
    )
    staged: list[list[tuple[Any, ...]]] = []
    join = UsageJoin(staged.append)
    join.users([("ann@x.com", "id-ann"), ("nobody@x.com", "id-nobody")])
    assert staged == [] and not join.has_reports  # nothing to join them to yet
    join.reports(fetched)
    join.users([("bob@x.com", "id-bob"), ("ann@x.com", "id-zed")])
    # report_date is the latest refresh date of any report: 2026-03-09.
    assert staged == [
        [("id-ann", "2026-03-09", "2026-03-08", *([None] * 13))],
        [("id-bob", "2026-03-09", "2026-03-01", *([None] * 13))],
    ]
    assert join.finish().reports == [
        # (report, status, refresh date, rows naming a user, rows joined to one)
        ("active", "ok", "2026-03-09", 2, 2),
        ("mailbox", "ok", "2026-03-07", 2, 1),
    ]
