"""The user table: one row per user with licences, assignment paths and activity, and its filters.

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from analysis.disabled_plans import split_plan_ids
from analysis.inactive import ACTIVITY_LABELS, HELD_STATES, distinct_values, utc
from analysis.labels import assignment_text, sku_label, source_label

NONE_LABEL = "(none)"  # a filter option meaning "no value recorded"
Path = Literal["any", "direct", "group"]
USER_COLUMNS = [
    "user_principal_name", "display_name", "department", "country", "enabled", "guest", "licenses",
    "assignment", "errors", "last_sign_in", "activity", "user_id",
]  # fmt: skip


def _joined_rows(keys: pd.Series, values: pd.Series) -> dict[str, str]:
    """``_joined`` the general way: one vectorised sort (``analysis.inactive.distinct_values``),
    then a join per key. A set per key built row by row costs several times more at 200,000 rows."""
    texts = [str(v) if v else "" for v in values.tolist()]
    frame = pd.DataFrame({"key": keys.to_numpy(dtype=object), "value": pd.Series(texts, dtype=object)})
    frame = frame[frame["value"] != ""]
    if frame.empty:
        return {}
    found = distinct_values(frame, ["key"], "value")
    return dict(zip(found["key"].tolist(), ["; ".join(v) for v in found["values"].tolist()], strict=True))


# Distinct texts a key's set of values is kept in as the bits of an int64 (``_joined``).
_MASK_BITS = 62


def _joined(keys: pd.Series, values: pd.Series) -> dict[str, str]:
    """Distinct non-empty values per key, sorted and joined with '; ' (keys with none left out).

    The values are a handful of SKU names or error codes over 200,000 rows: each key's set of them
    is a bit mask (``np.bitwise_or.at``) and each distinct mask is written once, instead of
    sorting 200,000 rows of text. Missing keys or values, or more distinct values than a mask
    holds, take the general way (``_joined_rows``), which gives the same result.
    """
    if keys.isna().any() or values.isna().any():
        return _joined_rows(keys, values)
    value_codes, uniques = pd.factorize(values)
    texts = [str(v) if v else "" for v in uniques.tolist()]
    ordered = sorted({t for t in texts if t})
    if len(ordered) > _MASK_BITS:
        return _joined_rows(keys, values)
    rank = {t: i for i, t in enumerate(ordered)}
    bits = np.array([1 << rank[t] if t else 0 for t in texts], dtype=np.int64)
    key_codes, key_uniques = pd.factorize(keys)
    masks = np.zeros(len(key_uniques), dtype=np.int64)
    np.bitwise_or.at(masks, key_codes, bits[value_codes])
    mask_codes, distinct_masks = pd.factorize(masks)
    joined = ["; ".join(t for i, t in enumerate(ordered) if m >> i & 1) for m in distinct_masks.tolist()]
    return {
        k: joined[c]
        for k, c, m in zip(key_uniques.tolist(), mask_codes.tolist(), masks.tolist(), strict=True)
        if m
    }


def user_table(
    users: pd.DataFrame,
    licenses: pd.DataFrame,
    activity: pd.DataFrame,
    sku_names: Mapping[str, str],
) -> pd.DataFrame:
    """One row per user.

    Args:
        users: ``store.queries.users`` rows.
        licenses: ``store.queries.user_licenses`` rows.
        activity: ``analysis.inactive.user_activity`` output.
        sku_names: skuId -> display name (``analysis.labels.sku_names``).

    Returns:
        ``USER_COLUMNS``: ``country`` is the usage location, ``enabled`` True/False/None,
        ``guest`` True for ``userType == Guest``, ``licenses`` the held SKUs' names joined with
        '; ', ``assignment`` 'Direct', 'Group', 'Direct + group' or '' (no licence rows),
        ``errors`` the error codes of the user's assignments joined, ``activity`` a readable label.
    """
    held = licenses["state"].isin(HELD_STATES)
    sku = licenses["sku_id"].map(dict(sku_names)).fillna(licenses["sku_id"])
    owners = licenses["user_id"].tolist()
    direct = licenses["assigned_by_group"].eq("").tolist()
    with_direct = {u for u, d in zip(owners, direct, strict=True) if d}
    with_group = {u for u, d in zip(owners, direct, strict=True) if not d}
    held_names = _joined(licenses.loc[held, "user_id"], sku[held])
    errors = _joined(licenses["user_id"], licenses["error"])
    # Per-user values looked up in the users' own order: aligning them as frames (an index union
    # of 100,000 ids, then a merge) costs more than computing them.
    ids = users["user_id"].tolist()
    out = users[["user_id", "user_principal_name", "display_name", "department"]].copy()
    out["country"] = users["usage_location"]
    enabled = users["account_enabled"].astype("Float64").to_numpy(dtype="float64", na_value=float("nan"))
    out["enabled"] = [None if v != v else bool(v) for v in enabled.tolist()]  # v != v: NaN, unknown
    out["guest"] = users["user_type"].fillna("").str.lower().eq("guest").to_numpy()
    out["licenses"] = pd.Series([held_names.get(u, "") for u in ids], index=out.index, dtype=object)
    out["errors"] = pd.Series([errors.get(u, "") for u in ids], index=out.index, dtype=object)
    out["assignment"] = [
        "Direct + group" if d and g else "Direct" if d else "Group" if g else ""
        for d, g in ((u in with_direct, u in with_group) for u in ids)
    ]
    mine = activity[["user_id", "last_sign_in", "activity"]]
    if users["user_id"].is_unique and mine["user_id"].reset_index(drop=True).equals(
        users["user_id"].reset_index(drop=True)
    ):
        # ``user_activity`` of these same users: already row for row.
        out["last_sign_in"] = mine["last_sign_in"].to_numpy()
        out["activity"] = mine["activity"].to_numpy()
    else:
        out = out.merge(mine, on="user_id", how="left")
    out["activity"] = out["activity"].map(ACTIVITY_LABELS).fillna("")
    return out[USER_COLUMNS].reset_index(drop=True)


def options(table: pd.DataFrame, column: str) -> list[str]:
    """Sorted distinct values of a column, with ``NONE_LABEL`` last when some rows have none."""
    values = table[column]
    # Distinct values first: iterating 100,000 Arrow strings one by one is slow.
    present = sorted({str(v) for v in values.dropna().unique() if str(v)})
    missing = bool(values.isna().any() or values.eq("").any())
    return present + ([NONE_LABEL] if missing else [])


def matches(values: pd.Series, chosen: Sequence[str]) -> pd.Series:
    """Rows whose value is one of ``chosen``; ``NONE_LABEL`` matches a missing value."""
    wanted = {c for c in chosen if c != NONE_LABEL}
    hit = values.isin(wanted)
    if NONE_LABEL in chosen:
        hit = hit | values.isna() | values.eq("")
    return hit.fillna(False).astype(bool)


def filter_users(
    table: pd.DataFrame,
    licenses: pd.DataFrame,
    *,
    search: str = "",
    departments: Sequence[str] = (),
    countries: Sequence[str] = (),
    enabled: bool | None = None,
    guest: bool | None = None,
    sku_id: str | None = None,
    path: Path = "any",
) -> pd.DataFrame:
    """The rows of ``user_table`` that pass every filter given (empty filters pass everything).

    ``search`` matches the UPN or display name, case-insensitively. ``sku_id`` keeps users with
    any assignment of that SKU (held or in error). ``path`` keeps users with a direct or group
    assignment: of ``sku_id`` when one is given, of any SKU otherwise.
    """
    keep = pd.Series(True, index=table.index)
    if search.strip():
        needle = search.strip().lower()
        text = table["user_principal_name"].fillna("") + " " + table["display_name"].fillna("")
        keep &= text.str.lower().str.contains(needle, regex=False)
    if departments:
        keep &= matches(table["department"], departments)
    if countries:
        keep &= matches(table["country"], countries)
    if enabled is not None:
        # None (unknown) matches neither choice; numpy booleans compare by value, not identity.
        keep &= table["enabled"].map(lambda v: v is not None and not pd.isna(v) and bool(v) == enabled)
    if guest is not None:
        keep &= table["guest"].eq(guest)
    if sku_id is not None or path != "any":
        rows = licenses
        if sku_id is not None:
            rows = rows[rows["sku_id"] == sku_id]
        if path == "direct":
            rows = rows[rows["assigned_by_group"] == ""]
        elif path == "group":
            rows = rows[rows["assigned_by_group"] != ""]
        keep &= table["user_id"].isin(set(rows["user_id"]))
    return table[keep.astype(bool)].reset_index(drop=True)


def user_licenses_detail(
    licenses: pd.DataFrame, user_id: str, sku_names: Mapping[str, str], group_names: Mapping[str, str]
) -> pd.DataFrame:
    """One user's licence assignments: SKU, source (Direct / via group), state, error, plans off."""
    rows = licenses[licenses["user_id"] == user_id]
    out = pd.DataFrame(
        {
            "sku": [sku_label(s, sku_names) for s in rows["sku_id"]],
            "source": [source_label(g, group_names) for g in rows["assigned_by_group"]],
            "state": [assignment_text(s, e) for s, e in zip(rows["state"], rows["error"], strict=True)],
            "plans_disabled": [len(split_plan_ids(v)) for v in rows["disabled_plans"]],
            "last_updated": utc(rows["last_updated_at"].to_numpy()).to_numpy(),
            "sku_id": rows["sku_id"].to_numpy(),
        }
    )
    return out.sort_values(["sku", "source"]).reset_index(drop=True)


def find_user(users: pd.DataFrame, text: str) -> dict[str, object] | None:
    """The user a UPN or user id names (any case, surrounding spaces ignored), as the row's
    fields, or None when the snapshot has no such user."""
    key = text.strip().lower()
    if not key:
        return None
    hit = users[
        users["user_principal_name"].fillna("").str.lower().eq(key) | users["user_id"].str.lower().eq(key)
    ]
    return None if hit.empty else {str(k): v for k, v in hit.iloc[0].to_dict().items()}
