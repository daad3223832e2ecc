"""Who may see what: the dashboard's authorization decision, as pure functions.

Roles: ``viewer`` (inventory pages), ``finance`` (also costs, reclaim, renewals) and ``admin``
(also the audit log, "Collect now" and, when writes are enabled, Assign & fix). Roles come from
``[license_desk.roles]`` in ``.streamlit/secrets.toml``: lists of user object ids (``oid``), Entra
group object ids (the ``groups`` claim), or e-mail addresses / user principal names.

Tenants: when the store's registry has customer tenants, ``[license_desk.tenant_access]`` may
limit who sees which: it maps a registered tenant's id (or domain) to the people and groups who may
see it, and ``"*"`` to those who see every tenant. Once the section exists a person sees only the
tenants that name them (admins too: an MSP's operator may be admin of some customers only);
without it everyone with a role sees every tenant, as with one tenant.

Sign-in is on when the secrets hold an ``[auth]`` section. Nobody gets a role unless the ID
token's ``tid`` is the tenant configured for sign-in: ``[license_desk] tenant_id``, else the
tenant id in ``server_metadata_url`` (``https://login.microsoftonline.com/<tenant>/v2.0/...``).
Only when the secrets show no intent to sign in at all (no file, or no section or key that looks
like sign-in) does the dashboard run in local single-user mode, where the one local user has
every role. Anything in between (an ``[Auth]``, a missing key, roles without ``[auth]``) is a
broken configuration: ``AccessConfig.problem`` says what is wrong and the dashboard serves
nothing, because the silent alternative is giving every visitor every role.

Imports nothing from Streamlit, so it is tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlparse

from licensedesk.errors import LicenseDeskError
from licensedesk.tenants import TenantEntry


class Role(StrEnum):
    VIEWER = "viewer"
    FINANCE = "finance"
    ADMIN = "admin"


ALL_ROLES = frozenset(Role)
# Page file stem -> the role it needs; pages not listed need viewer.
PAGE_ROLES: dict[str, Role] = {
    "costs": Role.FINANCE,
    "reclaim": Role.FINANCE,
    "renewals": Role.FINANCE,
    "audit": Role.ADMIN,
    "fix": Role.ADMIN,
}
SECRETS_FILE = ".streamlit/secrets.toml"
EXAMPLE_FILE = ".streamlit/secrets.example.toml"
# What Streamlit's st.login requires (streamlit/auth_util.py, validate_auth_credentials).
AUTH_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
# Mappings inside [auth] that are options, not a provider section.
AUTH_OPTIONS = frozenset({"client_kwargs"})
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
EVERY_TENANT = "*"
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")


class AccessDenied(LicenseDeskError):
    """The signed-in person lacks the role an action needs."""


@dataclass(frozen=True)
class AccessConfig:
    """Parsed sign-in and role settings.

    Attributes:
        sign_in: an ``[auth]`` section exists, so people sign in with Entra.
        provider: the ``[auth.<name>]`` provider to pass to ``st.login``, or None for ``[auth]`` alone.
        tenant_id: the tenant (lower-case GUID) whose accounts may have a role.
        admins, finance, viewers: lower-cased identities or group ids; ``viewers`` None means
            every signed-in user of the tenant may view.
        tenant_access: (tenant id or domain, lower case; who may see it) pairs from
            ``[license_desk.tenant_access]``, or None when there is no such section (everyone with
            a role sees every tenant).
        problem: why the sign-in settings cannot be used (one sentence); the dashboard then
            serves nothing.
    """

    sign_in: bool
    provider: str | None = None
    tenant_id: str | None = None
    admins: frozenset[str] = frozenset()
    finance: frozenset[str] = frozenset()
    viewers: frozenset[str] | None = None
    tenant_access: tuple[tuple[str, frozenset[str]], ...] | None = None
    problem: str | None = None


def broken(problem: str) -> AccessConfig:
    """A configuration that serves nothing and says why."""
    return AccessConfig(sign_in=True, problem=problem)


def toml_problem(path: str, error: Exception) -> str:
    """The sentence for a secrets file TOML cannot parse: the file, the line, what is wrong.

    ``error`` is tomllib's; its message names the line but never a value, so no secret shows.
    """
    message = str(error)
    where = _TOML_WHERE.search(message)
    what = message[: where.start()] if where else message
    what = what[:1].lower() + what[1:] if what else "it is not valid TOML"
    at = f" at line {where.group(1)}" if where and where.group(1) else ""
    return (
        f"The secrets file {path} cannot be read{at} ({what}), so sign-in cannot be checked; fix it, or "
        "remove the file to run in local single-user mode."
    )


def access_config(secrets: Mapping[str, Any]) -> AccessConfig:
    """Read ``[auth]`` and ``[license_desk]`` from the secrets mapping (``st.secrets`` as a dict)."""
    auth = secrets.get("auth")
    if auth is None:
        hint = _sign_in_intent(secrets)
        if hint is None:
            return AccessConfig(sign_in=False)
        return broken(_broken(f"{hint}, but there is no [auth] section (written in lower case)"))
    if not isinstance(auth, Mapping):
        return broken(_broken("auth must be a section ([auth]), not a single value"))
    for key in AUTH_KEYS:
        if not _filled(auth.get(key)):
            return broken(_broken(_missing(key, "[auth]", auth.get(key))))
    providers = [
        name for name, value in auth.items() if isinstance(value, Mapping) and name not in AUTH_OPTIONS
    ]
    if len(providers) > 1:
        named = " and ".join(f"[auth.{name}]" for name in providers)
        return broken(_broken(f"License Desk signs in with one provider, and {named} are two"))
    provider = providers[0] if providers else None
    if provider is not None and "_" in provider:
        return broken(_broken(f"the provider name in [auth.{provider}] may not contain an underscore"))
    where = f"[auth.{provider}]" if provider else "[auth]"
    settings: Mapping[str, Any] = auth[provider] if provider else auth
    for key in PROVIDER_KEYS:
        if not _filled(settings.get(key)):
            return broken(_broken(_missing(key, where, settings.get(key))))
    section = secrets.get("license_desk")
    section = section if isinstance(section, Mapping) else {}
    tenant_id, tenant_problem = _tenant(settings["server_metadata_url"], section.get("tenant_id"), where)
    if tenant_problem:
        return broken(_broken(tenant_problem))
    roles = section.get("roles")
    roles = roles if isinstance(roles, Mapping) else {}
    viewers = roles.get("viewer")
    tenant_access, access_problem = _tenant_access(section.get("tenant_access"))
    if access_problem:
        return broken(_broken(access_problem))
    return AccessConfig(
        sign_in=True,
        provider=provider,
        tenant_id=tenant_id,
        admins=_names(roles.get("admin")),
        finance=_names(roles.get("finance")),
        viewers=None if viewers is None else _names(viewers),
        tenant_access=tenant_access,
    )


def roles_for(claims: Mapping[str, Any], config: AccessConfig) -> frozenset[Role]:
    """The roles of the person behind ``claims`` (``st.user`` as a dict).

    Only an account of the configured tenant (``tid``) has a role; it is matched on its object id
    (``oid``), its groups, or its e-mail address / user principal name. Admins are also finance
    and viewers; finance are also viewers.
    """
    if config.problem:
        return frozenset()
    if not config.sign_in:
        return ALL_ROLES
    if not claims.get("is_logged_in") or not in_tenant(claims, config):
        return frozenset()
    identities = _identities(claims)
    if identities & config.admins:
        return ALL_ROLES
    if identities & config.finance:
        return frozenset({Role.FINANCE, Role.VIEWER})
    if config.viewers is None or identities & config.viewers:
        return frozenset({Role.VIEWER})
    return frozenset()


def visible_tenants(
    tenants: Sequence[TenantEntry], claims: Mapping[str, Any], config: AccessConfig
) -> list[TenantEntry]:
    """The registered tenants the person behind ``claims`` may see, in the registry's order.

    Nobody without a role sees any; without ``[license_desk.tenant_access]`` (and in local
    single-user mode) everyone with a role sees all; with it, only those naming the person (their
    ``oid``, a group, their e-mail or UPN) under the tenant's id or domain, or under ``"*"``.
    """
    if not roles_for(claims, config):
        return []
    if config.tenant_access is None or not config.sign_in:
        return list(tenants)
    identities = _identities(claims)
    allowed = {key for key, who in config.tenant_access if who & identities}
    if EVERY_TENANT in allowed:
        return list(tenants)
    return [t for t in tenants if t.tenant_id.lower() in allowed or (t.domain or "").lower() in allowed]


def choose_tenant(
    visible: Sequence[TenantEntry], asked: str | None, remembered: str | None
) -> TenantEntry | None:
    """The tenant a session shows: the one ``?tenant=`` asks for (by id or domain), else the one
    remembered in the session, else the first; only ever one of ``visible`` (None when it is empty),
    so neither a link nor stale session state can reach a tenant the person may not see."""
    for wanted in (asked, remembered):
        key = (wanted or "").strip().lower()
        for tenant in visible:
            if key and key in (tenant.tenant_id.lower(), (tenant.domain or "").lower()):
                return tenant
    return visible[0] if visible else None


def in_tenant(claims: Mapping[str, Any], config: AccessConfig) -> bool:
    """Whether the token was issued for an account of the configured tenant."""
    tid = claims.get("tid")
    return config.tenant_id is not None and isinstance(tid, str) and tid.strip().lower() == config.tenant_id


def may_open(page: str, roles: Iterable[Role]) -> bool:
    """Whether someone with ``roles`` may open the page whose file stem is ``page``."""
    return PAGE_ROLES.get(page, Role.VIEWER) in set(roles)


def describe(claims: Mapping[str, Any], config: AccessConfig, roles: frozenset[Role]) -> str:
    """One line for the sidebar saying who is using the dashboard and with which rights."""
    if not config.sign_in:
        return "Local single-user mode: sign-in is not configured, so this session has every role."
    who = claims.get("email") or claims.get("preferred_username") or claims.get("name") or "signed-in user"
    shown = ", ".join(r.value for r in Role if r in roles) or "no role"
    return f"Signed in as {who} ({shown})."


def no_role(claims: Mapping[str, Any], config: AccessConfig) -> str:
    """Why a signed-in person sees nothing, and what to do."""
    if not in_tenant(claims, config):
        return (
            f"{describe(claims, config, frozenset())} This account is not from your organisation's tenant; "
            "sign out and sign in with your work account."
        )
    return f"{describe(claims, config, frozenset())} You have no License Desk role; ask an administrator to add you."


def _broken(what: str) -> str:
    return (
        f"Sign-in is not set up correctly in {SECRETS_FILE}: {what}; fix it (see {EXAMPLE_FILE}), or remove "
        "the sign-in settings to run in local single-user mode."
    )


def _missing(key: str, where: str, value: Any) -> str:
    if value is None:
        return f"{where} has no {key}"
    return f"{key} in {where} is empty or still the example's placeholder"


def _filled(value: Any) -> bool:
    # "<...>" is how secrets.example.toml marks what to fill in.
    return isinstance(value, str) and bool(value.strip()) and not re.fullmatch(r"\s*<.*>\s*", value)


def _sign_in_intent(secrets: Mapping[str, Any]) -> str | None:
    """What in secrets without ``[auth]`` shows someone meant to configure sign-in, if anything."""
    for name, value in secrets.items():
        if name.lower().startswith(("auth", "oauth", "oidc")):
            return f"it has a [{name}] section"
        if name in (*AUTH_KEYS, *PROVIDER_KEYS):
            return f"it has {name} outside any section"
        if isinstance(value, Mapping):
            keys = [k for k in (*AUTH_KEYS, *PROVIDER_KEYS) if k in value]
            if keys and name != "license_desk":
                return f"[{name}] has {keys[0]}"
    section = secrets.get("license_desk")
    if isinstance(section, Mapping):
        shown = {
            "roles": "[license_desk.roles]",
            "tenant_access": "[license_desk.tenant_access]",
            "tenant_id": "tenant_id under [license_desk]",
        }
        for key, where in shown.items():
            if key in section:
                return f"it has {where}"
    return None


def _tenant(metadata_url: str, configured: Any, where: str) -> tuple[str | None, str | None]:
    """The tenant id sign-in is for, or the reason it cannot be told."""
    path = urlparse(metadata_url.strip()).path.strip("/").split("/")
    in_url = path[0].lower() if path and _GUID.match(path[0]) else None
    if configured is not None:
        if not isinstance(configured, str) or not _GUID.match(configured.strip()):
            return None, "tenant_id under [license_desk] must be your tenant's id (a GUID)"
        tenant = configured.strip().lower()
        if in_url and in_url != tenant:
            return None, f"tenant_id under [license_desk] is not the tenant in server_metadata_url of {where}"
        return tenant, None
    if in_url:
        return in_url, None
    named = f" names {path[0]!r}" if path and path[0] else " names no tenant"
    return None, (
        f"server_metadata_url in {where}{named} rather than a tenant id, so sign-in cannot be limited to your "
        "organisation; set tenant_id under [license_desk] to your tenant's id (a GUID)"
    )


def _tenant_access(section: Any) -> tuple[tuple[tuple[str, frozenset[str]], ...] | None, str | None]:
    """``[license_desk.tenant_access]`` as (tenant, who) pairs, or the reason it cannot be used."""
    if section is None:
        return None, None
    if not isinstance(section, Mapping):
        return None, "tenant_access under [license_desk] must be a section ([license_desk.tenant_access])"
    pairs = []
    for tenant, who in section.items():
        if isinstance(who, str) or not isinstance(who, list) or not all(isinstance(w, str) for w in who):
            return None, (
                f"{tenant} in [license_desk.tenant_access] must be a list of object ids, group ids or e-mail "
                "addresses (in brackets, even for one)"
            )
        pairs.append((str(tenant).strip().lower(), _names(who)))
    return tuple(pairs), None


def _identities(claims: Mapping[str, Any]) -> frozenset[str]:
    """What a person is matched on: their object id, e-mail, user principal name and groups."""
    identities = _names([claims.get(k) for k in ("oid", "email", "preferred_username")])
    groups = claims.get("groups")
    return identities | _names(groups if isinstance(groups, list) else [])


def _names(values: Any) -> frozenset[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable):
        return frozenset()
    return frozenset(str(v).strip().lower() for v in values if isinstance(v, str) and v.strip())
