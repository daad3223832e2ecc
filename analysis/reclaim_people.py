"""Reclaim candidates for who holds the seat: a disabled account, no sign-in for the limit,
never signed in, or a guest (``analysis.reclaim`` documents the reasons), with the evidence and
the action that frees the seat. Pure pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.inactive import utc

# What each candidate row carries over from its seat (``analysis.holders``).
SEAT_FIELDS = [
    "user_id", "user_principal_name", "display_name", "sku_id", "direct", "groups", "last_sign_in",
    "created_at", "guest",
]  # fmt: skip


def _days(stamps: pd.Series, now: pd.Timestamp) -> list[tuple[str, int] | None]:
    """(YYYY-MM-DD, whole days before ``now``) per UTC timestamp, None where missing."""
    # Each distinct timestamp once (a user's dates repeat on each of their seats); the UTC
    # calendar day through numpy, as Series.dt.strftime formats one timestamp at a time.
    codes, uniques = pd.factorize(stamps)
    stamped = pd.DatetimeIndex(uniques).tz_convert("UTC")
    days = ((now - stamped).total_seconds() // 86400).tolist()
    text = stamped.tz_localize(None).to_numpy().astype("datetime64[D]").astype(str).tolist()
    found = [(str(t), int(d)) for t, d in zip(text, days, strict=True)]
    return [found[c] if c >= 0 else None for c in codes.tolist()]


def _text_days(texts: pd.Series, now: pd.Timestamp) -> list[tuple[str, int] | None]:
    """``_days`` of ISO-8601 text, each distinct text parsed once (a user's creation date repeats
    on each of their seats); None where missing or malformed."""
    codes, uniques = pd.factorize(texts)
    found = _days(utc(np.asarray(uniques, dtype=object)), now)
    return [found[c] if c >= 0 else None for c in codes.tolist()]


def removal_action(direct: bool, groups: tuple[str, ...], names: Mapping[str, str]) -> str:
    """What frees a seat held directly and/or through ``groups`` (ids; ``names`` gives their names)."""
    listed = ", ".join(repr(names.get(g, g)) for g in groups)
    if direct and groups:
        return f"Remove the direct assignment and remove the user from group {listed}."
    if groups:
        return f"Remove the user from group {listed} (a licence inherited from a group cannot be removed per user)."
    return "Remove the direct assignment."


def _people_evidence(
    reason: str, last: tuple[str, int] | None, created: tuple[str, int] | None, limit: int
) -> str:
    seen = f"last sign-in {last[0]} ({last[1]} days before the snapshot)" if last else "no sign-in recorded"
    if reason == "disabled":
        return f"Account disabled; {seen}."
    if reason == "inactive":
        return f"{seen[0].upper()}{seen[1:]}, past the {limit}-day limit."
    if reason == "never":
        if created:
            return (
                f"No sign-in recorded; account created {created[0]} ({created[1]} days before the snapshot)."
            )
        return "No sign-in recorded; the account's creation date is unknown."
    return f"Guest account holding a paid seat; {seen}."


def people_candidates(
    paid: pd.DataFrame, now: pd.Timestamp, limit: int, names: Mapping[str, str]
) -> pd.DataFrame:
    """One row per held seat of a disabled, inactive, never-signed-in or guest holder."""
    people = paid[(paid["idle"] != "") | paid["guest"].astype(bool)]
    reasons = [idle or "guest" for idle in people["idle"].tolist()]
    lasts = _days(pd.to_datetime(people["last_sign_in"], utc=True), now)
    created = _text_days(people["created_at"], now)
    directs, groups = people["direct"].tolist(), people["groups"].tolist()
    # Day-grained evidence and a handful of group sets repeat across many thousands of seats:
    # each distinct sentence is written once.
    evidence: dict[tuple[Any, ...], str] = {}
    actions: dict[tuple[bool, tuple[str, ...]], str] = {}
    for args in zip(reasons, lasts, created, strict=True):
        if args not in evidence:
            evidence[args] = _people_evidence(*args, limit)
    for key in zip(map(bool, directs), map(tuple, groups), strict=True):
        if key not in actions:
            actions[key] = removal_action(*key, names)
    return people[SEAT_FIELDS].assign(
        reason=reasons,
        other_sku_id=None,
        frees_seat=True,
        evidence=[evidence[args] for args in zip(reasons, lasts, created, strict=True)],
        action=[actions[key] for key in zip(map(bool, directs), map(tuple, groups), strict=True)],
    )
