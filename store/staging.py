"""The rows of a snapshot, declared once: a typed row per table, and how each is kept.

Per-snapshot facts (SKUs, plans, subscriptions, groups) are staged in TEMP tables (private to the
collection's connection) until the snapshot's one transaction copies them. Per-user rows (users,
licences, sign-ins) are not staged: each page of them is compared with the history and its
changes published as it arrives (``store.publish``). Each table's columns are the fields of its
row type, in order, with their SQL type taken from the field's Python type (``int`` -> INTEGER,
else TEXT). Collectors build these rows, and the store creates, fills and reads the tables from
the same declaration, so a column cannot be added, dropped or moved in one place only.

The collector's hot loop (``collectors.user_rows.user_page_tuples``) builds plain tuples in these
fields' order rather than the NamedTuples (a NamedTuple costs a Python call per row, and sqlite3
binds a tuple subclass ~2.7x slower); ``stage_user_page`` checks their width against the
declaration, and tests/collectors/test_rows.py that they equal the named rows.

What SQLite and PostgreSQL do differently with these tables (typed columns) is in
``store.db.Dialect``; this module only reads it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from licensedesk.errors import StoreError
from store.db import Store


class SkuRow(NamedTuple):
    sku_id: str
    sku_part_number: str
    applies_to: str | None
    capability_status: str | None
    enabled: int
    warning: int
    suspended: int
    locked_out: int
    consumed: int


class ServicePlanRow(NamedTuple):
    sku_id: str
    service_plan_id: str
    service_plan_name: str | None
    provisioning_status: str | None
    applies_to: str | None


class SubscriptionRow(NamedTuple):
    subscription_id: str
    commerce_subscription_id: str | None
    sku_id: str | None
    sku_part_number: str | None
    status: str | None
    total_licenses: int
    is_trial: int | None
    created_at: str | None
    next_lifecycle_at: str | None


class GroupRow(NamedTuple):
    group_id: str
    display_name: str | None
    processing_state: str | None
    has_errors: int


class GroupLicenseRow(NamedTuple):
    group_id: str
    sku_id: str
    disabled_plans: str


class ErrorMemberRow(NamedTuple):
    group_id: str
    user_id: str


class UserRow(NamedTuple):
    user_id: str
    user_principal_name: str | None
    display_name: str | None
    account_enabled: int | None
    user_type: str | None
    usage_location: str | None
    department: str | None
    company_name: str | None
    job_title: str | None
    created_at: str | None


class LicenseRow(NamedTuple):
    user_id: str
    sku_id: str
    assigned_by_group: str  # "" for a direct assignment
    state: str
    error: str  # "" for no error
    disabled_plans: str
    last_updated_at: str | None


class AssignedRow(NamedTuple):
    """A SKU in the user's ``assignedLicenses``: what Graph counts in consumedUnits."""

    user_id: str
    sku_id: str


class SignInRow(NamedTuple):
    user_id: str
    last_sign_in_at: str | None
    last_non_interactive_at: str | None
    last_successful_at: str | None


class HoldersRow(NamedTuple):
    """Users holding a SKU in this snapshot (counted as ``stage_assigned`` rows arrive)."""

    sku_id: str
    holders: int


# What makes a licence row "the same" from one snapshot to the next (lastUpdated is carried along).
LICENSE_IDENTITY = LicenseRow._fields[:6]
USER_ATTRS = UserRow._fields[1:]


@dataclass(frozen=True)
class Staging:
    """One staging table: its row type, its key, and how it is filled and published."""

    name: str
    row: type[tuple[Any, ...]]  # a NamedTuple class: the columns are its fields
    key: tuple[str, ...]
    # One row per user (or per user and key): never a TEMP table. Users, licences and sign-ins
    # are published page by page into their history tables (``store.publish.HISTORY``); assigned
    # SKUs are only counted (``stage_holders``).
    per_user: bool = False
    fact: str | None = None  # the stored per-snapshot table it is copied into as it is

    @property
    def columns(self) -> tuple[str, ...]:
        return cast(tuple[str, ...], self.row._fields)  # type: ignore[attr-defined]

    def sql_types(self) -> dict[str, str]:
        hints = typing.get_type_hints(self.row)
        return {name: "INTEGER" if _is_int(hints[name]) else "TEXT" for name in self.columns}


