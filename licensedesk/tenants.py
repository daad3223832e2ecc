"""Customer tenants: one registry entry, its credentials reference, and the TOML form of a list.

A managed service provider's default is one multi-tenant app (``LICENSE_DESK_CLIENT_ID`` and its
secret or certificate) consented in every customer tenant, signing in with each tenant's id; an
entry may instead name a per-tenant app (``client_id``) and where its credential is kept. The
store only ever holds that reference, never a secret:

- ``env:NAME``: the client secret is in environment variable NAME;
- ``file:PATH``: a PEM file with the app's private key and certificate;
- ``secret:NAME``: a secret's name, read from ``$LICENSE_DESK_SECRETS_DIR/NAME`` (default
  ``/run/secrets``, where Docker and Kubernetes mount secrets).

Imports nothing from the rest of the project except ``config`` and ``errors``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from licensedesk.config import ENV_PREFIX, Settings
from licensedesk.errors import ConfigError

SECRETS_DIR_ENV = ENV_PREFIX + "SECRETS_DIR"
DEFAULT_SECRETS_DIR = "/run/secrets"
_TENANT = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^[a-z0-9-]+(\.[a-z0-9-]+)+$"
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TAG = re.compile(r"^[^,;\s][^,;]*$")
TOML_KEYS = ("tenant_id", "display_name", "domain", "client_id", "credential", "enabled", "tags")


@dataclass(frozen=True)
class TenantEntry:
    """One customer tenant in the registry (what ``tenants add`` takes, and a [[tenants]] table)."""

    tenant_id: str
    display_name: str
    domain: str | None = None
    client_id: str | None = None
    credential: str | None = None
    enabled: bool = True
    tags: tuple[str, ...] = ()


def check_entry(entry: TenantEntry, where: str = "") -> TenantEntry:
    """The entry normalised (ids and domain lower case, tags sorted), or one sentence on what is wrong.

    Raises:
        ConfigError: a bad tenant id, domain, credentials reference or tag; ``where`` prefixes it.
    """
    prefix = f"{where}: " if where else ""
    tenant_id = entry.tenant_id.strip().lower()
    if not _TENANT.match(tenant_id):
        raise ConfigError(f"{prefix}{entry.tenant_id!r} is not a tenant id: give its GUID or its domain.")
    name = entry.display_name.strip()
    if not name:
        raise ConfigError(f"{prefix}tenant {tenant_id} needs a display name.")
    domain = entry.domain.strip().lower() if entry.domain else None
    if domain is not None and not _TENANT.match(domain):
        raise ConfigError(f"{prefix}{entry.domain!r} is not a domain name (such as contoso.onmicrosoft.com).")
    client_id = entry.client_id.strip().lower() if entry.client_id else None
    if entry.credential and not client_id:
        raise ConfigError(
            f"{prefix}tenant {tenant_id} has a credentials reference but no client id: a per-tenant app "
            "needs both (without either, the configured multi-tenant app signs in)."
        )
    credential = check_reference(entry.credential, prefix) if entry.credential else None
    if client_id and not credential:
        raise ConfigError(
            f"{prefix}tenant {tenant_id} names its own app ({client_id}) but not where its credential is: "
            "add a credentials reference (env:NAME, file:PATH or secret:NAME)."
        )
    tags = tuple(sorted({t.strip() for t in entry.tags if t.strip()}))
    bad = [t for t in tags if not _TAG.match(t)]
    if bad:
        raise ConfigError(f"{prefix}tag {bad[0]!r} has a comma or semicolon: give each tag on its own.")
    return TenantEntry(tenant_id, name, domain, client_id, credential, bool(entry.enabled), tags)


def check_reference(reference: str, prefix: str = "") -> str:
    """A credentials reference as stored; anything else (such as a secret itself) is refused unshown."""
    kind, _, name = reference.strip().partition(":")
    ok = (
        (kind == "env" and _ENV_NAME.match(name))
        or (kind == "file" and name.strip() != "")
        or (kind == "secret" and _SECRET_NAME.match(name))
    )
    if not ok:
        # Never echo it: what was given may well be the secret itself.
        raise ConfigError(
            f"{prefix}a credentials reference is env:NAME, file:PATH or secret:NAME (where the secret is "
            "kept, never the secret itself); the value given is none of these and was not stored."
        )
    return f"{kind}:{name.strip()}"


def tenant_settings(base: Settings, entry: TenantEntry, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings that collect ``entry``: its tenant id, and the multi-tenant app or its own.

    Raises:
        ConfigError: the credential the reference names is not there (naming the reference only).
    """
    env = os.environ if environ is None else environ
    settings = dataclasses.replace(base, tenant_id=entry.tenant_id)
    if not entry.credential or not entry.client_id:
        return settings
    kind, _, name = entry.credential.partition(":")
    if kind == "file":
        if not Path(name).is_file():
            raise ConfigError(
                f"Tenant {entry.tenant_id}: its certificate file {name} (file:) is not readable."
            )
        return dataclasses.replace(
            settings, client_id=entry.client_id, client_secret=None, client_certificate=name,
            client_certificate_password=None,
        )  # fmt: skip
    if kind == "env":
        secret = env.get(name)
        if not secret:
            raise ConfigError(f"Tenant {entry.tenant_id}: the environment variable {name} (env:) is not set.")
    else:
        path = Path(env.get(SECRETS_DIR_ENV) or DEFAULT_SECRETS_DIR) / name
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError:
            raise ConfigError(
                f"Tenant {entry.tenant_id}: the secret {name} is not readable at {path}."
            ) from None
        if not secret:
            raise ConfigError(f"Tenant {entry.tenant_id}: the secret file {path} is empty.")
    return dataclasses.replace(
        settings, client_id=entry.client_id, client_secret=secret, client_certificate=None,
        client_certificate_password=None,
    )  # fmt: skip


