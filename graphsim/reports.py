"""Graph's usage-report surface: /reports/get...(period='Dn') answering 302 to a pre-authenticated
download, the download itself, /admin/reportSettings, and the reports' own throttling.

Why a separate download step: Graph never sends a report in the API call's answer. It redirects
(302, ``Location``) to a short-lived URL on another host that needs no ``Authorization`` header,
and a client that follows it blindly with its bearer token would hand the token to that host.
The simulator serves the download on its own origin under ``/reports-download/`` and ignores any
token sent there, so the product's choice to drop it is its own.

Throttling: each report accepts 14 requests per 10 minutes per tenant (Graph's documented
report limit); the 15th in the window gets 429 with ``Retry-After`` until the oldest leaves it.
``clock`` (real seconds plus the tenant's simulated time) is injectable so tests can move time
instead of waiting.
Imports graphsim.calls, graphsim.errors, graphsim.state and graphsim.usage.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from graphsim.calls import ApiRequest, ApiResponse, need
from graphsim.errors import GraphError, bad_request, method_not_allowed
from graphsim.state import TenantState
from graphsim.usage import REPORTS, report_lines

REPORTS_READ = frozenset({"Reports.Read.All"})
SETTINGS_READ = frozenset({"ReportSettings.Read.All", "ReportSettings.ReadWrite.All"})
LIMIT = 14
WINDOW = 600.0
DOWNLOAD_TTL = 300.0  # "valid for a short period of time (a few minutes)"
DOWNLOAD_PREFIX = "/reports-download/"
_CALL = re.compile(r"^(?P<name>[A-Za-z0-9]+)\((?P<param>period|date)=(?P<value>'[^']*'|[^)']*)\)$")


class ReportService:
    """Report calls, their downloads and their per-report limit for one tenant."""

    def __init__(self, tenant: TenantState, clock: Callable[[], float] | None = None) -> None:
        self.tenant = tenant
        # Real seconds plus the tenant's simulated time: a demo that collects once per simulated
        # day (42 collections in a minute) is never throttled, a burst within one day is.
        self.clock = clock or (lambda: tenant.now.timestamp() + time.monotonic())
        self.origin = ""
        self.limit: int | None = LIMIT  # None: unthrottled (a test tenant shared by a whole suite)
        self._calls: dict[str, deque[float]] = {}
        self._downloads: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def settings(self, req: ApiRequest, base_url: str) -> ApiResponse:
        """GET /admin/reportSettings (needs ReportSettings.Read.All)."""
        if req.method != "GET":
            raise method_not_allowed()
        need(req, SETTINGS_READ)
        body = {
            "@odata.context": f"{base_url}/$metadata#admin/reportSettings/$entity",
            "@odata.type": "#microsoft.graph.adminReportSettings",
            "id": "reportSettings",
            "displayConcealedNames": self.tenant.concealed_names,
        }
        return ApiResponse(200, body)

    def report(self, req: ApiRequest, segment: str, version: str) -> ApiResponse:
        """GET /reports/<function>(period='Dn'): 302 to the CSV, after checks and the limit."""
        if req.method != "GET":
            raise method_not_allowed()
        need(req, REPORTS_READ)
        call = _CALL.match(unquote(segment))
        spec = REPORTS.get(call.group("name").lower()) if call else None
        if call is None or spec is None:
            raise bad_request(f"Resource not found for the segment '{segment}'.", code="BadRequest")
        if spec.beta_only and version != "beta":
            raise bad_request(f"Resource not found for the segment '{spec.name}'.", code="BadRequest")
        if call.group("param") != "period":
            raise bad_request("The simulator answers usage reports by period only.", code="BadRequest")
        value = call.group("value")
        period = value[1:-1] if value.startswith("'") else ""
        if period not in spec.periods:
            raise bad_request(f"Invalid value '{value}' for the period parameter.", code="BadRequest")
        fmt = req.query.get("$format", "" if not spec.beta_only else "application/json").lower()
        if set(req.query) - {"$format"}:
            raise bad_request("Query option not supported by this report.", code="BadRequest")
        if fmt not in ("", "text/csv"):
            raise bad_request("The simulator serves usage reports as text/csv only.", code="BadRequest")
        self._count(spec.name)
        with self.tenant.lock:
            data = "".join(report_lines(self.tenant, spec, period)).encode("utf-8")
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self.clock()
            self._downloads = {k: v for k, v in self._downloads.items() if v[0] > now}
            self._downloads[token] = (now + DOWNLOAD_TTL, data)
        return ApiResponse(302, None, {"Location": f"{self.origin}{DOWNLOAD_PREFIX}{token}",
                                       "Content-Type": "text/plain"})  # fmt: skip

    def _count(self, name: str) -> None:
        with self._lock:
            now = self.clock()
            calls = self._calls.setdefault(name, deque())
            while calls and calls[0] <= now - WINDOW:
                calls.popleft()
            if self.limit is not None and len(calls) >= self.limit:
                wait = max(1, int(calls[0] + WINDOW - now + 0.999))
                raise GraphError(
                    429, "TooManyRequests", "Too many requests for this report. Please try again later.",
                    {"Retry-After": str(wait)},
                )  # fmt: skip
            calls.append(now)

    def download(self, path: str) -> tuple[int, Any, dict[str, str]]:
        """The pre-authenticated download: the CSV bytes, or 404 once expired or unknown."""
        token = path[len(DOWNLOAD_PREFIX) :]
        with self._lock:
            entry = self._downloads.get(token)
            if entry is None or entry[0] <= self.clock():
                return 404, b"The report download link has expired.", {"Content-Type": "text/plain"}
        return 200, entry[1], {"Content-Type": "application/octet-stream"}
