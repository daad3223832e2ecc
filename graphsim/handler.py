"""The HTTP/1.1 + TLS layer: one connection thread per client, faults, identity vs Graph dispatch.

Why hand-rolled on http.server: it gives real sockets with keep-alive and Content-Length framing and
nothing hidden, so "drop" and "truncate" can break a connection exactly as a flaky network does.
TLS handshakes run in the connection's own thread (a slow client cannot stall accept()); bodies are
never logged (no secret can reach the log) and query values that carry credentials are redacted.
Imports graphsim.batch, graphsim.calls, graphsim.errors, graphsim.faults, graphsim.reports and (for types)
graphsim.auth and graphsim.routes; the simulator it serves is anything shaped like ``Simulator``
(graphsim.server.GraphSimulator, which imports this module).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from graphsim.batch import run_batch
from graphsim.calls import JSON_TYPE, ApiRequest, ApiResponse, LoggedRequest
from graphsim.errors import FAULT_ERRORS, GraphError, graph_error_body, method_not_allowed, throttled_body
from graphsim.faults import FaultRule, Faults
from graphsim.reports import DOWNLOAD_PREFIX

if TYPE_CHECKING:
    from graphsim.auth import IdentityProvider, IssuedToken
    from graphsim.routes import GraphApi
    from graphsim.throttling import Meter

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
SECRET_PARAMS = frozenset({"client_secret", "client_assertion", "access_token", "code", "password"})
Answer = tuple[int, Any, dict[str, str]]


class Simulator(Protocol):
    """What the HTTP layer needs of the simulator it serves."""

    idp: IdentityProvider
    api: GraphApi
    faults: Faults
    server_errors: list[str]
    meter: Meter | None

    @property
    def graph_url(self) -> str: ...

    def api_for(self, tenant_id: str) -> GraphApi: ...

    def report_download(self, path: str) -> tuple[int, Any, dict[str, str]]: ...

    def log_request(
        self, method: str, path: str, query: dict[str, str], *, write: bool, item: str | None = None,
        client_id: str | None = None,
    ) -> LoggedRequest: ...  # fmt: skip

    def log_done(self, entry: LoggedRequest, status: int) -> None: ...


def redacted(query: dict[str, str]) -> dict[str, str]:
    """The query as logged: credential-bearing values replaced."""
    return {k: ("***" if k.lower() in SECRET_PARAMS else v) for k, v in query.items()}


def has_writes(body: bytes) -> bool:
    """Whether a $batch body holds any item other than a GET."""
    try:
        items = json.loads(body or b"null").get("requests", [])
        return any(str(i.get("method", "GET")).upper() != "GET" for i in items if isinstance(i, dict))
    except (ValueError, AttributeError):
        return False


class TLSServer(ThreadingHTTPServer):
    """Accepts TCP connections and wraps them in TLS (handshake deferred to the handler thread)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: Simulator, context: ssl.SSLContext) -> None:
        self.sim = sim
        self.context = context
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(address, GraphRequestHandler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.sim.server_errors.append(traceback.format_exc())

    def close_connections(self) -> None:
        with self.conn_lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class GraphRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "graphsim"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed after this

    @property
    def sim(self) -> Simulator:
        return cast(TLSServer, self.server).sim

    def setup(self) -> None:
        server = cast(TLSServer, self.server)
        with server.conn_lock:
            server.connections.add(self.request)
        self.request.settimeout(self.timeout)
        # Headers and body are two writes: without TCP_NODELAY, Nagle's algorithm and the client's
        # delayed ACK stall every answer by 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
        super().setup()

    def finish(self) -> None:
        server = cast(TLSServer, self.server)
        with server.conn_lock:
            server.connections.discard(self.request)
        try:
            super().finish()
        except (ssl.SSLError, OSError):
            pass

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silent: the simulator keeps its own request log."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        sim = self.sim
        split = urlsplit(self.path)
        raw_path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        request_id = str(uuid.uuid4())
        ids = {"request-id": request_id, "client-request-id": headers.get("client-request-id") or request_id}
        version = "beta" if raw_path.startswith("/beta/") else "v1.0"
        download = raw_path.startswith(DOWNLOAD_PREFIX)
        identity = not (raw_path == "/v1.0" or raw_path.startswith(("/v1.0/", "/beta/")) or download)
        is_batch = raw_path.rstrip("/") == "/v1.0/$batch"
        write = (method in WRITE_METHODS and not identity and not is_batch) or (is_batch and has_writes(body))
        entry = sim.log_request(method, unquote(raw_path), redacted(query), write=write)
        try:
            rule = sim.faults.pick(unquote(raw_path), identity=identity)
            if rule is not None and rule.kind == "slow":
                time.sleep(rule.delay)
                rule = None
            if rule is not None and rule.kind in ("drop", "truncate"):
                self._connection_fault(rule, method, raw_path, query, headers, body, ids, identity, entry)
                return
            if rule is not None:
                status, payload, extra = self._status_fault(rule, identity, ids)
            elif download:  # pre-authenticated: whatever token came along is ignored
                status, payload, extra = sim.report_download(unquote(raw_path))
            elif identity:
                status, payload, extra = self._identity(method, raw_path, body, entry)
            else:
                status, payload, extra = self._graph(
                    method, raw_path, query, headers, body, ids, entry, is_batch, version
                )
        except Exception:  # never leak a traceback to the client; tests read sim.server_errors
            sim.server_errors.append(traceback.format_exc())
            status, payload, extra = 500, graph_error_body(*FAULT_ERRORS[500], *ids.values()), {}
        sim.log_done(entry, status)  # before the bytes go out: a client holding its answer sees it logged
        self._send(status, payload, {**ids, **extra}, json_type=not identity)

    def _send(
        self, status: int, payload: Any, headers: dict[str, str], *, json_type: bool, cut: bool = False
    ) -> None:
        raw = isinstance(payload, bytes)
        data = (
            b""
            if payload is None
            else payload
            if raw
            else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        )
        self.send_response(status)
        if payload is not None and not raw:
            self.send_header("Content-Type", JSON_TYPE if json_type else "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-cache" if json_type else "no-store, no-cache")
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if cut else data)
        if cut:
            self.wfile.flush()
            self.close_connection = True

    def _status_fault(self, rule: FaultRule, identity: bool, ids: dict[str, str]) -> Answer:
        extra = {"Retry-After": h} if (h := rule.retry_after_header()) is not None else {}
        if identity:
            description = "AADSTS90033: A transient error has occurred. Please try again."
            return rule.status, {"error": "temporarily_unavailable", "error_description": description,
                                 "error_codes": [90033]}, extra  # fmt: skip
        if rule.kind == "throttle":
            return 429, throttled_body(*ids.values()), extra
        return rule.status, graph_error_body(*FAULT_ERRORS[rule.status], *ids.values()), extra

    def _connection_fault(
        self, rule: FaultRule, method: str, raw_path: str, query: dict[str, str], headers: dict[str, str],
        body: bytes, ids: dict[str, str], identity: bool, entry: LoggedRequest,
    ) -> None:  # fmt: skip
        """drop: close without a byte; truncate: a 200 whose body stops halfway (Graph writes never run).

        A truncated sign-in answer is the real one cut short: discovery has no side effect, and a
        token issued but never delivered is what a connection lost on the way back looks like.
        """
        sim = self.sim
        self.close_connection = True
        if rule.kind == "drop":
            sim.log_done(entry, 0)
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        payload: Any = {"@odata.context": f"{sim.graph_url}/$metadata", "value": []}
        if identity:
            status, full, _ = self._identity(method, raw_path, body, entry)
            payload = full if status == 200 else payload
        elif raw_path.startswith(DOWNLOAD_PREFIX):
            status, full, extra = sim.report_download(unquote(raw_path))
            sim.log_done(entry, 200)
            self._send(200, full, {**ids, **extra}, json_type=False, cut=True)
            return
        elif method == "GET":  # a read has no side effect: cut its real answer
            status, full, _ = self._graph(method, raw_path, query, headers, body, ids, entry, False)
            payload = full if status == 200 else payload
        sim.log_done(entry, 200)
        self._send(200, payload, ids, json_type=not identity, cut=True)

    def _identity(self, method: str, raw_path: str, body: bytes, entry: LoggedRequest) -> Answer:
        idp = self.sim.idp
        parts = [unquote(p) for p in raw_path.split("/") if p]
        rest = [p.lower() for p in parts[1:]]
        if method == "GET" and rest == ["v2.0", ".well-known", "openid-configuration"]:
            return (*idp.openid_configuration(parts[0]), {})
        if method == "GET" and rest == ["discovery", "v2.0", "keys"]:
            return 200, {"keys": []}, {}
        if method == "POST" and rest == ["oauth2", "v2.0", "token"]:
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            entry.client_id = form.get("client_id", "").lower() or None  # an id, not a secret
            return (*idp.token(parts[0], form), {})
        return 404, {"error": "not_found", "error_description": f"No such endpoint: {raw_path}"}, {}

    def _graph(
        self, method: str, raw_path: str, query: dict[str, str], headers: dict[str, str], body: bytes,
        ids: dict[str, str], entry: LoggedRequest, is_batch: bool, version: str = "v1.0",
    ) -> Answer:  # fmt: skip
        sim = self.sim
        try:
            token = sim.idp.bearer(headers.get("authorization"))
            entry.client_id = token.client_id
            permissions = token.permissions
            if is_batch:
                if method != "POST":
                    raise method_not_allowed()
                resp = run_batch(body, lambda m, u, h, b, no: run_item(sim, m, u, h, b, token, no))
                entry.write = False  # the items ran and are logged (and counted) one by one
                return resp.status, resp.body, resp.headers
            path = raw_path[len(version) + 1 :]
            metered = meter(sim, token, method, path, query, ids)
            if metered is not None and metered.status == 429:
                return metered.status, metered.body, metered.headers
            resp = sim.api_for(token.tenant_id).handle(
                ApiRequest(method, path, query, headers, body, permissions, version)
            )
            return resp.status, resp.body, {**resp.headers, **(metered.headers if metered else {})}
        except GraphError as exc:
            return exc.status, graph_error_body(exc.code, exc.message, *ids.values()), exc.headers