def _is_int(hint: Any) -> bool:
    if isinstance(hint, types.UnionType):
        return int in typing.get_args(hint)
    return hint is int


STAGING: dict[str, Staging] = {
    table.name: table
    for table in (
        Staging("stage_skus", SkuRow, ("sku_id",)),
        Staging("stage_plans", ServicePlanRow, ("sku_id", "service_plan_id"), fact="sku_service_plans"),
        Staging("stage_subscriptions", SubscriptionRow, ("subscription_id",), fact="subscriptions"),
        Staging("stage_groups", GroupRow, ("group_id",), fact="licensed_groups"),
        Staging("stage_group_licenses", GroupLicenseRow, ("group_id", "sku_id"), fact="group_licenses"),
        Staging("stage_error_members", ErrorMemberRow, ("group_id", "user_id"), fact="group_error_members"),
        Staging("stage_users", UserRow, ("user_id",), per_user=True),
        Staging("stage_licenses", LicenseRow, ("user_id", "sku_id", "assigned_by_group"), per_user=True),
        Staging("stage_assigned", AssignedRow, ("user_id", "sku_id"), per_user=True),
        Staging("stage_signins", SignInRow, ("user_id",), per_user=True),
        Staging("stage_holders", HoldersRow, ("sku_id",)),
    )
}  # fmt: skip
# The tables a page of users fills (``SnapshotWriter.stage_user_page``), in its arguments' order.
PAGE_TABLES = ("stage_users", "stage_licenses", "stage_assigned", "stage_signins")


def table(name: str) -> Staging:
    try:
        return STAGING[name]
    except KeyError:
        raise StoreError(f"Internal error: there is no staging table {name!r}.") from None


class StagingTables:
    """The TEMP tables of one collection's per-snapshot facts: created, filled, dropped."""

    def __init__(self, store: Store) -> None:
        self.conn, self.dialect = store.conn, store.dialect
        self.prefix = store.dialect.temp

    def create(self) -> None:
        """(Re)create every staging table, empty."""
        for statement in self.dialect.temp_setup:
            self.conn.execute(statement)
        for staged in STAGING.values():
            self.conn.execute(f"DROP TABLE IF EXISTS {self.prefix}{staged.name}")
            if staged.per_user:
                continue
            columns = [self._column(name, kind) for name, kind in staged.sql_types().items()]
            key = f"PRIMARY KEY ({', '.join(staged.key)})"
            self.conn.execute(f"CREATE TEMP TABLE {staged.name} ({', '.join(columns)}, {key})")

    def _column(self, name: str, kind: str) -> str:
        return f"{name} {kind}" if self.dialect.typed_temp else name

    def drop(self) -> None:
        for staged in STAGING.values():
            if not staged.per_user:
                self.conn.execute(f"DROP TABLE IF EXISTS {self.prefix}{staged.name}")

    def insert(self, name: str, rows: Iterable[Sequence[Any]]) -> None:
        """Add rows in the table's column order; the first row of a repeated key is kept."""
        staged = table(name)
        if staged.per_user:
            raise StoreError(f"Internal error: {name} rows are published, not staged.")
        marks = ", ".join("?" for _ in staged.columns)
        # Plain tuples: sqlite3 binds a tuple subclass (our NamedTuple rows) ~2.7x slower.
        self.conn.executemany(
            f"INSERT INTO {self.prefix}{name} ({', '.join(staged.columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            map(tuple, rows),
        )

    def count(self, name: str) -> int:
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {self.prefix}{name}").fetchone()[0])
