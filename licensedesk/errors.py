"""Every error License Desk shows a person, as one sentence.

The hierarchy::

    LicenseDeskError            anything we expect and can explain (exit code 1 unless noted)
    ├── ConfigError             wrong or missing configuration (exit code 2)
    ├── InputError              a malformed file the user gave us (CSV, TOML)
    ├── AuthError               the identity platform refused us (secret, certificate, tenant)
    ├── GraphError              Microsoft Graph answered with an error we cannot work around
    │   ├── PermissionError_    403: the app lacks a permission (named in the message)
    │   └── ThrottledError      429/503 that outlived the retry budget
    ├── StoreError              the local store cannot be opened, migrated or written
    └── ActionRefused           a plan that would break a rule (overdraw, inherited license, ...)

Messages never contain secrets, tokens or full URLs with query strings: see ``redact``.
This module imports nothing from the rest of the project.
"""

from __future__ import annotations

import re


class LicenseDeskError(Exception):
    """Base class: ``str(err)`` is a complete sentence meant for a person."""

    exit_code = 1


class ConfigError(LicenseDeskError):
    """Configuration is missing or wrong; nothing was attempted."""

    exit_code = 2


class InputError(LicenseDeskError):
    """A file or value supplied by the user is malformed."""


class AuthError(LicenseDeskError):
    """The token endpoint refused the credentials."""


class GraphError(LicenseDeskError):
    """Microsoft Graph returned an error.

    Attributes:
        status: the HTTP status, or None for a transport failure.
        code: Graph's ``error.code`` when there was a body.
        request_id: Graph's request id, for support tickets and the audit log.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class GraphPermissionError(GraphError):
    """403: the application lacks a permission or licence the call needs."""


class ThrottledError(GraphError):
    """Graph kept throttling (429/503) past the retry budget."""


class StoreError(LicenseDeskError):
    """The local store could not be opened, migrated or written."""


class ActionRefused(LicenseDeskError):
    """A plan was refused before anything was sent."""


_SECRET_QUERY = re.compile(
    r"(?i)(client_secret|access_token|refresh_token|client_assertion|code|password|sig)=([^&\s]+)"
)
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9\-._~+/]+=*")


def redact(text: str, *secrets: str | None) -> str:
    """Remove secrets from a message: known secret values, query-string credentials, bearer tokens."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=[redacted]", text)
    return _BEARER.sub("Bearer [redacted]", text)
