"""Notification channels: the ``[notify]`` tables of the configuration file, secrets from the environment.

The same TOML file as the rest of the configuration (``--config FILE`` or ``LICENSE_DESK_CONFIG``),
at the top level or inside ``[license_desk]``::

    [notify]                    dashboard_url, reminder_days, send_all_clear, tenant_name,
                                ca_bundle, timeout_seconds
    [notify.exclude]            skus, findings
    [notify.email]              host, port, security, username, from, to
    [notify.teams]              (no keys: the URL is LICENSE_DESK_TEAMS_WEBHOOK_URL)
    [notify.webhook]            url (the secret is LICENSE_DESK_WEBHOOK_SECRET)

A channel is on when its table is present. Secrets are read only from the environment, kept out
of ``repr`` and never put in a message: a Teams Workflows URL carries its signature (``sig=``), so
it is a secret as a whole. Every bad value is one sentence naming the key. Imports nothing from
the rest of the project except ``errors`` and ``analysis.digest`` (for the finding-key shape).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from analysis.digest import Exclusions, is_finding_key
from licensedesk.config import CONFIG_FILE_ENV
from licensedesk.errors import ConfigError

SMTP_PASSWORD_ENV = "LICENSE_DESK_SMTP_PASSWORD"
TEAMS_URL_ENV = "LICENSE_DESK_TEAMS_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "LICENSE_DESK_WEBHOOK_SECRET"
SECURITIES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_REMINDER_DAYS = 7
DEFAULT_TIMEOUT = 30.0
CHANNELS = ("email", "teams", "webhook")
_KEYS = {
    "notify": ("dashboard_url", "reminder_days", "send_all_clear", "tenant_name", "ca_bundle",
               "timeout_seconds", "exclude", "email", "teams", "webhook"),
    "notify.exclude": ("skus", "findings"),
    "notify.email": ("host", "port", "security", "username", "from", "to"),
    "notify.teams": (),
    "notify.webhook": ("url",),
}  # fmt: skip


@dataclass(frozen=True)
class EmailChannel:
    """SMTP delivery: ``starttls`` (587), ``tls`` (implicit, 465) or ``none`` (25, never with a password)."""

    host: str
    port: int
    security: str
    sender: str
    to: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    name: str = "email"

    @property
    def destination(self) -> str:
        """Where it goes, as shown and audited: recipients and server, no password."""
        return f"{', '.join(self.to)} via {self.host}:{self.port}"

    def with_recipients(self, to: tuple[str, ...]) -> EmailChannel:
        return replace(self, to=to)


@dataclass(frozen=True)
class HttpChannel:
    """A JSON POST: ``teams`` (a Workflows webhook) or ``webhook`` (generic, HMAC-signed)."""

    name: str
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def destination(self) -> str:
        """Scheme, host and port only: the path and query of a webhook URL may hold its token."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


