"""Who may see what: the dashboard's authorization decision, as pure functions.

Roles: ``viewer`` (inventory pages), ``finance`` (also costs, reclaim, renewals) and ``admin``
(also the audit log and, when writes are enabled, Assign & fix). Roles come from
``[license_desk.roles]`` in ``.streamlit/secrets.toml``: lists of e-mail addresses / user
principal names, user object ids, or Entra group object ids (the ``groups`` claim). Without
sign-in configured (no ``[auth]`` section) the dashboard runs in local single-user mode and
the one local user has every role. Imports nothing from Streamlit, so it is tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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


@dataclass(frozen=True)
class AccessConfig:
    """Parsed sign-in and role settings.

    Attributes:
        sign_in: an ``[auth]`` section exists, so people sign in with Entra.
        provider: the ``[auth.<name>]`` provider to pass to ``st.login``, or None for ``[auth]`` alone.
        admins, finance, viewers: lower-cased identities or group ids; ``viewers`` None means
            every signed-in user may view.
    """

    sign_in: bool
    provider: str | None = None
    admins: frozenset[str] = frozenset()
    finance: frozenset[str] = frozenset()
    viewers: frozenset[str] | None = None


def access_config(secrets: Mapping[str, Any]) -> AccessConfig:
    """Read ``[auth]`` and ``[license_desk.roles]`` from the secrets mapping."""
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping):
        return AccessConfig(sign_in=False)
    providers = [name for name, value in auth.items() if isinstance(value, Mapping)]
    section = secrets.get("license_desk")
    roles = section.get("roles") if isinstance(section, Mapping) else None
    roles = roles if isinstance(roles, Mapping) else {}
    viewers = roles.get("viewer")
    return AccessConfig(
        sign_in=True,
        provider=providers[0] if providers else None,
        admins=_names(roles.get("admin")),
        finance=_names(roles.get("finance")),
        viewers=None if viewers is None else _names(viewers),
    )


def roles_for(claims: Mapping[str, Any], config: AccessConfig) -> frozenset[Role]:
    """The roles of the person behind ``claims`` (``st.user`` as a dict).

    Admins are also finance and viewers; finance are also viewers.
    """
    if not config.sign_in:
        return ALL_ROLES
    if not claims.get("is_logged_in"):
        return frozenset()
    identities = _names([claims.get(k) for k in ("email", "preferred_username", "oid", "sub")])
    groups = claims.get("groups")
    identities |= _names(groups if isinstance(groups, list) else [])
    if identities & config.admins:
        return ALL_ROLES
    if identities & config.finance:
        return frozenset({Role.FINANCE, Role.VIEWER})
    if config.viewers is None or identities & config.viewers:
        return frozenset({Role.VIEWER})
    return frozenset()


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


def _names(values: Any) -> frozenset[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable):
        return frozenset()
    return frozenset(str(v).strip().lower() for v in values if isinstance(v, str) and v.strip())
