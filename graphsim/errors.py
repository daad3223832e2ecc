"""Graph's error envelope and the exception the simulator's handlers raise to produce it.

Every Graph error the simulator sends goes through graph_error_body, so clients always see
{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}, the
shape they must parse on the real service. Imports nothing from the project.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

FORBIDDEN_MESSAGE = "Insufficient privileges to complete the operation."


class GraphError(Exception):
    """An HTTP error answer from the Graph surface (status, error.code, error.message, headers)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


def forbidden(message: str = FORBIDDEN_MESSAGE) -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", message)


def not_found(resource: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{resource}' does not exist or one of its queried reference-property objects are not present.",
    )


def method_not_allowed() -> GraphError:
    return GraphError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def graph_error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict[str, Any]:
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": date, "request-id": request_id, "client-request-id": client_request_id},
        }
    }


def throttled_body(request_id: str, client_request_id: str) -> dict[str, Any]:
    """Graph's 429 body (concepts/throttling.md), with the usual innerError ids added."""
    body = graph_error_body("TooManyRequests", "Please retry again later.", request_id, client_request_id)
    body["error"]["innerError"].update({"code": "429", "message": "Please retry after", "status": "429"})
    return body


# Status -> (code, message) for injected server faults (Graph's documented error codes).
FAULT_ERRORS: dict[int, tuple[str, str]] = {
    500: ("generalException", "An unspecified error has occurred."),
    503: (
        "serviceNotAvailable",
        "The service is temporarily unavailable for maintenance or is overloaded. You may repeat the "
        "request after a delay, the length of which may be indicated in a Retry-After header.",
    ),
    504: (
        "gatewayTimeout",
        "The server, while acting as a proxy, did not receive a timely response from the upstream "
        "server it needed to access in attempting to complete the request.",
    ),
}