@dataclass(frozen=True)
class NotifyConfig:
    """The ``[notify]`` configuration (all channels off when the file has no ``[notify]``)."""

    email: EmailChannel | None = None
    teams: HttpChannel | None = None
    webhook: HttpChannel | None = None
    dashboard_url: str | None = None
    reminder_days: int = DEFAULT_REMINDER_DAYS
    send_all_clear: bool = False
    tenant_name: str | None = None
    exclusions: Exclusions = Exclusions()
    source: str | None = None  # the configuration file, None when there is none

    def add_hint(self, tables: str) -> str:
        """Where to add ``tables``: the file read, or how to give one."""
        if self.source is None:
            return f"{tables} to a configuration file (--config FILE or LICENSE_DESK_CONFIG)"
        return f"{tables} to {self.source}"

    @property
    def channels(self) -> list[EmailChannel | HttpChannel]:
        return [c for c in (self.email, self.teams, self.webhook) if c is not None]

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction."""
        values = [
            self.email.password if self.email else None,
            self.teams.url if self.teams else None,
            self.webhook.secret if self.webhook else None,
        ]
        return tuple(v for v in values if v)


def load_notify_config(
    environ: Mapping[str, str] | None = None, config_file: str | Path | None = None
) -> NotifyConfig:
    """Read ``[notify]`` from the configuration file (``config_file``, else ``$LICENSE_DESK_CONFIG``).

    Raises:
        ConfigError: one sentence naming the bad key or the missing environment variable.
    """
    env = os.environ if environ is None else environ
    path = config_file or env.get(CONFIG_FILE_ENV)
    if not path:
        return NotifyConfig()
    source = str(path)
    table = _notify_table(Path(path))
    if table is None:
        return NotifyConfig(source=source)
    r = _Reader(source)
    r.check_keys("notify", table)
    exclude = r.table(table, "exclude")
    r.check_keys("notify.exclude", exclude or {})
    ca_bundle = r.text(table, "notify", "ca_bundle")
    if ca_bundle is not None and not Path(ca_bundle).is_file():
        raise ConfigError(
            f"notify.ca_bundle in {source} points to {ca_bundle}, which is not a readable file."
        )
    timeout = r.positive(table, "notify", "timeout_seconds", DEFAULT_TIMEOUT)
    findings = r.names(exclude or {}, "notify.exclude", "findings")
    for key in findings:
        if not is_finding_key(key):
            raise ConfigError(
                f"notify.exclude.findings in {source} has {key!r}, which is not a finding id "
                "(threshold:..., group_error:..., expiring:... or renewal:...; `license-desk notify --dry-run` lists them)."
            )
    return NotifyConfig(
        email=_email(r, r.table(table, "email"), env, ca_bundle, timeout),
        teams=_teams(r, r.table(table, "teams"), env, ca_bundle, timeout),
        webhook=_webhook(r, r.table(table, "webhook"), env, ca_bundle, timeout),
        dashboard_url=r.url(table, "notify", "dashboard_url", ("http", "https")),
        reminder_days=r.whole(table, "notify", "reminder_days", DEFAULT_REMINDER_DAYS, low=0),
        send_all_clear=r.flag(table, "notify", "send_all_clear"),
        tenant_name=r.text(table, "notify", "tenant_name"),
        exclusions=Exclusions.of(r.names(exclude or {}, "notify.exclude", "skus"), findings),
        source=source,
    )


def _notify_table(path: Path) -> dict[str, object] | None:
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
    section = data.get("license_desk", data)
    notify = section.get("notify") if isinstance(section, dict) else None
    if notify is None:
        return None
    if not isinstance(notify, dict):
        raise ConfigError(f"notify in {path} must be a table ([notify]).")
    return notify


def _email(
    r: _Reader, table: dict[str, object] | None, env: Mapping[str, str], ca: str | None, timeout: float
) -> EmailChannel | None:
    if table is None:
        return None
    r.check_keys("notify.email", table)
    where = "notify.email"
    host = r.text(table, where, "host")
    if not host:
        raise ConfigError(f"notify.email.host in {r.source} is missing: name the SMTP server.")
    security = r.text(table, where, "security") or "starttls"
    if security not in SECURITIES:
        raise ConfigError(
            f"notify.email.security in {r.source} must be starttls, tls or none, not {security!r}."
        )
    port = r.whole(table, where, "port", DEFAULT_PORTS[security], low=1, high=65535)
    sender = r.text(table, where, "from")
    if not sender or not _is_address(sender):
        raise ConfigError(
            f'notify.email.from in {r.source} must be an e-mail address (e.g. "License Desk <alerts@example.com>")'
            + (f", not {sender!r}." if sender else "; it is missing.")
        )
    to = r.names(table, where, "to")
    if not to:
        raise ConfigError(f"notify.email.to in {r.source} is missing: list at least one recipient.")
    for address in to:
        if not _is_address(address):
            raise ConfigError(
                f"notify.email.to in {r.source} has {address!r}, which is not an e-mail address."
            )
    username = r.text(table, where, "username")
    password = env.get(SMTP_PASSWORD_ENV) or None
    if username and not password:
        raise ConfigError(
            f"notify.email.username is set in {r.source}, so {SMTP_PASSWORD_ENV} must hold its password; it is not set."
        )
    if username and security == "none":
        raise ConfigError(
            f'notify.email.security = "none" in {r.source} would send the SMTP password unencrypted; use starttls or tls.'
        )
    return EmailChannel(
        host, port, security, sender, tuple(to), username, password if username else None, ca, timeout
    )


def _teams(
    r: _Reader, table: dict[str, object] | None, env: Mapping[str, str], ca: str | None, timeout: float
) -> HttpChannel | None:
    if table is None:
        return None
    if "url" in table:
        raise ConfigError(
            f"notify.teams.url in {r.source}: a Teams Workflows URL carries its signature, so it is a "
            f"secret: set {TEAMS_URL_ENV} instead and remove it from the file."
        )
    r.check_keys("notify.teams", table)
    url = (env.get(TEAMS_URL_ENV) or "").strip()
    if not url:
        raise ConfigError(
            f"[notify.teams] is in {r.source}, so {TEAMS_URL_ENV} must hold the workflow's URL; it is not set."
        )
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        # Never echo the value: it is a secret.
        raise ConfigError(f"{TEAMS_URL_ENV} must be the https URL of a Teams Workflows webhook trigger.")
    return HttpChannel("teams", url, None, ca, timeout)


def _webhook(
    r: _Reader, table: dict[str, object] | None, env: Mapping[str, str], ca: str | None, timeout: float
) -> HttpChannel | None:
    if table is None:
        return None
    r.check_keys("notify.webhook", table)
    url = r.url(table, "notify.webhook", "url", ("http", "https"))
    if url is None:
        raise ConfigError(f"notify.webhook.url in {r.source} is missing: give the receiver's URL.")
    secret = env.get(WEBHOOK_SECRET_ENV) or ""
    if not secret:
        raise ConfigError(
            f"[notify.webhook] is in {r.source}, so {WEBHOOK_SECRET_ENV} must hold the signing secret; it is not set."
        )
    return HttpChannel("webhook", url, secret, ca, timeout)


def _is_address(text: str) -> bool:
    _name, address = parseaddr(text)
    local, at, domain = address.rpartition("@")
    return bool(at and local and "." in domain and " " not in address)


class _Reader:
    """Typed reads of TOML values, each failure one sentence naming ``<table>.<key>`` and the file."""

    def __init__(self, source: str) -> None:
        self.source = source

    def check_keys(self, where: str, table: Mapping[str, object]) -> None:
        unknown = sorted(set(table) - set(_KEYS[where]))
        if unknown:
            known = ", ".join(_KEYS[where]) or "none (the table only switches the channel on)"
            raise ConfigError(
                f"[{where}] in {self.source} has unknown key(s) {', '.join(unknown)}; known keys: {known}."
            )

    def table(self, table: Mapping[str, object], key: str) -> dict[str, object] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ConfigError(f"notify.{key} in {self.source} must be a table ([notify.{key}]).")
        return value

    def text(self, table: Mapping[str, object], where: str, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{key} in {self.source} must be text (in quotes).")
        return value.strip() or None

    def names(self, table: Mapping[str, object], where: str, key: str) -> list[str]:
        value = table.get(key)
        if value is None:
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
            raise ConfigError(f"{where}.{key} in {self.source} must be a list of text values.")
        return [v.strip() for v in items]

    def whole(
        self,
        table: Mapping[str, object],
        where: str,
        key: str,
        default: int,
        *,
        low: int,
        high: int | None = None,
    ) -> int:
        value = table.get(key, default)
        span = f"from {low} to {high}" if high is not None else f"{low} or more"
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            raise ConfigError(f"{where}.{key} in {self.source} must be a whole number {span}, not {value!r}.")
        return value

    def positive(self, table: Mapping[str, object], where: str, key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(
                f"{where}.{key} in {self.source} must be a positive number of seconds, not {value!r}."
            )
        return float(value)

    def flag(self, table: Mapping[str, object], where: str, key: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{key} in {self.source} must be true or false, not {value!r}.")
        return value

    def url(self, table: Mapping[str, object], where: str, key: str, schemes: tuple[str, ...]) -> str | None:
        text = self.text(table, where, key)
        if text is None:
            return None
        parts = urlsplit(text)
        # A webhook URL's path or query may hold its token: only the dashboard's is repeated.
        shown = f", not {text!r}" if key == "dashboard_url" else ""
        if parts.scheme not in schemes or not parts.hostname:
            raise ConfigError(
                f"{where}.{key} in {self.source} must be an {' or '.join(schemes)} URL with a host name{shown}."
            )
        try:
            parts.port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            raise ConfigError(
                f"{where}.{key} in {self.source} has a port that is not a number{shown}."
            ) from None
        return text.rstrip("/") if key == "dashboard_url" else text
