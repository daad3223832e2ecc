"""Who holds which seat, and in what condition: the common input of costs, reclaim and chargeback.

A **held seat** is a distinct (user, SKU) pair with at least one assignment in state Active or
ActiveWithError (``analysis.inactive.HELD_STATES``): a user holding a SKU directly *and* through a
group still consumes one seat. Each held seat carries the holder's condition, decided once here:

- ``activity``: ``analysis.inactive.user_activity`` (disabled > unknown > inactive > active >
  new > never), measured from the snapshot's time, with inactivity after ``inactive_days`` days
  since the later of the interactive and non-interactive sign-ins;
- ``idle``: the waste category the seat falls into, mutually exclusive so that categories add up:
  ``disabled``, ``inactive`` or ``never`` (never signed in, account older than ``inactive_days``),
  else ``""``;
- ``guest``: the holder is a guest (``userType == "Guest"``). Guests overlap the idle
  categories (a disabled guest is both), so guest seats are reported beside, never added to, waste.

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import pandas as pd

from analysis.inactive import RECLAIMABLE, held_licenses, user_activity

HOLDER_COLUMNS = [
    "user_id", "sku_id", "direct", "groups", "activity", "idle", "guest", "last_sign_in",
    "created_at", "user_principal_name", "display_name", "account_enabled", "user_type",
    "department", "company_name", "usage_location",
]  # fmt: skip
_USER_FIELDS = [
    "user_id", "user_principal_name", "display_name", "account_enabled", "user_type", "department",
    "company_name", "usage_location", "created_at",
]  # fmt: skip


def seat_holders(
    users: pd.DataFrame,
    licenses: pd.DataFrame,
    *,
    now: pd.Timestamp,
    inactive_days: int,
    signin_available: bool,
) -> pd.DataFrame:
    """Every held seat with its holder's condition (see the module docstring).

    Args:
        users: ``store.queries.users`` rows (``user_id``, ``user_principal_name``,
            ``display_name``, ``account_enabled``, ``user_type``, ``department``,
            ``company_name``, ``usage_location``, ``created_at``, ``last_sign_in_at``,
            ``last_non_interactive_at``).
        licenses: ``store.queries.user_licenses`` rows (``user_id``, ``sku_id``,
            ``assigned_by_group`` ('' = direct), ``state``).
        now: the snapshot's time (UTC).
        inactive_days: days without sign-in after which a user is inactive (settings.inactive_days).
        signin_available: whether the snapshot could read sign-in activity; without it nobody is
            called inactive or never-signed-in (``activity == "unknown"``).

    Returns:
        One row per held (user, SKU): ``user_id``, ``sku_id``, ``direct`` (bool: a direct
        assignment is among the sources), ``groups`` (tuple of group ids granting it),
        ``activity``, ``idle`` (``disabled``/``inactive``/``never``/``""``), ``guest`` (bool),
        ``last_sign_in`` (UTC timestamp or NaT), ``created_at`` (text as collected), and the
        user's ``user_principal_name``, ``display_name``, ``account_enabled``, ``user_type``,
        ``department``, ``company_name``, ``usage_location``. Sorted by user then SKU.
    """
    held = held_licenses(licenses)
    if held.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in HOLDER_COLUMNS})
    # ``sources`` is sorted, so a direct assignment ('') comes first.
    sources = held["sources"].tolist()
    out = held[["user_id", "sku_id"]].copy()
    out["direct"] = pd.Series([s[0] == "" for s in sources], dtype=bool)
    out["groups"] = pd.Series([s[1:] if s[0] == "" else s for s in sources], dtype=object)
    activity = user_activity(users, now=now, inactive_days=inactive_days, signin_available=signin_available)
    # One merge: the activity rows are the users' rows, in the same order.
    holder = users[_USER_FIELDS].assign(
        activity=activity["activity"].to_numpy(), last_sign_in=activity["last_sign_in"].to_numpy()
    )
    out = out.merge(holder, on="user_id", how="left")
    # A licence row whose user is missing from the snapshot's users has no activity: unknown.
    out["activity"] = out["activity"].fillna("unknown")
    out["idle"] = out["activity"].where(out["activity"].isin(RECLAIMABLE), "")
    out["guest"] = out["user_type"].fillna("").str.lower().eq("guest")
    # Already in user, SKU order: ``held_licenses`` is, and a left merge keeps the left order.
    return out[HOLDER_COLUMNS].reset_index(drop=True)
