"""GraphSimulator: Microsoft Graph v1.0 and the Entra token endpoint, served over HTTPS on 127.0.0.1.

Why a real TLS server: the product's collectors and MSAL must run unchanged, over real sockets with
keep-alive and certificate checks (a throwaway trustme CA whose PEM clients pass as their CA
bundle). This module owns the lifecycle, the registered app, the scenario controls and the request
log; graphsim.handler does the HTTP work, graphsim.routes the Graph resources. Imports graphsim.auth,
graphsim.faults, graphsim.handler, graphsim.odata, graphsim.routes, graphsim.tenant.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import trustme

from graphsim.auth import IdentityProvider, make_secret
from graphsim.faults import Faults
from graphsim.handler import TLSServer
from graphsim.odata import PageTokens
from graphsim.routes import GraphApi
from graphsim.tenant import Tenant, build_tenant

__all__ = ["GraphSimulator", "LoggedRequest"]


@dataclass
class LoggedRequest:
    """One request as the simulator saw it; batch items are logged too, with their batch item id.

    status is 0 until the answer is sent, and stays 0 for a dropped connection. write marks calls
    that change (or tried to change) state: POST/PATCH/PUT/DELETE other than the token endpoint,
    batch items that are not GETs, and a $batch holding writes whose items never ran.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    started: float
    duration: float
    batch_item: str | None = None
    write: bool = False


class GraphSimulator:
    """A simulated Microsoft Graph + Entra tenant served over HTTPS on 127.0.0.1.

    GraphSimulator(tenant) serves an existing tenant; GraphSimulator(users=200, seed=1) builds one.
    page_cap bounds every page whatever $top asks (999 like Graph; lower it to test short pages).
    Use as a context manager, or start()/stop().
    """

    def __init__(
        self, tenant: Tenant | None = None, *, users: int = 200, seed: int = 1, start: datetime | None = None,
        page_cap: int = 999, host: str = "127.0.0.1", port: int = 0,
    ) -> None:  # fmt: skip
        self.tenant = tenant if tenant is not None else build_tenant(users, seed, start)
        self.client_id = str(uuid.uuid4())
        self.client_secret = make_secret()
        self.idp = IdentityProvider(
            self.tenant.tenant_id, self.tenant.domain, self.client_id, self.client_secret
        )
        self.api = GraphApi(self.tenant, PageTokens(secrets.token_bytes(32)), page_cap)
        self.faults = Faults()
        self.requests: list[LoggedRequest] = []
        self.server_errors: list[str] = []
        self._log_lock = threading.Lock()
        self._host, self._port = host, port
        self._server: TLSServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: str | None = None
        self._ca_path: str | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> GraphSimulator:
        if self._server is not None:
            return self
        ca = trustme.CA(organization_name="graphsim throwaway CA")
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self._tmpdir = tempfile.mkdtemp(prefix="graphsim-")
        self._ca_path = os.path.join(self._tmpdir, "graphsim-ca.pem")
        try:
            ca.cert_pem.write_to_path(self._ca_path)
            self._server = TLSServer((self._host, self._port), self, context)
        except BaseException:
            # A port in use or out of range: leave no CA directory behind a simulator that never ran.
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = self._ca_path = None
            raise
        port = self._server.server_address[1]
        self.idp.origin = f"https://{self._host}:{port}"
        self.api.base_url = f"{self.idp.origin}/v1.0"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="graphsim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = self._ca_path = None

    def __enter__(self) -> GraphSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients need -------------------------------------------------------------------
    def _origin(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() or use it as a context manager")
        return self.idp.origin

    @property
    def authority_url(self) -> str:
        return self._origin()

    @property
    def graph_url(self) -> str:
        return f"{self._origin()}/v1.0"

    @property
    def tenant_id(self) -> str:
        return self.tenant.tenant_id

    @property
    def ca_bundle(self) -> str:
        self._origin()
        assert self._ca_path is not None
        return self._ca_path

    def ready_info(self) -> dict[str, str]:
        return {
            "graph_url": self.graph_url, "authority_url": self.authority_url, "tenant_id": self.tenant_id,
            "client_id": self.client_id, "client_secret": self.client_secret, "ca_bundle": self.ca_bundle,
        }  # fmt: skip

    # -- scenario controls -----------------------------------------------------------------
    @property
    def token_lifetime(self) -> int:
        return self.idp.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: int) -> None:
        self.idp.token_lifetime = seconds

    def set_permissions(self, permissions: Iterable[str]) -> None:
        """The app's application permissions for tokens issued from now on."""
        self.idp.permissions = frozenset(permissions)

    def register_certificate(self, pem_cert: str | bytes) -> str:
        """Allow certificate (client assertion) auth with this certificate; returns its SHA-1 thumbprint."""
        return self.idp.register_certificate(pem_cert)

    def expire_secret(self) -> None:
        """Token requests with the secret now fail with AADSTS7000222."""
        self.idp.secret_expired = True

    # -- request log -----------------------------------------------------------------------
    def log_request(
        self, method: str, path: str, query: dict[str, str], *, write: bool, item: str | None = None
    ) -> LoggedRequest:
        entry = LoggedRequest(method, path, query, 0, time.time(), 0.0, item, write)
        with self._log_lock:
            self.requests.append(entry)
        return entry

    def log_done(self, entry: LoggedRequest, status: int) -> None:
        entry.status = status
        entry.duration = time.time() - entry.started

    def clear_log(self) -> None:
        with self._log_lock:
            self.requests.clear()

    def write_requests(self) -> list[LoggedRequest]:
        """Logged requests that were writes, including non-GET items inside $batch."""
        with self._log_lock:
            return [r for r in self.requests if r.write]
