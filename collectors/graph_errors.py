"""Graph's error answers as one sentence for a person: which permission a 403 means, what a 401
means, Graph's own message otherwise (secrets redacted), and URLs shown without their query."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from licensedesk.errors import GraphError, GraphPermissionError, redact

# Which application permission a 403 on a path most likely means is missing.
_PERMISSION_FOR = (
    ("signinactivity", "AuditLog.Read.All (and an Entra ID P1 licence in the tenant)"),
    ("/subscribedskus", "Organization.Read.All or LicenseAssignment.Read.All"),
    ("/directory/subscriptions", "Organization.Read.All"),
    ("/groups", "Group.Read.All"),
    ("/users", "User.Read.All"),
)


def graph_error(status: int, body: Any, what: str, request_id: str | None) -> GraphError:
    code, message = None, ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        message = str(body["error"].get("message") or "")
        inner = body["error"].get("innerError") or {}
        request_id = request_id or inner.get("request-id")
    message = redact(message.strip().rstrip("."))
    if status == 403:
        lowered = what.lower()
        needed = next((perm for key, perm in _PERMISSION_FOR if key in lowered), "a permission it lacks")
        return GraphPermissionError(
            f"Graph refused {what} (403 {code or 'Forbidden'}): the app needs the application permission "
            f"{needed}, granted with admin consent.",
            status=status,
            code=code,
            request_id=request_id,
        )
    if status == 401:
        return GraphError(
            f"Graph rejected the access token for {what} (401 {code or 'Unauthorized'}): check the tenant "
            "and that the app registration belongs to it.",
            status=status,
            code=code,
            request_id=request_id,
        )
    detail = f": {message}" if message else ""
    return GraphError(
        f"Graph answered {status} {code or ''} for {what}{detail}.".replace("  ", " "),
        status=status,
        code=code,
        request_id=request_id,
    )


def safe_json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def describe(url: str) -> str:
    """A URL without its query string (skip tokens are long and say nothing to a person)."""
    parts = urlsplit(url)
    path = parts.path
    select = ""
    if "signInActivity" in url or "signinactivity" in url.lower():
        select = " with signInActivity"
    return f"{path}{select}" if path else url
