"""Microsoft 365 usage reports (application permission Reports.Read.All), per user.

Five reports over the last 30 days: active users (last activity per workload), Microsoft 365 apps
(desktop vs web and mobile), mailbox usage (recipient type, storage, archive, hold), OneDrive
usage and Microsoft 365 Copilot usage (Graph's beta endpoint, the only one it has). Each answers
302 with a short-lived pre-authenticated download: the redirect is followed by hand, without
the bearer token (the download's host is not Graph's), and the CSV is parsed as it streams
(``collectors.usage_csv``). Both steps run under the client's one retry policy; a link that
expired or a download cut short starts the report again.

Rows are keyed by user principal name and joined to the users the sweep found, never by a
display name. When names are concealed (``GET /admin/reportSettings`` says so, or the rows carry
hashes) no row is joined at all. A 403 (no Reports.Read.All) becomes one warning and no usage;
any other failure fails the collection, so a snapshot never holds half its usage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from collectors.graph import GraphClient
from collectors.retry import TransientError, graph_give_up, parse_retry_after, transport_errors
from collectors.usage_csv import HOLD_QUOTA, ParsedReport, parse_report, text_lines
from licensedesk.errors import GraphError, GraphPermissionError

PERIOD = "D30"
# report key -> (function, on Graph's beta endpoint only)
REPORTS: dict[str, tuple[str, bool]] = {
    "active": ("getOffice365ActiveUserDetail", False),
    "apps": ("getM365AppUserDetail", False),
    "mailbox": ("getMailboxUsageDetail", False),
    "onedrive": ("getOneDriveUsageAccountDetail", False),
    "copilot": ("getMicrosoft365CopilotUsageUserDetail", True),
}
FORBIDDEN_WARNING = (
    "Usage reports were not collected: the app lacks the application permission Reports.Read.All "
    "(grant it with admin consent); Reclaim uses sign-in activity only."
)
CONCEALED_WARNING = (
    "Usage reports conceal user names (Microsoft 365 admin center: Settings > Org settings > Reports, "
    '"Display concealed user, group, and site names in all reports"), so no usage is joined to users '
    "and Reclaim uses sign-in activity only."
)
_CHUNK = 1 << 16


@dataclass
class UsageResult:
    """What the reports gave: rows in ``store.usage.USAGE_COLUMNS`` order, each report's outcome
    (``store.usage.REPORT_COLUMNS``), warnings, and whether names were concealed."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    concealed: bool = False


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


def fetch_report(client: GraphClient, key: str) -> ParsedReport:
    """One report, parsed; the redirect and the download retried as one request."""
    url = client.url(report_url(client, key))
    what = f"{REPORTS[key][0]} usage"
    return client.with_retries(lambda: _fetch_once(client, key, url, what), graph_give_up(what))


def _transient(response: requests.Response, what: str) -> TransientError:
    response.close()
    return TransientError(
        f"{what} answered {response.status_code}",
        status=response.status_code,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _fetch_once(client: GraphClient, key: str, url: str, what: str) -> ParsedReport:
    with transport_errors(what):
        answer = client.open("GET", url, what=what, allow_redirects=False)
        if answer.status_code not in (301, 302, 303, 307, 308):
            return parse_report(key, text_lines(answer.iter_content(_CHUNK)), what)
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
            return parse_report(key, text_lines(download.iter_content(_CHUNK)), what)
        finally:
            download.close()


def _merge(parsed: Mapping[str, ParsedReport], ids: Mapping[str, str]) -> list[tuple[Any, ...]]:
    """One row per user found in any report, in ``store.usage.USAGE_COLUMNS`` order."""

    def get(key: str) -> dict[str, tuple[object, ...]]:
        return parsed[key].rows if key in parsed else {}

    active, apps, mailbox, onedrive, copilot = (get(k) for k in REPORTS)
    refreshed = max((p.refresh_date for p in parsed.values() if p.refresh_date), default=None)
    rows = []
    for upn in sorted(set(active) | set(apps) | set(mailbox) | set(onedrive) | set(copilot)):
        user_id = ids.get(upn)
        if user_id is None:
            continue  # deleted, or not a user the sweep saw: nobody to give it to
        a = active.get(upn, (None,) * 5)
        p = apps.get(upn)
        m = mailbox.get(upn)
        o = onedrive.get(upn)
        c = copilot.get(upn)
        desktop = None if p is None else int(bool(p[1] or p[2]))
        web_mobile = None if p is None else int(bool(p[3] or p[4]))
        quota = m[3] if m is not None else None
        rows.append((
            user_id, refreshed, a[0] or (m[0] if m else None), a[1] or (o[0] if o else None), a[2], a[3], a[4],
            p[0] if p else None, desktop, web_mobile, c[0] if c else None,
            m[4] if m else None, m[1] if m else None, m[2] if m else None,
            None if quota is None else int(isinstance(quota, int) and quota >= HOLD_QUOTA),
            o[1] if o else None,
        ))  # fmt: skip
    return rows


def collect_usage(client: GraphClient, ids_by_upn: Mapping[str, str]) -> UsageResult:
    """Every usage report, joined to the users (lower-cased UPN -> user id) the sweep found.

    Raises:
        LicenseDeskError: a report failed for another reason than a missing permission.
    """
    result = UsageResult()
    try:
        concealed = fetch_concealed_setting(client)
        parsed: dict[str, ParsedReport] = {}
        if not concealed:
            for key in REPORTS:
                parsed[key] = fetch_report(client, key)
    except GraphPermissionError:
        result.warnings.append(FORBIDDEN_WARNING)
        result.reports = [(key, "forbidden", None, 0, 0) for key in REPORTS]
        return result
    result.concealed = bool(concealed) or any(p.concealed for p in parsed.values())
    if result.concealed:
        result.warnings.append(CONCEALED_WARNING)
        result.reports = [(key, "concealed", parsed[key].refresh_date if key in parsed else None, 0, 0)
                          for key in REPORTS]  # fmt: skip
        return result
    result.rows = _merge(parsed, ids_by_upn)
    for key, report in parsed.items():
        matched = sum(1 for upn in report.rows if upn in ids_by_upn)
        status = "ok" if report.rows else "empty"
        result.reports.append((key, status, report.refresh_date, len(report.rows), matched))
    return result
