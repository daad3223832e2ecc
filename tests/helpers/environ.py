"""Which environment variables could point a test at a real tenant, a proxy or another CA."""

from __future__ import annotations

import os

_LEAKY_PREFIXES = ("LICENSE_DESK_", "AZURE_", "MSAL_")
_LEAKY_NAMES = frozenset(
    {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy"}
)
# Read once at import, before the clean_environ fixture strips LICENSE_DESK_* from every test.
POSTGRES_REQUIRED = os.environ.get("LICENSE_DESK_TEST_POSTGRES") == "required"


def leaky(name: str) -> bool:
    """Whether the variable ``name`` is one a test must not inherit."""
    return name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES
