"""OData query options as Graph's directory endpoints accept them: $select, $top, $filter, paging.

Why strict: the collectors must be tested against a service that refuses what Graph refuses
($top=1000, unknown properties, unsupported filters, tampered page tokens), not one that silently
accepts anything. Skip tokens are opaque and tamper-proof: the page offset is masked and the token
carries an HMAC over the offset and a fingerprint of the query, under a key that is random per
simulator, so a token edited by hand, or taken from another query or another simulator, is refused.
Imports graphsim.errors only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from graphsim.errors import GraphError, bad_request

MAX_TOP = 999
DEFAULT_TOP = 100
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TOKEN_MAGIC = b"GSpt\x01"


def check_options(query: Mapping[str, str], allowed: Iterable[str], resource: str) -> None:
    """400 for any $-option the endpoint does not support (plain parameters are ignored, as Graph does)."""
    allowed_set = set(allowed)
    for name in query:
        if name.startswith("$") and name.lower() not in allowed_set:
            raise bad_request(f"Query option '{name}' is not supported for the resource '{resource}'.")


def parse_select(raw: str | None, properties: Sequence[str], type_name: str) -> list[str] | None:
    """$select -> canonical property names (case-insensitive), or None when absent."""
    if raw is None:
        return None
    by_lower = {p.lower(): p for p in properties}
    out: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        canonical = by_lower.get(name.lower())
        if canonical is None:
            raise bad_request(
                f"Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'."
            )
        if canonical not in out:
            out.append(canonical)
    return out or None


def parse_top(raw: str | None) -> int | None:
    """$top must be an integer from 1 to 999."""
    if raw is None:
        return None
    if not re.fullmatch(r"\s*\d+\s*", raw) or not 1 <= int(raw) <= MAX_TOP:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and {MAX_TOP} inclusive.")
    return int(raw)


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed $filter: kind is one of sku, accountEnabled, userType, usageLocation, ids, licenseErrors,
    displayName."""

    kind: str
    value: str | bool | frozenset[str]


_SKU_ANY = re.compile(rf"assignedLicenses/any\((\w+):\s*\1/skuId\s+eq\s+'?({_GUID})'?\)", re.I)
_USER_FILTERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"accountEnabled\s+eq\s+(true|false)", re.I), "accountEnabled"),
    (re.compile(r"userType\s+eq\s+'(Member|Guest)'", re.I), "userType"),
    (re.compile(r"usageLocation\s+eq\s+'([A-Za-z]{2})'", re.I), "usageLocation"),
    (re.compile(r"id\s+in\s+\(\s*('[^']*'(?:\s*,\s*'[^']*')*)\s*\)", re.I), "ids"),
)


def _unsupported(raw: str, resource: str) -> GraphError:
    prop = re.match(r"\s*([A-Za-z]+)", raw)
    if prop:
        return GraphError(
            400,
            "Request_UnsupportedQuery",
            f"Unsupported or invalid query filter clause specified for property '{prop.group(1)}' "
            f"of resource '{resource}'.",
        )
    return GraphError(400, "Request_UnsupportedQuery", "Unsupported Query.")


def parse_user_filter(raw: str | None) -> Filter | None:
    """The $filter forms the simulator supports on /users; anything else is 400 Request_UnsupportedQuery."""
    if raw is None:
        return None
    text = raw.strip()
    m = _SKU_ANY.fullmatch(text)
    if m:
        return Filter("sku", m.group(2).lower())
    for pattern, kind in _USER_FILTERS:
        m = pattern.fullmatch(text)
        if not m:
            continue
        value = m.group(1)
        if kind == "accountEnabled":
            return Filter(kind, value.lower() == "true")
        if kind == "userType":
            return Filter(kind, value.capitalize())
        if kind == "usageLocation":
            return Filter(kind, value.upper())
        return Filter(kind, frozenset(v.strip().strip("'").lower() for v in value.split(",")))
    raise _unsupported(text, "User")


def parse_group_filter(raw: str | None, *, advanced: bool) -> Filter | None:
    """Group filters; hasMembersWithLicenseErrors refuses advanced-query mode, as Graph does."""
    if raw is None:
        return None
    text = raw.strip()
    m = _SKU_ANY.fullmatch(text)
    if m:
        return Filter("sku", m.group(2).lower())
    name = re.fullmatch(r"displayName\s+eq\s+'((?:[^']|'')*)'", text, re.I)
    if name:  # Graph compares names case-insensitively; a quote inside the literal is doubled
        return Filter("displayName", name.group(1).replace("''", "'"))
    if re.fullmatch(r"hasMembersWithLicenseErrors\s+eq\s+true", text, re.I):
        if advanced:
            raise _unsupported(text, "Group")
        return Filter("licenseErrors", True)
    raise _unsupported(text, "Group")


class PageTokens:
    """Mints and checks opaque $skiptoken values bound to one query."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @staticmethod
    def fingerprint(path: str, query: Mapping[str, str]) -> bytes:
        """What a token is bound to: the resource path and every option except the token itself."""
        parts = [path.lower()] + sorted(
            f"{k.lower()}={v}" for k, v in query.items() if k.lower() != "$skiptoken"
        )
        return hashlib.sha256("\n".join(parts).encode()).digest()[:8]

    def _mask(self, fingerprint: bytes) -> int:
        return int.from_bytes(hmac.new(self._key, b"mask" + fingerprint, "sha256").digest()[:8], "big")

    def encode(self, offset: int, fingerprint: bytes) -> str:
        body = _TOKEN_MAGIC + struct.pack(">Q", offset ^ self._mask(fingerprint)) + fingerprint
        mac = hmac.new(self._key, body, "sha256").digest()[:16]
        return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")

    def decode(self, token: str, fingerprint: bytes) -> int:
        """The offset a token stands for; 400 if it was altered or belongs to another query."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raw = b""
        body, mac = raw[:-16], raw[-16:]
        good = len(raw) == len(_TOKEN_MAGIC) + 8 + 8 + 16 and body.startswith(_TOKEN_MAGIC)
        expected = hmac.new(self._key, body, "sha256").digest()[:16]
        if not good or not hmac.compare_digest(mac, expected) or body[-8:] != fingerprint:
            raise bad_request("The specified page token value is not valid for this request.")
        (masked,) = struct.unpack(">Q", body[len(_TOKEN_MAGIC) : len(_TOKEN_MAGIC) + 8])
        return int(masked ^ self._mask(fingerprint))
