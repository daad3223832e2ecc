"""Who is inactive, and which seats could be reclaimed from disabled and inactive users.

Definitions (one place, used by every page and report):

- **last sign-in** = the later of the interactive and non-interactive sign-ins (the same value
  ``license-desk report users`` prints as ``last_sign_in``).
- a user's **activity** as of a snapshot time ``now``:
  ``disabled`` (account disabled, whatever the sign-ins say),
  ``unknown`` (the snapshot has no sign-in data, so nobody can be called inactive),
  ``active`` (signed in within ``inactive_days``), ``inactive`` (last sign-in ``inactive_days`` or
  more before ``now``), ``never`` (no sign-in recorded and the account is older than
  ``inactive_days``, or its age is unknown), ``new`` (no sign-in yet, account younger than that).
- **reclaimable seats** = distinct (user, SKU) licences held (state Active or ActiveWithError) by
  users whose activity is ``disabled``, ``inactive`` or ``never``, on SKUs that count as seats
  (free/viral and company-wide SKUs are excluded: reclaiming them saves nothing).

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

DEFAULT_INACTIVE_DAYS = 90
HELD_STATES = ("Active", "ActiveWithError")
RECLAIMABLE = ("disabled", "inactive", "never")
ACTIVITY_LABELS = {
    "disabled": "disabled account",
    "unknown": "no sign-in data",
    "active": "active",
    "inactive": "inactive",
    "never": "never signed in",
    "new": "new, not signed in yet",
}


def utc(values: Any) -> pd.Series:
    """ISO-8601 text (or timestamps) as UTC timestamps; missing or malformed values become NaT."""
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True, errors="coerce", format="ISO8601")


def last_sign_in(users: pd.DataFrame) -> pd.Series:
    """The later of ``last_sign_in_at`` and ``last_non_interactive_at`` per user (NaT when neither)."""
    interactive = utc(users["last_sign_in_at"].to_numpy())
    background = utc(users["last_non_interactive_at"].to_numpy())
    latest = pd.concat([interactive, background], axis=1).max(axis=1)
    latest.index = users.index
    return latest


def user_activity(
    users: pd.DataFrame, *, now: pd.Timestamp, inactive_days: int, signin_available: bool
) -> pd.DataFrame:
    """Classify every user (see the module docstring).

    Args:
        users: ``store.queries.users`` rows: ``user_id``, ``account_enabled`` (1/0/null),
            ``created_at``, ``last_sign_in_at``, ``last_non_interactive_at``.
        now: the snapshot's time (UTC); inactivity is measured from it, not from today.
        inactive_days: days without sign-in after which a user is inactive.
        signin_available: whether the snapshot could read sign-in activity.

    Returns:
        ``user_id``, ``last_sign_in`` (UTC timestamp or NaT), ``days_since_sign_in`` (float, NaN
        when never), ``activity`` (a key of ``ACTIVITY_LABELS``).
    """
    latest = last_sign_in(users)
    created = utc(users["created_at"].to_numpy())
    created.index = users.index
    days = (now - latest).dt.total_seconds() / 86400.0
    age_days = (now - created).dt.total_seconds() / 86400.0
    disabled = users["account_enabled"].astype("Float64").eq(0).fillna(False).astype(bool)

    has_signin = latest.notna().to_numpy()
    # np.select picks the first true condition, so the order below is the order of precedence.
    conditions = [
        disabled.to_numpy(),
        np.full(len(users), not signin_available),
        has_signin & (days >= inactive_days).to_numpy(),
        has_signin,
        (age_days < inactive_days).fillna(False).to_numpy(dtype=bool),
    ]
    labels = np.select(conditions, ["disabled", "unknown", "inactive", "active", "new"], default="never")

    return pd.DataFrame(
        {
            "user_id": users["user_id"].to_numpy(),
            "last_sign_in": latest.to_numpy(),
            "days_since_sign_in": days.to_numpy(dtype="float64", na_value=float("nan")),
            "activity": labels,
        }
    )


def distinct_values(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """The distinct ``keys`` rows of ``frame``, sorted, with ``values``: the sorted distinct
    ``value`` entries of each (a tuple; missing values last).

    Sorts once (vectorised) and walks the sorted rows: a ``groupby().agg(lambda)`` builds a Series
    per group, seconds for 100,000 users. Rows with a missing key are left out, as groupby does.
    The sort and the walk compare integer codes (``pd.factorize(sort=True)``: code order is the
    values' order), not strings: half the time of sorting 200,000 rows of text.
    """
    rows = frame[[*keys, value]].dropna(subset=keys)
    if rows.empty:
        return rows[keys].reset_index(drop=True).assign(values=pd.Series(dtype=object))
    codes = []
    for column in [*keys, value]:
        code, uniques = pd.factorize(rows[column], sort=True)
        # A missing value (code -1; only ``value`` can have one) sorts last, as sort_values puts it.
        codes.append(np.where(code < 0, len(uniques), code))
    missing = len(uniques)
    order = np.lexsort(codes[::-1])  # lexsort's last key is the primary one; stable
    key_codes = [c[order] for c in codes[:-1]]
    value_codes = codes[-1][order]
    new_key = np.zeros(len(rows), dtype=bool)
    new_key[:1] = True
    for key_code in key_codes:
        new_key[1:] |= key_code[1:] != key_code[:-1]
    distinct = new_key.copy()
    distinct[1:] |= value_codes[1:] != value_codes[:-1]
    entries = rows[value].to_numpy(dtype=object)[order]
    # Two missing values in a row are told apart as ``!=`` does: NaN differs from NaN, None not.
    both = np.flatnonzero((value_codes[1:] == missing) & (value_codes[:-1] == missing)) + 1
    distinct[both] |= entries[both] != entries[both - 1]
    starts = np.flatnonzero(new_key[distinct])
    ends = np.append(starts[1:], int(distinct.sum()))
    listed = entries[distinct].tolist()
    out = rows.iloc[order[new_key]][keys].reset_index(drop=True)
    out["values"] = pd.Series(
        [tuple(listed[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)], dtype=object
    )
    return out


def held_licenses(licenses: pd.DataFrame) -> pd.DataFrame:
    """Distinct (user, SKU) pairs a user holds, with every source joined ('' = direct)."""
    held = licenses[licenses["state"].isin(HELD_STATES)]
    if held.empty:
        return pd.DataFrame({"user_id": [], "sku_id": [], "sources": []}, dtype=object)
    return distinct_values(held, ["user_id", "sku_id"], "assigned_by_group").rename(
        columns={"values": "sources"}
    )


def reclaimable_seats(
    licenses: pd.DataFrame, activity: pd.DataFrame, users: pd.DataFrame, seats: pd.DataFrame
) -> pd.DataFrame:
    """Seats held by disabled, inactive and never-signed-in users on SKUs that count as seats.

    Args:
        licenses: ``store.queries.user_licenses`` rows.
        activity: the output of ``user_activity``.
        users: ``store.queries.users`` rows (for names).
        seats: the output of ``analysis.seats.seat_table`` (for names and ``counts_as_unused``).

    Returns:
        One row per (user, SKU): ``user_id``, ``user_principal_name``, ``display_name``,
        ``sku_id``, ``sku``, ``activity``, ``last_sign_in``, ``days_since_sign_in``,
        ``sources`` (tuple of group ids, '' for direct), sorted by SKU then user.
    """
    held = held_licenses(licenses)
    candidates = activity[activity["activity"].isin(RECLAIMABLE)]
    counted = seats.loc[seats["counts_as_unused"].astype(bool), ["sku_id", "name"]]
    out = held.merge(candidates, on="user_id").merge(counted, on="sku_id")
    out = out.merge(users[["user_id", "user_principal_name", "display_name"]], on="user_id", how="left")
    out = out.rename(columns={"name": "sku"})
    columns = [
        "user_id", "user_principal_name", "display_name", "sku_id", "sku", "activity", "last_sign_in",
        "days_since_sign_in", "sources",
    ]  # fmt: skip
    return out[columns].sort_values(["sku", "user_principal_name"]).reset_index(drop=True)


def reclaimable_activity(seat_counts: pd.DataFrame, activity: pd.DataFrame) -> pd.DataFrame:
    """``reclaimable_seats`` reduced to what ``reclaim_totals`` counts: one row per reclaimable
    seat with its holder's ``activity``, from per-user seat counts instead of every held
    (user, SKU) pair (the Overview's headline, without reading every assignment).

    Args:
        seat_counts: ``user_id``, ``seats``: how many SKUs that count as seats each user holds
            (``store.queries.held_seat_counts``).
        activity: ``user_activity`` output.
    """
    idle = activity.loc[activity["activity"].isin(RECLAIMABLE), ["user_id", "activity"]]
    held = seat_counts.merge(idle, on="user_id")
    return pd.DataFrame(
        {
            "activity": np.repeat(
                held["activity"].to_numpy(dtype=object), held["seats"].to_numpy(dtype="int64")
            )
        }
    )


def reclaimable_per_sku(pairs: pd.DataFrame, activity: pd.DataFrame) -> dict[str, int]:
    """``reclaim_by_sku(reclaimable_seats(...))`` for the SKUs of ``pairs``: distinct (user, SKU)
    seats held by disabled, inactive and never-signed-in users, per SKU id (SKUs with none left out).

    Args:
        pairs: ``user_id``, ``sku_id`` of held assignments (``store.queries.held_seat_pairs``) of
            SKUs that count as seats; a seat may repeat (one row per assignment).
        activity: ``user_activity`` output; a user missing from it is not idle (as ``seat_holders``
            calls them ``unknown``).
    """
    idle = set(activity.loc[activity["activity"].isin(RECLAIMABLE), "user_id"].tolist())
    seats = pairs[["user_id", "sku_id"]].drop_duplicates()
    mine = np.array([u in idle for u in seats["user_id"].tolist()], dtype=bool)
    return {str(k): int(v) for k, v in seats.loc[mine, "sku_id"].value_counts().items()}


def reclaim_totals(reclaim: pd.DataFrame) -> dict[str, int]:
    """Headline counts of ``reclaimable_seats``: all seats, and by reason."""
    reasons = reclaim["activity"].value_counts()
    disabled = int(reasons.get("disabled", 0))
    return {"seats": int(len(reclaim)), "disabled": disabled, "inactive": int(len(reclaim)) - disabled}


def reclaim_by_sku(reclaim: pd.DataFrame) -> dict[str, int]:
    """Reclaimable seats per SKU id."""
    return {str(k): int(v) for k, v in reclaim["sku_id"].value_counts().items()}
