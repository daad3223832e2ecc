"""PostgreSQL behind the same small connection interface as sqlite3.

Store modules are written once, against sqlite3's API and placeholders (``?`` and ``:name``).
This adapter translates the placeholders for psycopg, keeps psycopg in autocommit mode so that
``Store.atomic`` alone decides where transactions begin and end (as with sqlite3's
``isolation_level=None``), and makes values come back as sqlite3 gives them: booleans are
stored as 0/1 integers, and integral NUMERIC results (``SUM`` of a BIGINT) as ints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus

from licensedesk.errors import StoreError
from store.locations import describe

DatabaseError = psycopg.Error

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def _positional(sql: str) -> str:
    # Our SQL has no '?' inside string literals; a literal '%' (a LIKE pattern) is doubled so
    # psycopg keeps it.
    return sql.replace("%", "%%").replace("?", "%s")


@lru_cache(maxsize=512)
def _named(sql: str) -> str:
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


class _BoolAsInteger(Dumper):
    oid = psycopg.postgres.types["int4"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _NumericAsNumber(Loader):
    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


def first_line(exc: BaseException) -> str:
    """psycopg's message without libpq's detail lines (which can repeat the host and user)."""
    text = str(exc).strip().splitlines()
    return text[0].strip() if text else type(exc).__name__


class PostgresConnection:
    """The subset of ``sqlite3.Connection`` that store modules use, over psycopg."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None, /) -> Any:
        if parameters is None:
            return self.raw.execute(sql)  # without parameters psycopg leaves '%' alone
        if isinstance(parameters, Mapping):
            return self.raw.execute(_named(sql), parameters)
        return self.raw.execute(_positional(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any:
        cur = self.raw.cursor()
        cur.executemany(_positional(sql), [tuple(row) for row in parameters])
        return cur

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Bulk-load rows with COPY: several times faster than INSERTs for staging."""
        with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        if self.in_transaction:
            self.raw.execute(b"COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute(b"ROLLBACK")

    def close(self) -> None:
        self.raw.close()


def connect(url: str) -> PostgresConnection:
    """Connect to ``url``.

    Raises:
        StoreError: the server cannot be reached or refuses us; the message never holds the
            password (libpq does not echo it, and the URL is shown without it).
    """
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="license-desk")
    except psycopg.Error as exc:
        raise StoreError(
            f"Cannot connect to the PostgreSQL store at {describe(url)} ({first_line(exc)})."
        ) from None
    raw.adapters.register_dumper(bool, _BoolAsInteger)
    raw.adapters.register_loader("numeric", _NumericAsNumber)
    return PostgresConnection(raw)


def has_table(conn: PostgresConnection, name: str) -> bool:
    """Whether ``name`` exists on the connection's search path."""
    try:
        row = conn.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()
    except psycopg.Error as exc:
        raise StoreError(f"Cannot read the PostgreSQL store ({first_line(exc)}).") from None
    return bool(row[0])