def meter(
    sim: Simulator, token: IssuedToken, method: str, path: str, query: dict[str, str], ids: dict[str, str]
) -> ApiResponse | None:
    """Charge a read to Graph's throttling budgets (when metered): a 429 answer when over them, else
    an empty answer carrying the headers the real answer gets. Writes are not metered."""
    if sim.meter is None or method != "GET":
        return None
    verdict = sim.meter.charge(token.client_id, token.tenant_id or sim.idp.tenant_id, path, query)
    if verdict.retry_after is not None:
        return ApiResponse(429, throttled_body(*ids.values()), verdict.headers)
    return ApiResponse(200, None, verdict.headers)


def run_item(
    sim: Simulator, method: str, url: str, headers: dict[str, str], body: bytes, token: IssuedToken,
    refusal: ApiResponse | None,
) -> ApiResponse:  # fmt: skip
    """One $batch item: logged, faulted (status kinds, slow and omit) and routed like a direct call.

    omit runs the item for real and then leaves its answer out of the batch's answer, as when
    Graph loses an item's response: a write so omitted did change the tenant.
    """
    split = urlsplit("/" + url.lstrip("/"))
    path = "/v1.0" + split.path
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    entry = sim.log_request(
        method, unquote(path), redacted(query), write=method != "GET", item=url, client_id=token.client_id
    )
    rid = str(uuid.uuid4())
    base = {"Content-Type": JSON_TYPE}
    if refusal is not None:  # refused by the batch rules before it could run
        resp = ApiResponse(refusal.status, refusal.body, {**base, **refusal.headers})
        sim.log_done(entry, resp.status)
        return resp
    rule = sim.faults.pick(unquote(path), in_batch=True)
    if rule is not None and rule.kind == "slow":
        time.sleep(rule.delay)
        rule = None
    omit = rule is not None and rule.kind == "omit"
    metered = (
        None
        if rule is not None and not omit
        else meter(sim, token, method, split.path, query, {"request-id": rid, "client-request-id": rid})
    )
    if metered is not None and metered.status == 429:
        resp = ApiResponse(429, throttled_body(rid, rid), {**base, **metered.headers})
    elif rule is not None and not omit:
        retry = {"Retry-After": h} if (h := rule.retry_after_header()) is not None else {}
        error = (
            throttled_body(rid, rid)
            if rule.kind == "throttle"
            else graph_error_body(*FAULT_ERRORS[rule.status], rid, rid)
        )
        resp = ApiResponse(rule.status, error, {**base, **retry})
    else:
        try:
            api = sim.api_for(token.tenant_id)
            resp = api.handle(ApiRequest(method, split.path, query, headers, body, token.permissions))
            resp.headers = {**base, **resp.headers} if resp.body is not None else resp.headers
            resp.headers.update(metered.headers if metered else {})
        except GraphError as exc:
            resp = ApiResponse(
                exc.status, graph_error_body(exc.code, exc.message, rid, rid), {**base, **exc.headers}
            )
    resp.omit = omit
    sim.log_done(entry, resp.status)
    return resp
