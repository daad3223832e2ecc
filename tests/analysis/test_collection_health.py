"""`check` on the collection itself: a failing or stale scheduled collection is a finding.

Numbers from a collection that stopped look exactly like fresh ones, so without these findings
a license manager would read last month's seats as today's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from analysis.collection import LOG_COLUMNS, collection_findings
from cli.check import run_check
from cli.demo_tenant import simulator_settings
from cli.main import cli
from collectors.graph import GraphClient, RetryPolicy
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from licensedesk.errors import LicenseDeskError
from store.db import open_store
from tests.analysis import finance_tenant as t

NOW = pd.Timestamp("2026-12-02T12:00:00Z")


def _log(*rows: tuple[int, str, str, str]) -> pd.DataFrame:
    """A snapshot log, newest first, from (id, status, started, error)."""
    frame = pd.DataFrame(
        [{"id": i, "status": s, "started": pd.Timestamp(at), "finished": pd.Timestamp(at), "error": e}
         for i, s, at, e in rows]
    )  # fmt: skip
    for column in LOG_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame[LOG_COLUMNS]


def test_fresh_complete_snapshot_is_quiet() -> None:
    log = _log((2, "complete", "2026-12-02T06:00:00Z", ""), (1, "failed", "2026-12-01T06:00:00Z", "boom"))
    # The failure came before the latest complete snapshot: it has been recovered from.
    assert collection_findings(log, NOW, stale_hours=48) == []


def test_failures_after_the_latest_snapshot_are_counted_with_the_latest_error() -> None:
    log = _log(
        (4, "failed", "2026-12-02T06:00:00Z", "Graph kept answering 503 after 6 attempts."),
        (3, "failed", "2026-12-01T06:00:00Z", "The client secret has expired."),
        (2, "complete", "2026-11-30T06:00:00Z", ""),
    )
    [finding] = collection_findings(log, NOW, stale_hours=60)  # 54 h old: not stale yet
    assert finding.kind == "collection" and finding.subject == "failing"
    assert finding.message == (
        "The last 2 collections have failed, the latest at 2026-12-02 06:00 UTC: Graph kept answering 503 "
        "after 6 attempts. The numbers shown are from snapshot 2 of 2026-11-30 06:00 UTC."
    )
    assert finding.detail["failed_attempts"] == 2 and finding.detail["snapshot_id"] == 2


def test_a_snapshot_older_than_the_limit_is_stale() -> None:
    log = _log((2, "complete", "2026-11-30T06:00:00Z", ""))
    # 2026-11-30 06:00 to 2026-12-02 12:00 is 2 days and 6 hours: 54 hours.
    assert collection_findings(log, NOW, stale_hours=54) == []
    [finding] = collection_findings(log, NOW, stale_hours=53)
    assert finding.subject == "stale" and finding.detail["hours_old"] == 54.0
    assert finding.message == (
        "The latest complete snapshot (2, 2026-11-30 06:00 UTC) is 54 hours old, more than 53; "
        "check that the scheduled `license-desk collect` runs."
    )


def test_check_reports_a_failed_collection_against_the_simulator(tmp_path: Path) -> None:
    store = str(tmp_path / "ld.sqlite")
    with GraphSimulator(users=60, seed=5) as sim:
        settings = simulator_settings(sim, store)
        first = run_collection(settings).snapshot_id
        sim.faults.add("server_error", path_prefix="/v1.0/directory")
        client = GraphClient(settings, retry=RetryPolicy(max_attempts=2, max_total_wait=2, base_backoff=0.01))
        try:
            run_collection(settings, client=client)
        except LicenseDeskError as exc:
            reason = str(exc).rstrip(".")
        else:
            raise AssertionError("the collection should have failed")
    result = CliRunner().invoke(cli, ["check", "--format", "json"], env={"LICENSE_DESK_STORE": store})
    out = json.loads(result.stdout)
    assert out["snapshot_id"] == first and out["counts"]["collection"] == 1
    [failing] = [f for f in out["findings"] if f["kind"] == "collection"]
    assert failing["subject"] == "failing" and reason in failing["message"]
    assert f"The numbers shown are from snapshot {first} of" in failing["message"]
    assert result.exit_code == 1
    with open_store(store, readonly=True) as opened:
        _, started, findings = run_check(
            opened, stale_hours=48, now=pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=49)
        )
    assert [f.subject for f in findings if f.kind == "collection"] == ["failing", "stale"]


def test_stale_hours_from_the_environment_and_the_option(tmp_path: Path) -> None:
    store = str(tmp_path / "finance.sqlite")
    t.build(store)  # its one snapshot started 2026-03-01 06:00 UTC, months before any run of this test

    def collection(*args: str, env: dict[str, str] | None = None) -> list[str]:
        result = CliRunner().invoke(cli, ["check", *args], env={"LICENSE_DESK_STORE": store, **(env or {})})
        return [line for line in result.stdout.splitlines() if line.startswith("collection:")]

    [line] = collection()
    assert line.startswith("collection: The latest complete snapshot (1, 2026-03-01 06:00 UTC) is ")
    assert line.endswith(" hours old, more than 48; check that the scheduled `license-desk collect` runs.")
    assert collection(env={"LICENSE_DESK_STALE_HOURS": "1000000"}) == []
    assert collection("--stale-hours", "1000000", env={"LICENSE_DESK_STALE_HOURS": "1"}) == []
    bad = CliRunner().invoke(
        cli, ["check"], env={"LICENSE_DESK_STORE": store, "LICENSE_DESK_STALE_HOURS": "soon"}
    )
    assert bad.exit_code == 2 and "LICENSE_DESK_STALE_HOURS must be a whole number, not 'soon'." in bad.output