def read_tenants_toml(path: Path) -> list[TenantEntry]:
    """The ``[[tenants]]`` tables of a TOML file (the configuration file may hold them), all checked.

    Raises:
        ConfigError: the file unreadable or not TOML, or any entry bad (naming it); nothing is returned
            unless every entry is good.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"The file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The file {path} cannot be read ({exc.__class__.__name__}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The file {path} is not valid TOML: {exc}.") from None
    section = data.get("license_desk", data)
    tables = section.get("tenants") if isinstance(section, dict) else None
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"The file {path} has no [[tenants]] tables.")
    entries, seen = [], set()
    for n, table in enumerate(tables, start=1):
        where = f"{path}, [[tenants]] number {n}"
        entry = check_entry(_entry_of(table, where), where)
        if entry.tenant_id in seen:
            raise ConfigError(f"{where}: tenant {entry.tenant_id} is listed twice.")
        seen.add(entry.tenant_id)
        entries.append(entry)
    return entries


def _entry_of(table: Any, where: str) -> TenantEntry:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} is not a table.")
    unknown = sorted(set(table) - set(TOML_KEYS))
    if unknown:
        raise ConfigError(
            f"{where} has unknown key(s) {', '.join(unknown)}; known keys are {', '.join(TOML_KEYS)}."
        )
    for key in ("tenant_id", "display_name"):
        if not isinstance(table.get(key), str):
            raise ConfigError(f"{where} needs {key} (text).")
    for key in ("domain", "client_id", "credential"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"{where}: {key} must be text.")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: enabled must be true or false.")
    tags = table.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ConfigError(f"{where}: tags must be a list of text.")
    return TenantEntry(
        table["tenant_id"], table["display_name"], table.get("domain"), table.get("client_id"),
        table.get("credential"), enabled, tuple(tags),
    )  # fmt: skip


def shard_of(tenant_id: str, shards: int) -> int:
    """Which of ``shards`` machines (1 to shards) collects this tenant: a hash of its id, the same
    on every machine and every run (Python's ``hash`` is not: it is salted per process)."""
    digest = hashlib.sha256(tenant_id.strip().lower().encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards + 1


def in_shard(entries: Sequence[TenantEntry], shard: tuple[int, int] | None) -> list[TenantEntry]:
    """The entries shard (K, N) collects; all of them without a shard."""
    if shard is None:
        return list(entries)
    k, n = shard
    return [e for e in entries if shard_of(e.tenant_id, n) == k]
