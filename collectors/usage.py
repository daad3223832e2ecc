"""Microsoft 365 usage reports (application permission Reports.Read.All), per user.

Five reports over the last 30 days: active users (last activity per workload), Microsoft 365 apps
(desktop vs web and mobile), mailbox usage (recipient type, storage, archive, hold), OneDrive
usage and Microsoft 365 Copilot usage (Graph's beta endpoint, the only one it has). Each answers
302 with a short-lived pre-authenticated download: the redirect is followed by hand, without
the bearer token (the download's host is not Graph's), and the CSV is parsed as it streams: in
the reports' thread for a small tenant, else in a process of its own (``collectors.usage_process``,
``usage_rows``, ``usage_csv``). Both steps run under the client's one retry policy; a link that expired or a download cut short starts the
report again.

Rows are keyed by user principal name and joined to the users the sweep found, never by a
display name. When names are concealed (``GET /admin/reportSettings`` says so, or the rows carry
hashes) no row is joined at all. A 403 (no Reports.Read.All) becomes one warning and no usage;
any other failure fails the collection, so a snapshot never holds half its usage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from collectors.graph import GraphClient
from collectors.retry import TransientError, graph_give_up, parse_retry_after, transport_errors
from collectors.usage_process import ReportParser, open_parser
from collectors.usage_rows import BIT, REPORTS, SEEN, MergedReports
from licensedesk.errors import GraphError, GraphPermissionError, LicenseDeskError

PERIOD = "D30"
FORBIDDEN_WARNING = (
    "Usage reports were not collected: the app lacks the application permission Reports.Read.All "
    "(grant it with admin consent); Reclaim uses sign-in activity only."
)
CONCEALED_WARNING = (
    "Usage reports conceal user names (Microsoft 365 admin center: Settings > Org settings > Reports, "
    '"Display concealed user, group, and site names in all reports"), so no usage is joined to users '
    "and Reclaim uses sign-in activity only."
)
# Large reads: each one needs the interpreter lock back from the user sweep, which holds it for
# up to the switch interval (5 ms) each time, so 64 KB reads made a report wait ~5 ms per 64 KB.
_CHUNK = 1 << 20


class StoppedError(LicenseDeskError):
    """The collection that asked for the reports has stopped (``FetchedUsage.stop``)."""


@dataclass
class UsageResult:
    """What the reports gave: rows in ``store.usage.USAGE_COLUMNS`` order, each report's outcome
    (``store.usage.REPORT_COLUMNS``), warnings, and whether names were concealed."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    concealed: bool = False


@dataclass
class FetchedUsage(MergedReports):
    """The reports as read, before the join to user ids (``MergedReports``), and whether they were
    forbidden; ``stop`` tells the reading to give up."""

    forbidden: bool = False
    stop: threading.Event = field(default_factory=threading.Event)  # set: give up reading

    def check_stopped(self) -> None:
        """Raise ``StoppedError`` once the collection that asked for the reports has stopped."""
        if self.stop.is_set():
            raise StoppedError("The collection stopped before the usage reports were read.")

    def add(self, key: str, lines: Iterable[str], what: str, check: Callable[[], None] | None = None) -> None:
        """One report's CSV lines merged in here, in this thread (stopping when ``stop`` is set)."""
        super().add(key, lines, what, check or self.check_stopped)


def report_url(client: GraphClient, key: str) -> str:
    function, beta = REPORTS[key]
    base = client.base_url.rsplit("/", 1)[0] + "/beta" if beta else client.base_url
    # Graph's default answer for the Copilot report is JSON; the others default to CSV.
    return f"{base}/reports/{function}(period='{PERIOD}')" + ("?$format=text/csv" if beta else "")


def fetch_concealed_setting(client: GraphClient) -> bool | None:
    """displayConcealedNames, or None when the app may not read it (ReportSettings.Read.All)."""
    try:
        body = client.get_json("admin/reportSettings")
    except GraphPermissionError:
        return None
    # Graph's own example wraps the object in "value"; the resource itself is flat.
    inner = body.get("value") if isinstance(body.get("value"), dict) else body
    value = inner.get("displayConcealedNames") if isinstance(inner, dict) else None
    return value if isinstance(value, bool) else None


def read_report(client: GraphClient, key: str, into: FetchedUsage, parser: ReportParser) -> None:
    """One report, streamed into ``parser`` (stopping when ``into`` is stopped); the redirect and
    the download retried as one request (a retry after a cut-off download fills the same rows
    with the same values)."""
    url = client.url(report_url(client, key))
    what = f"{REPORTS[key][0]} usage"

    def attempt() -> None:
        # Checked before every try too: a stopped collection must not sit out a report's
        # Retry-After (up to minutes) in a thread the process then waits for at exit.
        into.check_stopped()
        _fetch_once(client, url, what, lambda chunks: parser.add(key, chunks, what, into.check_stopped))

    client.with_retries(attempt, graph_give_up(what))


