"""Names people read: SKU names, group names, where a licence comes from, and table headers.

Every page says "via group X" and "Microsoft 365 E3" the same way because they all use these.
Tables are built with the documented snake_case keys (the CLI's CSV and JSON, the downloads);
``table_labels`` is what a person reads above each column instead.
Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

DIRECT = "Direct"
# Column key -> header, where turning the key into words (``column_label``'s fallback) reads badly.
COLUMN_LABELS: dict[str, str] = {
    "sku_part_number": "Part number",
    "known": "In catalog",
    "counts_as_unused": "Counted",
    "counts_as_waste": "Counted as waste",
    "holds_seat": "Holds a seat",
    "frees_seat": "Frees a seat",
    "service_plan_name": "Service plan",
    "group_name": "Group",
    "country": "Usage location",
    "last_sign_in": "Last sign-in",
    "created_at": "Created",
    "finished_at": "Finished",
    "rate_per_day": "Seats per day",
    "runout_date": "Runs out",
    "never_seats": "Never-signed-in seats",
    "never_signed_in_cost": "Never-signed-in cost",
    "unpriced_seats": "Seats without a price",
    "bucket": "Charged to",
    "min_free_seats": "Minimum free seats",
    "max_utilization_percent": "Maximum utilization %",
    "next_lifecycle_at": "Next lifecycle date",
    "next_lifecycle": "Next lifecycle date",
    "is_trial": "Trial",
    "term_source": "Term from",
    "total_licenses": "Licences",
    "licenses": "Licences",
    "droppable_seats": "Seats to drop",
    "duration_seconds": "Duration (s)",
    "request_count": "Requests",
    "retry_count": "Retries",
    "user_count": "Users",
    "license_count": "Licences",
    "sku_count": "SKUs",
    "group_count": "Groups",
    "signin_available": "Sign-in data",
    "actor": "Who",
    "plan_id": "Plan",
    "target_id": "Exempt",
    "label": "Name",
    "note": "Why",
    "sku_name": "SKU",
    "user_principal_name": "User",
    "display_name": "Name",
    "other_sku_id": "Covering SKU ID",
    "other_sku": "Covering SKU",
    "users_in_store": "Users holding it",
    "capability_status": "Status",
    "account_enabled": "Enabled",
    "sku_part_numbers": "SKUs assigned",
    "free": "Free or viral",
    "unpriced_skus": "SKUs without a price",
}
# Words that keep their own spelling in a header made from a key.
_WORDS = {"sku": "SKU", "skus": "SKUs", "id": "ID", "ids": "IDs", "upn": "UPN", "http": "HTTP", "utc": "UTC"}
_GUID = re.compile(r"^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$", re.IGNORECASE)
_SAMPLE = 20
_PERIODS = {"_monthly": " per month", "_annual": " per year"}


def column_label(column: str) -> str:
    """The header people read for a column key: ``COLUMN_LABELS``, else the key in Sentence case
    (``seats_short`` -> "Seats short", ``sku_id`` -> "SKU ID", ``waste_cost_monthly`` -> "Waste cost
    per month")."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    for suffix, period in _PERIODS.items():
        if column.endswith(suffix):
            return column_label(column.removesuffix(suffix)) + period
    words = [_WORDS.get(w.lower(), w) for w in column.replace("_", " ").split()]
    if not words:
        return column
    first = words[0]
    words[0] = first if first in _WORDS.values() else first[:1].upper() + first[1:]
    return " ".join(words)


def table_labels(columns: Iterable[object]) -> dict[str, str]:
    """Column key -> header for every column of a table."""
    return {str(c): column_label(str(c)) for c in columns}


def id_columns(frame: pd.DataFrame) -> list[str]:
    """The columns that hold object ids people do not read: a key ending in ``_id`` or ``_ids``
    (unless ``COLUMN_LABELS`` names it: ``target_id`` is a UPN as often as an id), or values that
    are all GUIDs (the first ones are sampled)."""
    found: list[str] = []
    for column in map(str, frame.columns):
        if column in COLUMN_LABELS:
            continue
        values = frame[column].dropna().head(_SAMPLE).tolist()
        if column.endswith(("_id", "_ids")) or (
            values and all(isinstance(v, str) and _GUID.match(v) for v in values)
        ):
            found.append(column)
    return found


def sku_names(*seat_tables: pd.DataFrame) -> dict[str, str]:
    """skuId -> display name from one or more ``seat_table`` outputs (later tables win)."""
    names: dict[str, str] = {}
    for table in seat_tables:
        names.update({str(k): str(v) for k, v in zip(table["sku_id"], table["name"], strict=True)})
    return names


def group_names(*groups: pd.DataFrame) -> dict[str, str]:
    """Group id -> display name from ``licensed_groups`` frames (later frames win; the id itself
    when a group has no name)."""
    out: dict[str, str] = {}
    for frame in groups:
        for gid, name in zip(frame["group_id"], frame["group_name"], strict=True):
            out[str(gid)] = str(name) if isinstance(name, str) and name else str(gid)
    return out


def source_label(group_id: str, names: Mapping[str, str]) -> str:
    """'Direct' for a direct assignment, else 'via <group name>'."""
    if not group_id:
        return DIRECT
    return f"via {names.get(group_id, group_id)}"


def sku_label(sku_id: str, names: Mapping[str, str]) -> str:
    """A SKU's display name, or its id when the snapshot does not list it."""
    return names.get(sku_id, sku_id)


def assignment_text(state: str, error: str) -> str:
    """'Active' or 'Error (CountViolation)'."""
    return f"{state} ({error})" if error else state
