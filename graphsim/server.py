"""GraphSimulator: Microsoft Graph v1.0 and the Entra token endpoint, served over HTTPS on 127.0.0.1.

Why a real TLS server: the product's collectors and MSAL must run unchanged, over real sockets with
keep-alive and certificate checks (a throwaway trustme CA whose PEM clients pass as their CA
bundle). This module owns the lifecycle, the two registered apps (a read app holding only read
permissions, and a write app holding only the write permissions, as License Desk's least-privilege
set-up asks), the scenario controls and the request log; graphsim.handler does the HTTP work, graphsim.routes the Graph resources. Imports graphsim.auth,
graphsim.calls, graphsim.faults, graphsim.handler, graphsim.odata, graphsim.routes, graphsim.tenant.
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
from datetime import datetime
from typing import Any, Literal

import trustme

from graphsim.auth import READ_PERMISSIONS, WRITE_PERMISSIONS, IdentityProvider, RegisteredApp, make_secret
from graphsim.calls import LoggedRequest
from graphsim.faults import Faults
from graphsim.handler import TLSServer
from graphsim.odata import PageTokens
from graphsim.routes import GraphApi
from graphsim.tenant import Tenant, build_tenant, customer_tenants
from graphsim.throttling import Limits, Meter

__all__ = ["App", "GraphSimulator", "LoggedRequest"]

App = Literal["read", "write"]


class GraphSimulator:
    """A simulated Microsoft Graph + Entra tenant served over HTTPS on 127.0.0.1.

    GraphSimulator(tenant) serves an existing tenant; GraphSimulator(users=200, seed=1) builds one.
    page_cap bounds every page whatever $top asks (999 like Graph; lower it to test short pages).
    tenants > 1 adds customer tenants (``customer_tenants``: ``users`` each) beside the first, each
    with its own id, domain and data; the two apps are multi-tenant apps consented in all of them,
    and a token reads the tenant it was issued in. throttling meters reads as Graph does
    (graphsim.throttling; None: unmetered). Use as a context manager, or start()/stop().
    """

    def __init__(
        self, tenant: Tenant | None = None, *, users: int = 200, seed: int = 1, start: datetime | None = None,
        page_cap: int = 999, host: str = "127.0.0.1", port: int = 0, tenants: int = 1,
        throttling: Limits | None = None,
    ) -> None:  # fmt: skip
        self.tenant = tenant if tenant is not None else build_tenant(users, seed, start)
        self.tenants = [self.tenant, *customer_tenants(tenants - 1, users, seed, start)]
        self.apps: dict[App, RegisteredApp] = {
            "read": RegisteredApp(str(uuid.uuid4()), make_secret(), READ_PERMISSIONS),
            "write": RegisteredApp(str(uuid.uuid4()), make_secret(), WRITE_PERMISSIONS),
        }
        self.idp = IdentityProvider(
            self.tenant.tenant_id, self.tenant.domain, {a.client_id: a for a in self.apps.values()}
        )
        page_tokens = PageTokens(secrets.token_bytes(32))
        self.api = GraphApi(self.tenant, page_tokens, page_cap)
        self._apis = {self.tenant.tenant_id: self.api}
        for extra in self.tenants[1:]:
            self.idp.add_directory(extra.tenant_id, extra.domain)
            self._apis[extra.tenant_id] = GraphApi(extra, page_tokens, page_cap)
        sizes = {t.tenant_id: len(t.users) for t in self.tenants}
        self.meter = Meter(throttling, lambda tid: sizes.get(tid, 0)) if throttling is not None else None
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
        for api in self._apis.values():
            api.base_url = f"{self.idp.origin}/v1.0"
            api.reports.origin = self.idp.origin
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

    def api_for(self, tenant_id: str) -> GraphApi:
        """The Graph of the tenant a token was issued in (the first tenant's for an unknown one)."""
        return self._apis.get(tenant_id, self.api)

    def report_download(self, path: str) -> tuple[int, Any, dict[str, str]]:
        """A usage report's pre-authenticated download, whichever tenant's report it is (the link
        carries no token, as in Graph, so its own name is all that finds it)."""
        answer = self.api.reports.download(path)
        for api in self._apis.values():
            if answer[0] != 404:
                break
            answer = api.reports.download(path)
        return answer

    def directory(self) -> list[dict[str, str]]:
        """Every tenant served: its id and domain, the first tenant first."""
        return [{"tenant_id": t.tenant_id, "domain": t.domain} for t in self.tenants]

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

    @property
    def client_id(self) -> str:
        """The read app's client id (the one a collection signs in with)."""
        return self.apps["read"].client_id

    @property
    def client_secret(self) -> str:
        return self.apps["read"].client_secret

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        """Replace the read app's secret (the old one stops working at once)."""
        self.apps["read"].client_secret = value

    @property
    def write_client_id(self) -> str:
        """The write app's client id (the one applying a plan signs in with)."""
        return self.apps["write"].client_id

    @property
    def write_client_secret(self) -> str:
        return self.apps["write"].client_secret

    @property
    def token_path(self) -> str:
        """The token endpoint's path, e.g. for a fault rule's path_prefix."""
        return f"/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def discovery_path(self) -> str:
        """The OpenID discovery document's path, e.g. for a fault rule's path_prefix."""
        return f"/{self.tenant_id}/v2.0/.well-known/openid-configuration"

    def ready_info(self) -> dict[str, str]:
        """What `license-desk simulator` prints: its keys upper-cased after LICENSE_DESK_ are the settings."""
        return {
            "graph_url": self.graph_url, "authority_url": self.authority_url, "tenant_id": self.tenant_id,
            "client_id": self.client_id, "client_secret": self.client_secret,
            "write_client_id": self.write_client_id, "write_client_secret": self.write_client_secret,
            "ca_bundle": self.ca_bundle,
        }  # fmt: skip

    # -- scenario controls -----------------------------------------------------------------
    @property
    def token_lifetime(self) -> int:
        return self.idp.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: int) -> None:
        self.idp.token_lifetime = seconds

    def permissions(self, app: App = "read") -> frozenset[str]:
        return self.apps[app].permissions

    def set_permissions(self, permissions: Iterable[str], *, app: App = "read") -> None:
        """An app's application permissions (admin-consented) for tokens issued from now on."""
        self.apps[app].permissions = frozenset(permissions)

    def register_certificate(self, pem_cert: str | bytes, *, app: App = "read") -> str:
        """Allow certificate (client assertion) auth with this certificate; returns its SHA-1 thumbprint."""
        return self.idp.register_certificate(self.apps[app], pem_cert)

    def expire_secret(self, *, app: App = "read") -> None:
        """Token requests with this app's secret now fail with AADSTS7000222."""
        self.apps[app].secret_expired = True

    # -- request log -----------------------------------------------------------------------
    def log_request(
        self, method: str, path: str, query: dict[str, str], *, write: bool, item: str | None = None,
        client_id: str | None = None,
    ) -> LoggedRequest:  # fmt: skip
        entry = LoggedRequest(method, path, query, 0, time.time(), 0.0, item, write, client_id)
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
