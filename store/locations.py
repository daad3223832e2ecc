"""Where a store is: an SQLite file path (or ``sqlite:///path``) or a ``postgresql://`` URL, and
how a location may be shown. Kept apart from ``store.db`` so ``store.postgres`` can name a
location in its errors without importing the module that imports it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite:///"


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


def sqlite_path(location: str | Path) -> Path:
    text = str(location)
    return Path(text[len(SQLITE_SCHEME) :] if text.startswith(SQLITE_SCHEME) else text)


def describe(location: str | Path) -> str:
    """The location as it may be shown or logged: a URL loses its password."""
    text = str(location)
    if not is_postgres(text):
        return str(sqlite_path(text))
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
