"""Configuration: ``LICENSE_DESK_*`` environment variables over an optional TOML file.

The environment wins over the file, so a scheduler can override one value without editing it.
Validation happens here, once, and every problem is one sentence naming the setting.
Imports nothing from the rest of the project except ``errors``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from licensedesk.errors import ConfigError

ENV_PREFIX = "LICENSE_DESK_"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_AUTHORITY_URL = "https://login.microsoftonline.com"
DEFAULT_STORE = "data/license-desk.sqlite"
DEFAULT_DEMO_STORE = "data/demo.sqlite"
CONFIG_FILE_ENV = "LICENSE_DESK_CONFIG"
WRITE_PREFIX = ENV_PREFIX + "WRITE_"
NO_WRITE_IDENTITY = (
    "Writes are sent with a separate app registration, and none is configured: set "
    f"{WRITE_PREFIX}CLIENT_ID and {WRITE_PREFIX}CLIENT_SECRET (or {WRITE_PREFIX}CLIENT_CERTIFICATE); "
    "nothing was sent."
)
Role = Literal["read", "write"]

# name in TOML / suffix of the environment variable -> kind
_KEYS: dict[str, str] = {
    "store": "str",
    "tenant_id": "str",
    "client_id": "str",
    "client_secret": "secret",
    "client_certificate": "str",
    "client_certificate_password": "secret",
    "write_client_id": "str",
    "write_client_secret": "secret",
    "write_client_certificate": "str",
    "write_client_certificate_password": "secret",
    "graph_url": "url",
    "graph_scope": "str",
    "authority_url": "url",
    "ca_bundle": "str",
    "allow_writes": "bool",
    "inactive_days": "int",
    "stale_hours": "int",
    "table_rows": "int",
    "pacing": "bool",
    "app_budget": "str",
    "tenant_budget": "str",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class AppIdentity:
    """One app registration's credentials, and the prefix of the variables that set them.

    ``prefix`` lets every sign-in error name the variable to fix (``LICENSE_DESK_CLIENT_SECRET``
    for the read app, ``LICENSE_DESK_WRITE_CLIENT_SECRET`` for the write app).
    """

    role: Role
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    client_certificate: str | None = None
    client_certificate_password: str | None = field(default=None, repr=False)

    @property
    def prefix(self) -> str:
        return WRITE_PREFIX if self.role == "write" else ENV_PREFIX


@dataclass(frozen=True)
class Settings:
    """Everything License Desk needs to know about where to read and write.

    Two app registrations: the read app (``client_*``) collects, and only the write app
    (``write_client_*``), when configured, applies plans, so the identity a nightly collection
    holds can change nothing. Secrets are excluded from ``repr`` so a logged Settings never leaks them.
    """

    # repr=False: a PostgreSQL URL may carry a password (see store.db.describe).
    store: str = field(default=DEFAULT_STORE, repr=False)
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_certificate: str | None = None
    client_certificate_password: str | None = field(default=None, repr=False)
    write_client_id: str | None = None
    write_client_secret: str | None = field(default=None, repr=False)
    write_client_certificate: str | None = None
    write_client_certificate_password: str | None = field(default=None, repr=False)
    graph_url: str = DEFAULT_GRAPH_URL
    graph_scope: str | None = None
    authority_url: str = DEFAULT_AUTHORITY_URL
    ca_bundle: str | None = None
    allow_writes: bool = False
    inactive_days: int = 90
    # A daily collection plus a day's slack: one missed run is news, a late one is not.
    stale_hours: int = 48
    # The most rows a dashboard table sends to the browser. Every run serialises and sends what a
    # table holds: 180,000 reclaim candidates are 57 MB and half a second before the browser even
    # draws them, and nobody scrolls that far. The downloads hold every row.
    table_rows: int = 10_000
    # collect --all: Graph's read budgets (resource units/seconds), per app and per app per tenant
    pacing: bool = True
    app_budget: str = "150000/20"
    tenant_budget: str = "3500/10"

    @property
    def tenant_configured(self) -> bool:
        """True when enough is set to try a collection."""
        return bool(self.tenant_id and self.client_id and (self.client_secret or self.client_certificate))

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret values, for redaction."""
        store_password = urlsplit(self.store).password if "://" in self.store else None
        values = (
            self.client_secret,
            self.client_certificate_password,
            self.write_client_secret,
            self.write_client_certificate_password,
            store_password,
        )
        return tuple(s for s in values if s)

    def identity(self, role: Role) -> AppIdentity:
        """The credentials a sign-in as ``role`` uses.

        Raises:
            ConfigError: the read app is not configured (see ``require_tenant``), or ``role`` is
                "write" and no write app is (``NO_WRITE_IDENTITY``), or a certificate file is missing.
        """
        if role == "read":
            self.require_tenant()
            assert self.client_id is not None  # require_tenant checked it
            return AppIdentity(
                "read", self.client_id, self.client_secret, self.client_certificate,
                self.client_certificate_password,
            )  # fmt: skip
        identity = self.write_identity()
        if identity is None:
            raise ConfigError(NO_WRITE_IDENTITY)
        return identity

    def write_identity(self) -> AppIdentity | None:
        """The write app's credentials, or None when no write app is configured.

        Raises:
            ConfigError: a write app half configured, or its certificate file missing.
        """
        _check_write_identity(self)
        if not self.write_client_id:
            return None
        if self.write_client_certificate and not Path(self.write_client_certificate).is_file():
            raise ConfigError(
                f"{WRITE_PREFIX}CLIENT_CERTIFICATE points to {self.write_client_certificate}, "
                "which is not a readable file."
            )
        return AppIdentity(
            "write", self.write_client_id, self.write_client_secret, self.write_client_certificate,
            self.write_client_certificate_password,
        )  # fmt: skip

    def environ(self) -> dict[str, str]:
        """These settings as ``LICENSE_DESK_*`` variables, for a child process (secrets included:
        never log the result)."""
        out: dict[str, str] = {}
        for key in _KEYS:
            value = getattr(self, key)
            if value is None:
                continue
            out[ENV_PREFIX + key.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    def require_tenant(self) -> None:
        """Raise ConfigError naming what is missing to reach a tenant."""
        missing = [
            f"{ENV_PREFIX}{name.upper()}"
            for name, value in (("tenant_id", self.tenant_id), ("client_id", self.client_id))
            if not value
        ]
        if not (self.client_secret or self.client_certificate):
            missing.append(f"{ENV_PREFIX}CLIENT_SECRET or {ENV_PREFIX}CLIENT_CERTIFICATE")
        if missing:
            raise ConfigError(
                "No tenant is configured: set "
                + ", ".join(missing)
                + " (or run `license-desk demo` for the simulated tenant)."
            )
        # Files are checked here, when a connection is about to be made, not on load: a report
        # of the local store must not fail because a CA file has since moved.
        if self.ca_bundle and not Path(self.ca_bundle).is_file():
            raise ConfigError(
                f"{ENV_PREFIX}CA_BUNDLE points to {self.ca_bundle}, which is not a readable file."
            )
        if self.client_certificate and not Path(self.client_certificate).is_file():
            raise ConfigError(
                f"{ENV_PREFIX}CLIENT_CERTIFICATE points to {self.client_certificate}, which is not a readable file."
            )


def load_settings(
    environ: Mapping[str, str] | None = None, config_file: str | Path | None = None
) -> Settings:
    """Build Settings from a TOML file (optional) and the environment (which wins).

    Args:
        environ: the environment to read; ``os.environ`` by default.
        config_file: a TOML file; else ``$LICENSE_DESK_CONFIG``; else none.

    Raises:
        ConfigError: one sentence naming the bad setting.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    path = config_file or env.get(CONFIG_FILE_ENV)
    if path:
        raw.update(_read_toml(Path(path)))
    for key in _KEYS:
        value = env.get(ENV_PREFIX + key.upper())
        if value is not None and value != "":
            raw[key] = value
    values = {key: _coerce(key, value) for key, value in raw.items()}
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _read_toml(path: Path) -> dict[str, object]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"The configuration file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The configuration file {path} cannot be read ({exc.__class__.__name__})."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The configuration file {path} is not valid TOML: {exc}.") from None
    # Accept both a flat file and one with a [license_desk] table.
    section = data.get("license_desk", data)
    if not isinstance(section, dict):
        raise ConfigError(f"The configuration file {path} has a [license_desk] entry that is not a table.")
    # Tables that other modules read from the same file (notify.config).
    section = {k: v for k, v in section.items() if k not in ("notify", "tenants")}
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"The configuration file {path} has unknown setting(s) {', '.join(unknown)}; "
            f"known settings are {', '.join(_KEYS)}."
        )
    return dict(section)


def _coerce(key: str, value: object) -> object:
    kind = _KEYS[key]
    name = ENV_PREFIX + key.upper()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, not {str(value)!r}.")
    if kind == "int":
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {str(value)!r}.") from None
        if number <= 0:
            raise ConfigError(f"{name} must be positive, not {number}.")
        return number
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be text.")
    text = value.strip()
    if kind == "url":
        return text.rstrip("/")
    return text


def _validate(settings: Settings) -> None:
    scheme = settings.store.split("://", 1)[0] if "://" in settings.store else None
    if scheme is not None and scheme not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(
            f"{ENV_PREFIX}STORE must be a file path, sqlite:///PATH or postgresql://HOST/DATABASE, "
            f"not a {scheme}:// URL."
        )
    if scheme == "sqlite" and not settings.store.startswith("sqlite:///"):
        raise ConfigError(f"{ENV_PREFIX}STORE must spell an SQLite store as sqlite:///PATH (three slashes).")
    for key in ("graph_url", "authority_url"):
        url = getattr(settings, key)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ConfigError(
                f"{ENV_PREFIX}{key.upper()} must be an https URL with a host name, not {url!r}."
            )
    if settings.tenant_id is not None and ("/" in settings.tenant_id or not settings.tenant_id):
        raise ConfigError(f"{ENV_PREFIX}TENANT_ID must be a tenant id or domain, not {settings.tenant_id!r}.")
    scope = settings.graph_scope
    if scope is not None and (
        not scope.endswith("/.default") or len(scope.split()) != 1 or scope == "/.default"
    ):
        raise ConfigError(
            f"{ENV_PREFIX}GRAPH_SCOPE must be Microsoft Graph's app ID URI followed by /.default "
            f"(such as https://graph.microsoft.us/.default), not {scope!r}."
        )
    for key in ("app_budget", "tenant_budget"):
        parse_budget(getattr(settings, key), f"{ENV_PREFIX}{key.upper()}")
    _check_write_identity(settings)


def parse_budget(text: str, setting: str) -> tuple[int, float]:
    """A throttling budget ``UNITS/SECONDS`` (``150000/20``) as (units, seconds).

    Raises:
        ConfigError: naming ``setting`` when the text is not such a budget.
    """
    units, _, seconds = text.partition("/")
    try:
        budget = (int(units.strip()), float(seconds.strip()))
    except ValueError:
        budget = (0, 0.0)
    if budget[0] < 1 or not budget[1] > 0:
        raise ConfigError(f"{setting} must be resource units per seconds, such as 150000/20, not {text!r}.")
    return budget


def _check_write_identity(settings: Settings) -> None:
    """A write app is configured whole or not at all: half of one is a mistake worth naming."""
    credential = settings.write_client_secret or settings.write_client_certificate
    if settings.write_client_id and not credential:
        raise ConfigError(
            f"{WRITE_PREFIX}CLIENT_ID is set but the write app has no credential: set "
            f"{WRITE_PREFIX}CLIENT_SECRET or {WRITE_PREFIX}CLIENT_CERTIFICATE."
        )
    stray = [
        f"{WRITE_PREFIX}{key.upper()}"
        for key in ("client_secret", "client_certificate", "client_certificate_password")
        if getattr(settings, f"write_{key}")
    ]
    if stray and not settings.write_client_id:
        raise ConfigError(
            f"{' and '.join(stray)} {'is' if len(stray) == 1 else 'are'} set but {WRITE_PREFIX}CLIENT_ID "
            "is not: set the write app's client id too."
        )
