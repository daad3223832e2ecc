"""Reclaim candidates for redundant or overlapping licences, decided from service plans (never
from a hand list): ``direct_and_group``, ``contained`` and ``overlapping_suite``, as
``analysis.reclaim`` documents them. Pure pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.disabled_plans import split_plan_ids
from analysis.inactive import HELD_STATES, distinct_values
from analysis.reclaim_people import SEAT_FIELDS, removal_action


def _plan_sets(plans: pd.DataFrame) -> dict[str, dict[str, str]]:
    """skuId -> {service plan id (lower case): plan name} of its user-level plans."""
    user_level = plans[plans["applies_to"].fillna("User").str.lower() != "company"]
    out: dict[str, dict[str, str]] = {}
    for sku_id, plan_id, name in zip(
        user_level["sku_id"].tolist(), user_level["service_plan_id"].tolist(),
        user_level["service_plan_name"].tolist(), strict=True,
    ):  # fmt: skip
        out.setdefault(str(sku_id), {})[str(plan_id).lower()] = str(name)
    return out


def _held_keys(licenses: pd.DataFrame) -> pd.DataFrame:
    """Held (user, SKU) pairs with ``key``: the SKU and the disabled plans of each held assignment.

    Users who hold the same SKU with the same disabled plans share a key, so plan sets are
    compared once per distinct pair of keys, not once per user (100,000 users, a handful of keys).
    """
    held = licenses[licenses["state"].isin(HELD_STATES)]
    offs = held["disabled_plans"].fillna("").tolist()
    lowered = {off: str(off).lower() for off in set(offs)}
    held = pd.DataFrame(
        {
            "user_id": held["user_id"].reset_index(drop=True),
            "sku_id": held["sku_id"].reset_index(drop=True),
            "off": pd.Series([lowered[off] for off in offs], dtype=object),
        }
    )
    keyed = distinct_values(held, ["user_id", "sku_id"], "off")
    return pd.DataFrame(
        {
            "user_id": keyed["user_id"],
            "sku_id": keyed["sku_id"],
            "key": pd.Series(
                list(zip(keyed["sku_id"].tolist(), keyed["values"].tolist(), strict=True)), dtype=object
            ),
        }
    )


def _enabled(key: tuple[str, tuple[str, ...]], plan_sets: Mapping[str, Mapping[str, str]]) -> frozenset[str]:
    """Plan names a user gets from one SKU: on in any of its assignments (each minus its own
    disabled plans)."""
    sku_id, offs = key
    plans = plan_sets.get(sku_id, {})
    names: set[str] = set()
    for off in offs:
        disabled = split_plan_ids(off)
        names.update(name for pid, name in plans.items() if pid not in disabled)
    return frozenset(names)


def redundancies(
    paid: pd.DataFrame,
    licenses: pd.DataFrame,
    plans: pd.DataFrame,
    seats: pd.DataFrame,
    overlap_share: float,
    names: Mapping[str, str],
) -> pd.DataFrame:
    """The ``direct_and_group``, ``contained`` and ``overlapping_suite`` rows."""
    info = seats.set_index("sku_id")
    part = {str(k): str(v) for k, v in info["sku_part_number"].items()}
    kinds = info["catalog_kind"].to_dict() if "catalog_kind" in info else {}
    both = paid[paid["direct"].astype(bool) & paid["groups"].map(bool)]
    doubled = both[SEAT_FIELDS].assign(
        reason="direct_and_group",
        other_sku_id=None,
        frees_seat=False,
        evidence=[
            f"Holds {part.get(s, s)} directly and through group {', '.join(repr(names.get(g, g)) for g in gs)}; "
            "removing the direct assignment tidies up but frees no seat."
            for s, gs in zip(both["sku_id"].tolist(), both["groups"].tolist(), strict=True)
        ],
        action="Remove the direct assignment (the group keeps granting the licence).",
    )

    plan_sets = _plan_sets(plans)
    # Only a user holding two or more of the seats can have one covered by another, and only
    # when some SKU has user-level plans to compare.
    several = (
        set(paid.loc[paid["user_id"].duplicated(keep=False), "user_id"].tolist())
        if any(plan_sets.values())
        else set()
    )
    wanted = (
        np.array([u in several for u in licenses["user_id"].tolist()], dtype=bool)
        if several
        else np.zeros(len(licenses), dtype=bool)
    )
    keyed = _held_keys(licenses[wanted & licenses["sku_id"].isin(paid["sku_id"].unique()).to_numpy()])
    # A SKU with no user-level plan is never redundant (``_compare``): it is only ever compared to.
    candidates = keyed[keyed["sku_id"].isin([s for s, p in plan_sets.items() if p])]
    pairs = candidates.merge(keyed, on="user_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["sku_id_a"] != pairs["sku_id_b"]]
    combos = list(zip(pairs["key_a"].tolist(), pairs["key_b"].tolist(), strict=True))
    verdicts = {c: _compare(*c, plan_sets, kinds, info, part, overlap_share) for c in set(combos)}
    found = [verdicts[c] for c in combos]
    hits = pairs.assign(
        reason=[v[0] if v else None for v in found], evidence=[v[1] if v else None for v in found]
    )
    hits = hits[hits["reason"].notna()].sort_values(["user_id", "sku_id_a", "reason", "sku_id_b"])
    # One row per (seat, reason), naming the first covering SKU.
    hits = hits.drop_duplicates(["user_id", "sku_id_a", "reason"])
    hits = hits.rename(columns={"sku_id_a": "sku_id", "sku_id_b": "other_sku_id"})
    covered = hits[["user_id", "sku_id", "reason", "other_sku_id", "evidence"]].merge(
        paid[SEAT_FIELDS], on=["user_id", "sku_id"]
    )
    covered["frees_seat"] = True
    covered["action"] = [
        removal_action(bool(d), tuple(g), names)
        for d, g in zip(covered["direct"].tolist(), covered["groups"].tolist(), strict=True)
    ]
    return pd.concat([doubled, covered[doubled.columns]], ignore_index=True)


def _compare(
    key_a: tuple[str, tuple[str, ...]],
    key_b: tuple[str, tuple[str, ...]],
    plan_sets: Mapping[str, Mapping[str, str]],
    kinds: Mapping[Any, Any],
    info: pd.DataFrame,
    part: Mapping[str, str],
    overlap_share: float,
) -> tuple[str, str] | None:
    """Whether SKU A (as the user gets it) is redundant next to SKU B: (reason, evidence) or None."""
    plans_a, plans_b = _enabled(key_a, plan_sets), _enabled(key_b, plan_sets)
    a, b = key_a[0], key_b[0]
    name_a, name_b = part.get(a, a), part.get(b, b)
    if not plans_a:
        return None
    shared = plans_a & plans_b
    if shared == plans_a:
        if plans_a == plans_b and a > b:
            return None  # identical plan sets: name only one of the two as the spare
        return "contained", (
            f"Every service plan {name_a} gives this user ({', '.join(sorted(plans_a))}) is also "
            f"switched on by {name_b}, which the user holds."
        )
    if (
        kinds.get(a) == "suite"
        and kinds.get(b) == "suite"
        and len(shared) >= overlap_share * len(plans_a)
        and _lesser(a, b, plans_a, plans_b, info)
    ):
        return "overlapping_suite", (
            f"Also holds the suite {name_b}, which switches on {len(shared)} of the {len(plans_a)} "
            f"service plans {name_a} gives ({', '.join(sorted(shared))}); removing {name_a} would lose "
            f"{', '.join(sorted(plans_a - plans_b))}."
        )
    return None


def _lesser(a: str, b: str, plans_a: frozenset[str], plans_b: frozenset[str], info: pd.DataFrame) -> bool:
    """Whether suite ``a`` is the one to drop: fewer plans, else more widely held, else by id."""
    if len(plans_a) != len(plans_b):
        return len(plans_a) < len(plans_b)
    held_a, held_b = int(info.loc[a, "consumed"]), int(info.loc[b, "consumed"])
    if held_a != held_b:
        return held_a > held_b
    return a < b
