"""The five usage reports merged into one row per lower-cased user principal name.

This is the CPU-bound part of reading the reports (a 100,000-user set is half a million CSV
rows), so it is kept light enough to run in a process of its own (``collectors.usage_process``):
it imports the CSV reader and the errors, never the HTTP client, the store or pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from collectors.usage_csv import HOLD_QUOTA, ReportReader

# report key -> (function, on Graph's beta endpoint only), in the order they are read and merged
REPORTS: dict[str, tuple[str, bool]] = {
    "active": ("getOffice365ActiveUserDetail", False),
    "apps": ("getM365AppUserDetail", False),
    "mailbox": ("getMailboxUsageDetail", False),
    "onedrive": ("getOneDriveUsageAccountDetail", False),
    "copilot": ("getMicrosoft365CopilotUsageUserDetail", True),
}
# A merged row: store.usage.USAGE_COLUMNS after user_id and report_date (these 14), then one bit
# per report naming the user. Not imported from the store, which would bring pandas into the
# parsing process; tests/collectors/test_usage_process.py checks the two agree.
SEEN = 14
BIT = {key: 1 << i for i, key in enumerate(REPORTS)}


def _fill_active(row: list[Any], v: tuple[Any, ...]) -> None:
    row[0:5] = v  # Exchange, OneDrive, SharePoint, Teams, Yammer


def _fill_apps(row: list[Any], v: tuple[Any, ...]) -> None:
    apps_at, windows, mac, mobile, web = v
    row[5:8] = apps_at, int(bool(windows or mac)), int(bool(mobile or web))


def _fill_mailbox(row: list[Any], v: tuple[Any, ...]) -> None:
    at, size, archive, quota, recipient = v
    row[0] = row[0] or at  # the active-users report's Exchange date wins; it comes first
    row[9:13] = (
        recipient,
        size,
        archive,
        None if quota is None else int(isinstance(quota, int) and quota >= HOLD_QUOTA),
    )


def _fill_onedrive(row: list[Any], v: tuple[Any, ...]) -> None:
    at, size = v
    row[1] = row[1] or at
    row[13] = size


def _fill_copilot(row: list[Any], v: tuple[Any, ...]) -> None:
    row[8] = v[0]


_FILL = {"active": _fill_active, "apps": _fill_apps, "mailbox": _fill_mailbox, "onedrive": _fill_onedrive,
         "copilot": _fill_copilot}  # fmt: skip


@dataclass
class MergedReports:
    """One row per lower-cased principal name across the reports (a 100,000-user set held as five
    dicts of its own costs ~150 MB, merged ~35 MB), each report's refresh date, and whether any
    names were concealed."""

    by_name: dict[str, list[Any]] = field(default_factory=dict)
    refresh: dict[str, str | None] = field(default_factory=dict)
    concealed: bool = False

    def add(self, key: str, lines: Iterable[str], what: str, check: Callable[[], None] | None = None) -> None:
        """One report's CSV lines, merged in as they stream (the reports in ``REPORTS`` order);
        ``check`` is called every thousand rows and may raise to stop the reading.

        Raises:
            GraphError: the header lacks a column the report must have.
        """
        reader = ReportReader(key, lines, what)
        fill, bit, by_name = _FILL[key], BIT[key], self.by_name
        for number, (name, values) in enumerate(reader):
            if check is not None and not number & 1023:
                check()
            row = by_name.get(name)
            if row is None:
                row = by_name[name] = [None] * SEEN + [0]
            row[SEEN] |= bit
            fill(row, values)
        self.refresh[key] = reader.refresh_date
        self.concealed = self.concealed or reader.concealed

    def update(self, other: MergedReports) -> None:
        """Take ``other``'s rows and outcomes (the reports were read elsewhere, into it)."""
        self.by_name.update(other.by_name)
        self.refresh.update(other.refresh)
        self.concealed = self.concealed or other.concealed
