"""A Graph stand-in that costs next to nothing to serve, so a benchmark measures only the client.

``graphsim`` builds every user page as it is asked for (about 10 s of its own CPU per 100,000
users), and on a 2-core machine that CPU is taken from the collector it serves: the floor and the
collector are slowed alike and their ratio hides the collector's cost. Real Graph's cost, seen
from the client, is latency, not our CPU. So this server renders the tenant's user pages once, at
start-up, as whole HTTP responses (headers and body bytes, nextLinks pointing back at itself with
opaque skiptokens), and then only writes those bytes to the socket (TLS included: that is the
real network's cost too).

The usage reports are rendered once at start-up too (graphsim builds a 100,000-row CSV per
request, about 3 s of CPU each, which would again be taken from the collector): each report call
answers Graph's 302 to a pre-authenticated download on this server, and the download is the CSV's
bytes.

Everything else the collector reads (sign-in through Entra, ``/subscribedSkus``,
``/directory/subscriptions``, ``/groups``, ``membersWithLicenseErrors``, ``$batch``) is a handful of
small requests: they are answered by a ``graphsim`` simulator of the same tenant running in this
process, forwarded verbatim. The tenant's sign-in endpoint is that simulator's own, so the ready
line's ``authority_url`` points at it.

``--churn F`` renders a next day as well, served after ``POST /fastgraph/day`` (body ``1``): F of
the users have signed in again, and every usage report was refreshed a day later, so each user's
usage row is new (as every day's are against Graph: its "Report Refresh Date" is on every row).

Run it as its own process (as Graph is remote), like ``license-desk simulator``:

    .venv/bin/python benchmarks/fastgraph.py --users 100000 [--delay 0.2] [--gzip] [--churn 0.7]

It prints one JSON line when ready, with the keys of ``license-desk simulator``'s ready line.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import random
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import requests
import trustme

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.usage import PERIOD  # noqa: E402
from collectors.usage_rows import REPORTS  # noqa: E402
from collectors.users import PAGE_SIZE, SIGNIN_FIELD, USER_FIELDS  # noqa: E402
from graphsim.server import GraphSimulator  # noqa: E402

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
USER_QUERY = {"$select": f"{USER_FIELDS},{SIGNIN_FIELD}", "$top": str(PAGE_SIZE)}


def page_key(query: str) -> frozenset[tuple[str, str]]:
    """A request's query string as an order-free key (requests may order parameters differently)."""
    return frozenset(parse_qsl(query, keep_blank_values=True))


