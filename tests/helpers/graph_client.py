"""A plain HTTPS client for the simulator's own tests, holding one token.

Every call goes over real TLS with the simulator's CA and trust_env off, because this machine sets
REQUESTS_CA_BUNDLE, which would silently replace a Session's verify.
"""

from __future__ import annotations

from typing import Any

import requests

from graphsim.server import App, GraphSimulator

_OPEN: list[requests.Session] = []  # closed after each test, so no socket outlives it
READ = {"Organization.Read.All", "User.Read.All", "Group.Read.All", "AuditLog.Read.All"}
WRITE = READ | {"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All"}


def https_session(sim: GraphSimulator) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = sim.ca_bundle
    _OPEN.append(session)
    return session


def close_open_sessions() -> None:
    """Close every session https_session opened (after each test, so no socket outlives it)."""
    while _OPEN:
        _OPEN.pop().close()


def fetch_token(sim: GraphSimulator, session: requests.Session, **form: str) -> requests.Response:
    data = {
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "grant_type": "client_credentials",
        "scope": "https://graph.microsoft.com/.default",
        **form,
    }
    return session.post(f"{sim.authority_url}/{sim.tenant_id}/oauth2/v2.0/token", data=data, timeout=10)


class Graph:
    """requests against sim.graph_url with a bearer token issued to the read (or write) app,
    for `permissions` if given (else the app's own)."""

    def __init__(
        self, sim: GraphSimulator, permissions: set[str] | None = None, *, app: App = "read"
    ) -> None:
        self.sim = sim
        self.session = https_session(sim)
        if permissions is not None:
            previous = sim.permissions(app)
            sim.set_permissions(permissions, app=app)
        credentials = {"client_id": sim.apps[app].client_id, "client_secret": sim.apps[app].client_secret}
        response = fetch_token(sim, self.session, **credentials)
        if permissions is not None:
            sim.set_permissions(previous, app=app)
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.sim.graph_url}/{path.lstrip('/')}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=30, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url(path), json=body, timeout=30, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.session.patch(self.url(path), json=body, timeout=30, **kwargs)

    def pages(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every page's body, following @odata.nextLink verbatim."""
        bodies = []
        response = self.get(path, params=params)
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            bodies.append(body)
            if "@odata.nextLink" not in body:
                return bodies
            response = self.get(body["@odata.nextLink"])

    def all(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return [item for body in self.pages(path, params) for item in body["value"]]

    def close(self) -> None:
        self.session.close()
