"""Names people read: SKU names, group names, and where a licence comes from.

Every page says "via group X" and "Microsoft 365 E3" the same way because they all use these.
Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

DIRECT = "Direct"


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