def _transient(response: requests.Response, what: str) -> TransientError:
    response.close()
    return TransientError(
        f"{what} answered {response.status_code}",
        status=response.status_code,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _fetch_once(client: GraphClient, url: str, what: str, consume: Callable[[Iterator[bytes]], None]) -> None:
    with transport_errors(what):
        answer = client.open("GET", url, what=what, allow_redirects=False)
        if answer.status_code not in (301, 302, 303, 307, 308):
            consume(answer.iter_content(_CHUNK))
            return
        location = answer.headers.get("Location", "")
        answer.close()
        if urlsplit(location).scheme != "https":
            raise GraphError(
                f"Graph's {what} report redirected to {urlsplit(location).scheme or 'no'} URL; only HTTPS is followed."
            )
        # Pre-authenticated: sending the bearer token to the download's host would leak it.
        client.stats.requests += 1
        download = client.session.get(location, stream=True, headers={"Authorization": None})
        if download.status_code != 200:
            # An expired link (or a passing fault) is asked for again, redirect and all.
            raise _transient(download, f"{what} download")
        try:
            consume(download.iter_content(_CHUNK))
        finally:
            download.close()


def fetch_usage(client: GraphClient, into: FetchedUsage | None = None) -> FetchedUsage:
    """Every usage report, read into one row per principal name (no user ids needed, so it can run
    beside the user sweep). A missing Reports.Read.All is ``forbidden``, not an error.

    Raises:
        LicenseDeskError: a report failed for another reason than a missing permission.
    """
    fetched = into or FetchedUsage()
    try:
        fetched.concealed = bool(fetch_concealed_setting(client))
        if not fetched.concealed:
            parser = open_parser()
            try:
                for key in REPORTS:
                    read_report(client, key, fetched, parser)
                fetched.update(parser.result())
            finally:
                parser.close()
    except GraphPermissionError:
        fetched.forbidden = True
    return fetched


class UsageJoin:
    """The usage rows joined to the users as both become known, handed to ``stage`` as they are.

    The reports are read beside the user sweep and are usually all in long before its last page
    (~4 s into a 100,000-user collection whose sweep takes 20 s or more against Graph), so each
    page's users are joined as the page comes, and the pages before the reports were ready are
    joined at once when they are: after the last page only the reports' outcomes are left.
    Each report row is joined once, to the first user with its principal name (Entra keeps
    them unique); a row whose name no user has is for someone deleted, or not a user the sweep
    saw, and is given to nobody. Nothing is joined when the reports were forbidden or concealed.
    """

    def __init__(self, stage: Callable[[list[tuple[Any, ...]]], None]) -> None:
        self._stage = stage
        self._usage: FetchedUsage | None = None
        self._waiting: list[tuple[str, str]] = []  # (lower-cased UPN, user id), until the reports are in
        self._refreshed: str | None = None
        self._named = dict.fromkeys(REPORTS, 0)
        self._matched = dict.fromkeys(REPORTS, 0)

    @property
    def has_reports(self) -> bool:
        return self._usage is not None

    def users(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Users of one page: (lower-cased principal name, user id)."""
        if self._usage is None:
            self._waiting.extend(pairs)
        else:
            self._join(pairs)

    def reports(self, usage: FetchedUsage) -> None:
        """The reports, once all are in: the users waiting for them are joined now."""
        self._usage = usage
        if usage.forbidden or usage.concealed:
            self._waiting = []
            return
        self._refreshed = max((d for d in usage.refresh.values() if d), default=None)
        for row in usage.by_name.values():
            for key, bit in BIT.items():
                if row[SEEN] & bit:
                    self._named[key] += 1
        waiting, self._waiting = self._waiting, []
        self._join(waiting)

    def _join(self, pairs: Iterable[tuple[str, str]]) -> None:
        usage = self._usage
        assert usage is not None
        if usage.forbidden or usage.concealed:
            return
        by_name, refreshed, matched = usage.by_name, self._refreshed, self._matched
        rows = []
        for name, user_id in pairs:
            row = by_name.pop(name, None)  # taken: a second user with the name gets none
            if row is None:
                continue
            for key, bit in BIT.items():
                if row[SEEN] & bit:
                    matched[key] += 1
            rows.append((user_id, refreshed, *row[:SEEN]))
        if rows:
            self._stage(rows)

    def finish(self) -> UsageResult:
        """Each report's outcome and the warnings (the rows went to ``stage``)."""
        usage = self._usage
        assert usage is not None, "reports() comes before finish()"
        result = UsageResult()
        if usage.forbidden:
            result.warnings.append(FORBIDDEN_WARNING)
            result.reports = [(key, "forbidden", None, 0, 0) for key in REPORTS]
        elif usage.concealed:
            result.concealed = True
            result.warnings.append(CONCEALED_WARNING)
            result.reports = [(key, "concealed", usage.refresh.get(key), 0, 0) for key in REPORTS]
        else:
            named, matched = self._named, self._matched
            result.reports = [(key, "ok" if named[key] else "empty", usage.refresh[key], named[key], matched[key])
                              for key in REPORTS if key in usage.refresh]  # fmt: skip
        return result


def join_usage(fetched: FetchedUsage, ids_by_upn: Mapping[str, str]) -> UsageResult:
    """The fetched rows joined to the users (lower-cased UPN -> user id) at once (``UsageJoin``),
    rows included. Takes the joined rows out of ``fetched.by_name``."""
    rows: list[tuple[Any, ...]] = []
    join = UsageJoin(rows.extend)
    join.users(ids_by_upn.items())
    join.reports(fetched)
    result = join.finish()
    result.rows = rows
    return result


def collect_usage(client: GraphClient, ids_by_upn: Mapping[str, str]) -> UsageResult:
    """Every usage report, joined to the users the sweep found (``fetch_usage``, then ``join_usage``)."""
    return join_usage(fetch_usage(client), ids_by_upn)
