"""The usage reports' parser process (collectors.usage_process), a real child process fed through a
real pipe: what it merges is what parsing in the thread merges, a failed download's partial line
never counts, a bad report is one sentence, and no parser outlives its collector."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from collectors.snapshot import Progress
from collectors.usage_process import InlineParser, ProcessParser, SizedParser
from collectors.usage_rows import SEEN
from graphsim.server import GraphSimulator
from licensedesk.errors import GraphError, LicenseDeskError
from store.db import open_store
from store.usage import USAGE_COLUMNS, load_usage_reports
from tests.helpers.processes import alive, child_left_by_a_killed_parent, children_running

ACTIVE = (
    b"Report Refresh Date,User Principal Name,Exchange Last Activity Date,OneDrive Last Activity Date,"
    b"SharePoint Last Activity Date,Teams Last Activity Date,Yammer Last Activity Date\n"
    b"2026-03-09,Ann@Contoso.com,2026-03-08,,,2026-03-07,\n"
    b"2026-03-09,bob@contoso.com,2026-03-01,,,,\n"
)
CUT = ACTIVE.index(b"2026-03-01") + 6  # inside Bob's Exchange date: "2026-0"


class _Cut(OSError):
    """What requests raises when a download is cut off (its errors are OSErrors)."""


def _cut_download() -> Iterator[bytes]:
    yield ACTIVE[:CUT]
    raise _Cut("connection broken")


def _never_stop() -> None:
    pass


def test_a_cut_download_counts_only_its_whole_lines_and_the_retry_gives_the_clean_read() -> None:
    parser = ProcessParser()
    try:
        with pytest.raises(_Cut):
            parser.add("active", _cut_download(), "active", _never_stop)
        after_cut = parser.result()
    finally:
        parser.close()
    # Ann's line arrived whole; Bob's was cut inside his date and must not count as "no date".
    assert list(after_cut.by_name) == ["ann@contoso.com"]
    assert after_cut.by_name["ann@contoso.com"] == ["2026-03-08", None, None, "2026-03-07", None] + [
        None
    ] * 9 + [1]
    assert len(after_cut.by_name["ann@contoso.com"]) == SEEN + 1 == len(USAGE_COLUMNS) - 2 + 1

    retried, inline = ProcessParser(), InlineParser()
    try:
        for each in (retried, inline):
            with pytest.raises(_Cut):
                each.add("active", _cut_download(), "active", _never_stop)
            each.add("active", [ACTIVE[:10], ACTIVE[10:]], "active", _never_stop)
        merged = retried.result()  # the parser's last answer: it exits after sending the rows
        assert merged == inline.result()
        assert merged.by_name["bob@contoso.com"][0] == "2026-03-01"
        assert merged.refresh == {"active": "2026-03-09"}
    finally:
        retried.close()
        inline.close()


def test_a_report_missing_a_column_is_one_sentence_and_the_next_report_still_parses() -> None:
    parser = ProcessParser()
    try:
        with pytest.raises(
            GraphError, match=r"^Graph's mailbox usage report has no column 'Storage Used \(Byte\)'\.$"
        ):
            parser.add("mailbox", [b"User Principal Name,Last Activity Date,Has Archive\n", b"a@b.c,,\n"],
                       "mailbox usage", _never_stop)  # fmt: skip
        parser.add("active", [ACTIVE], "active", _never_stop)
        assert set(parser.result().by_name) == {"ann@contoso.com", "bob@contoso.com"}
    finally:
        parser.close()
    assert not alive(parser.pid)


def test_a_parser_that_dies_is_one_sentence() -> None:
    parser = ProcessParser()
    try:
        os.kill(parser.pid, signal.SIGKILL)  # what the OOM killer would do
        with pytest.raises(LicenseDeskError, match=r"^The process parsing the active report stopped \(exit code -9\); "
                           r"run the collection again\.$"):  # fmt: skip
            parser.add("active", [ACTIVE], "active", _never_stop)
    finally:
        parser.close()


def test_a_killed_collector_leaves_no_parser_behind() -> None:
    """A cron job's collector killed mid-report: its parser sees the pipe close and exits."""
    script = (
        "import sys\n"
        "from collectors.usage_process import ProcessParser\n"
        "parser = ProcessParser()\n"
        "print(parser.pid, flush=True)\n"
        "parser.add('active', iter([b'Report Refresh Date,User Principal Name\\n']), 'active', lambda: None)\n"
        "sys.stdin.read()\n"
    )
    assert child_left_by_a_killed_parent(script) is None


def test_the_reports_are_parsed_here_when_the_first_arrives_in_one_read_else_in_the_process() -> None:
    """A process costs ~70 ms of CPU to start: a tenant whose active-users report comes in one
    read (up to 1 MiB) is parsed in the reports' thread, a larger one in the parser process; the
    rows are the same either way."""
    small, large = SizedParser(), SizedParser()
    try:
        small.add("active", iter([ACTIVE]), "active", _never_stop)
        large.add("active", iter([ACTIVE[:40], ACTIVE[40:]]), "active", _never_stop)
        assert not small.in_process and large.in_process
        assert small.result() == large.result()
        assert set(small.result().by_name) == {"ann@contoso.com", "bob@contoso.com"}
    finally:
        small.close()
        large.close()


def test_a_small_tenants_collection_starts_no_parser_process(tmp_path: Path) -> None:
    parsers: list[int] = []

    def count(progress: Progress) -> None:
        parsers.extend(pid for pid in children_running("collectors.usage_process", "collectors.page_process"))

    with GraphSimulator(users=400, seed=9) as sim:
        summary = run_collection(simulator_settings(sim, str(tmp_path / "s.sqlite")), progress=count)
    assert summary.users == 400 and parsers == []
    with open_store(str(tmp_path / "s.sqlite")) as store:
        reports = load_usage_reports(store, summary.snapshot_id)
    assert set(reports["status"]) == {"ok"}  # the reports were read, here


def test_a_large_result_comes_back_whole_in_slices() -> None:
    """25,001 users: three slices of rows and the outcomes; every row as parsing here gives it."""
    header, _, _ = ACTIVE.partition(b"\n")
    lines = [f"2026-03-09,user{n}@contoso.com,2026-03-{1 + n % 28:02d},,,,".encode() for n in range(25_001)]
    body = header + b"\n" + b"\n".join(lines) + b"\n"
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    parser, here = ProcessParser(), InlineParser()
    try:
        for each in (parser, here):
            each.add("active", iter(chunks), "active", _never_stop)
        merged = parser.result()
    finally:
        parser.close()
    assert len(merged.by_name) == 25_001
    assert merged == here.result()
    assert merged.by_name["user29@contoso.com"][0] == "2026-03-02"  # 1 + 29 % 28 = 2
    assert merged.refresh == {"active": "2026-03-09"}
