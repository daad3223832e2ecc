"""One Graph call as the router sees it, and its answer (shared by direct calls and $batch items);
the request log's entry for a call (written by graphsim.handler, read through graphsim.server).

Kept apart so the read router (graphsim.routes) and the write handlers (graphsim.writes) speak the
same types without importing each other. Imports graphsim.errors only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphsim.errors import forbidden

JSON_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)


@dataclass
class ApiRequest:
    """One Graph call: path is relative to /v1.0 (or /beta: version) and still percent-encoded;
    headers lowercase."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    permissions: frozenset[str]
    version: str = "v1.0"


@dataclass
class ApiResponse:
    """status, body (JSON, None for none, or bytes sent as they are) and extra headers; omit leaves
    a $batch item's answer out."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    omit: bool = False


def need(req: ApiRequest, allowed: frozenset[str]) -> None:
    """403 Authorization_RequestDenied unless the token carries one of `allowed`."""
    if not req.permissions & allowed:
        raise forbidden()


@dataclass
class LoggedRequest:
    """One request as the simulator saw it; batch items are logged too, with their batch item id.

    status is 0 until the answer is sent, and stays 0 for a dropped connection. write marks calls
    that change (or tried to change) state: POST/PATCH/PUT/DELETE other than the token endpoint,
    batch items that are not GETs, and a $batch holding writes whose items never ran.
    client_id is the app that asked: the client_id of a token request, the app whose bearer token
    a Graph call (or $batch item) presented; None when there was no valid token.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    started: float
    duration: float
    batch_item: str | None = None
    write: bool = False
    client_id: str | None = None