class FastGraph:
    """The tenant's user pages pre-rendered, and a graphsim of the same tenant for the rest."""

    def __init__(
        self, users: int, seed: int, *, delay: float = 0.0, compress: bool = False, churn: float = 0.0
    ) -> None:
        self.delay = delay
        self.compress = compress
        self.churn = churn
        self.sim = GraphSimulator(users=users, seed=seed).start()
        self._tmp = tempfile.mkdtemp(prefix="fastgraph-")
        ca = trustme.CA(organization_name="fastgraph throwaway CA")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        # One bundle for both servers: the collector verifies Entra (graphsim) and Graph (us).
        self.ca_bundle = os.path.join(self._tmp, "ca.pem")
        Path(self.ca_bundle).write_bytes(ca.cert_pem.bytes() + Path(self.sim.ca_bundle).read_bytes())
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.server.fast = self  # type: ignore[attr-defined]
        self.origin = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.pages: dict[frozenset[tuple[str, str]], bytes] = {}
        # With --churn, the pages of the next day too: served after POST /fastgraph/day (body "1").
        self.days = [self.pages, {}] if churn else [self.pages]
        self.day = 0
        self.page_bytes = 0
        # request path -> whole response: each report's 302, and the download it points at
        self.reports: dict[str, bytes] = {}
        # With --churn, the next day's downloads (the 302s are the same): refreshed a day later.
        self.report_days = [self.reports, {}] if churn else [self.reports]
        self.report_bytes = 0
        session, token = self._signed_in()
        self._render_pages(session, token)
        self._render_reports(session, token)
        session.close()

    def _signed_in(self) -> tuple[requests.Session, str]:
        session = requests.Session()
        session.trust_env = False
        token = session.post(
            f"{self.sim.authority_url}/{self.sim.tenant_id}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": self.sim.client_id,
                  "client_secret": self.sim.client_secret, "scope": GRAPH_SCOPE},
            verify=self.sim.ca_bundle, timeout=60,
        ).json()["access_token"]  # fmt: skip
        return session, str(token)

    def _render_reports(self, session: requests.Session, token: str) -> None:
        """Each usage report the collector asks for, fetched from graphsim once (redirect and
        download), kept as Graph's 302 and the download's 200."""
        for key, (function, beta) in REPORTS.items():
            path = f"/{'beta' if beta else 'v1.0'}/reports/{function}(period='{PERIOD}')"
            if beta:
                path += "?$format=text/csv"
            answer = session.get(
                f"{self.sim.authority_url}{path}",
                headers={"Authorization": f"Bearer {token}"},
                verify=self.sim.ca_bundle,
                timeout=600,
            )
            answer.raise_for_status()
            download = f"/reports-download/fastgraph-{key}.csv"
            self.reports[path] = (
                b"HTTP/1.1 302 Found\r\nLocation: " + f"{self.origin}{download}".encode()
                + b"\r\nContent-Length: 0\r\n\r\n"
            )  # fmt: skip
            self.reports[download] = self._response(
                answer.content, "application/octet-stream", compress=False
            )
            if self.churn:
                self.report_days[1][download] = self._response(
                    _refreshed_a_day_later(answer.content), "application/octet-stream", compress=False
                )
            self.report_bytes += len(answer.content)

    def _render_pages(self, session: requests.Session, token: str) -> None:
        """Fetch every user page from graphsim once and keep it as a finished HTTP response."""
        url: str | None = f"{self.sim.graph_url}/users"
        params: dict[str, str] | None = USER_QUERY
        key = page_key(requests.Request("GET", url, params=params).prepare().path_url.partition("?")[2])
        number = 0
        rng = random.Random(7)
        day_key = key  # the next day's key of this page: the same first query, then "fh" tokens
        while url:
            body = session.get(
                url,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                verify=self.sim.ca_bundle,
                timeout=600,
            ).json()
            next_link = body.get("@odata.nextLink")
            next_key = None
            if next_link:
                number += 1
                # Opaque to the client, as Graph's are; the simulator's own token stays ours.
                body["@odata.nextLink"] = f"{self.origin}/v1.0/users?$skiptoken=fg{number:05d}"
                next_key = page_key(f"$skiptoken=fg{number:05d}")
            payload = json.dumps(body, separators=(",", ":")).encode()
            self.page_bytes += len(payload)
            self.pages[key] = self._response(payload)
            if self.churn:
                self.days[1][day_key] = self._response(self._next_day(body, number, rng))
                day_key = page_key(f"$skiptoken=fh{number:05d}")
            url, params = next_link, None
            if next_key is not None:
                key = next_key

    def _next_day(self, body: dict[str, Any], number: int, rng: random.Random) -> bytes:
        """The page a day later: ``churn`` of its users have signed in again (interactively and
        not), the one change most users show from one day to the next; its links are the next
        day's (``fh`` skiptokens), so a sweep never mixes the two days."""
        moved = []
        for user in body["value"]:
            activity = user.get("signInActivity")
            if isinstance(activity, dict) and rng.random() < self.churn:
                user = {**user, "signInActivity": {**activity, "lastSignInDateTime": "2026-12-04T08:00:00Z",
                        "lastNonInteractiveSignInDateTime": "2026-12-04T08:30:00Z"}}  # fmt: skip
            moved.append(user)
        day = {**body, "value": moved}
        if "@odata.nextLink" in body:
            day["@odata.nextLink"] = f"{self.origin}/v1.0/users?$skiptoken=fh{number:05d}"
        return json.dumps(day, separators=(",", ":")).encode()

    def _response(
        self, payload: bytes, content_type: str = "application/json; odata.metadata=minimal", *,
        compress: bool | None = None,
    ) -> bytes:  # fmt: skip
        headers = [b"HTTP/1.1 200 OK", b"Content-Type: " + content_type.encode()]
        if self.compress if compress is None else compress:
            payload = gzip.compress(payload, compresslevel=6)
            headers.append(b"Content-Encoding: gzip")
        headers.append(b"Content-Length: " + str(len(payload)).encode())
        return b"\r\n".join(headers) + b"\r\n\r\n" + payload

    def serve(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True, name="fastgraph").start()

    def ready_info(self) -> dict[str, Any]:
        info: dict[str, Any] = dict(self.sim.ready_info())
        info.update(graph_url=f"{self.origin}/v1.0", ca_bundle=self.ca_bundle)
        info.update(pages=len(self.pages), page_bytes=self.page_bytes, users=len(self.sim.tenant.users))
        info.update(report_bytes=self.report_bytes)
        return info

    def close(self) -> None:
        self.server.shutdown()
        self.sim.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)  # the CA bundle: each run left its directory behind


def _refreshed_a_day_later(content: bytes) -> bytes:
    """A usage report as Graph gives it the next day: its "Report Refresh Date" one day on, so
    every row differs from the day before, as each day's reports do (activity dates aside)."""
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    column = rows[0].index("Report Refresh Date")
    for row in rows[1:]:
        if row[column]:
            row[column] = (date.fromisoformat(row[column]) + timedelta(days=1)).isoformat()
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if content.startswith(b"\xef\xbb\xbf") else "").encode() + out.getvalue().encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    @property
    def fast(self) -> FastGraph:
        return self.server.fast  # type: ignore[attr-defined, no-any-return]

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/v1.0/users":
            page = self.fast.days[self.fast.day].get(page_key(query))
            if page is not None:
                if self.fast.delay:
                    time.sleep(self.fast.delay)
                self.wfile.write(page)
                return
        wanted = unquote(self.path)
        report = self.fast.report_days[self.fast.day].get(wanted) or self.fast.reports.get(wanted)
        if report is not None:
            self.wfile.write(report)
            return
        self._forward("GET", None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/fastgraph/day":  # the benchmark's switch between the two days (--churn)
            self.fast.day = min(int(body or b"0"), len(self.fast.days) - 1)
            self.wfile.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            return
        self._forward("POST", body)

    def do_PATCH(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._forward("PATCH", self.rfile.read(length))

    def _forward(self, method: str, body: bytes | None) -> None:
        """Anything but a user page: graphsim answers it, links rewritten to point here."""
        sim = self.fast.sim
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
        answer = requests.request(
            method,
            f"{sim.authority_url}{self.path}",
            data=body,
            headers=headers,
            verify=sim.ca_bundle,
            timeout=120,
        )
        payload = answer.content.replace(sim.authority_url.encode(), self.fast.origin.encode())
        self.send_response(answer.status_code)
        for name in ("Content-Type", "Retry-After", "request-id"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added before each user page")
    parser.add_argument("--gzip", action="store_true", help="serve user pages gzip-compressed")
    parser.add_argument(
        "--churn", type=float, default=0.0,
        help="also render the next day, with this share of users signed in again (POST /fastgraph/day)",
    )  # fmt: skip
    args = parser.parse_args()
    stop = threading.Event()
    # Before the pages are rendered (seconds at 100,000 users): a stop then still cleans up.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fast = FastGraph(args.users, args.seed, delay=args.delay, compress=args.gzip, churn=args.churn)
    fast.serve()
    print(json.dumps(fast.ready_info()), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    fast.close()


if __name__ == "__main__":
    main()
