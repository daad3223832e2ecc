"""Reclaim candidates: whose seat could be taken back, why, with the evidence and what frees it.

Two families of reasons, one row per (user, SKU, reason):

People (from ``analysis.holders``; one reason per held seat, the first that applies):
``disabled`` (account disabled), ``inactive`` (no sign-in for ``inactive_days``), ``never``
(never signed in, account older than that) and ``guest`` (a guest holding a paid seat). Only
SKUs that count as seats (not free/viral or Company SKUs) are listed: reclaiming those saves nothing.

Redundant or overlapping licences (decided from service plans, never from a hand list):
- ``direct_and_group``: the same SKU held directly and through a group. Removing the direct
  assignment is tidy but **frees no seat** (the group still grants it): ``frees_seat`` is False.
- ``contained``: every user-level service plan the user gets from SKU A (after disabled plans)
  is also switched on for them by another SKU B they hold: A adds nothing (e.g. Entra ID P1 next
  to a suite that includes it).
- ``overlapping_suite``: two suites (catalog kind ``suite``) where the candidate shares at least
  ``overlap_share`` (default half) of its user-level plans with the other, e.g. E3 with E5.
  The candidate is the suite with fewer plans (a tie goes to the one more users hold: the base
  tier, the rarer being the upgrade). The evidence names the plans the other suite lacks, since
  removing it loses them: review before removing.
Company-level plans (``applies_to == "Company"``) are ignored in these comparisons, and a SKU
with no user-level plan is never called contained. A redundancy row is dropped when the same
seat is already a people candidate (that row's action removes it anyway).

Exemptions (``kind`` ``user`` or ``sku``, matched on id, UPN or part number) remove rows from the
candidates; they never hide anything elsewhere. Rows are a gap source for ``actions.plan.plan_remove``
(see ``removal_targets``). Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.costs import exact_int64, none_for_missing
from analysis.disabled_plans import split_plan_ids
from analysis.inactive import HELD_STATES, distinct_values, utc
from analysis.labels import group_names as _group_names
from analysis.money import seats_cost
from analysis.users import matches

REASONS: dict[str, str] = {
    "disabled": "disabled account",
    "inactive": "inactive",
    "never": "never signed in",
    "guest": "licensed guest",
    "direct_and_group": "direct and through a group",
    "contained": "contained in another SKU",
    "overlapping_suite": "overlapping suite",
}
CANDIDATE_COLUMNS = [
    "user_id", "user_principal_name", "display_name", "sku_id", "sku_part_number", "sku", "reason",
    "evidence", "action", "frees_seat", "direct", "groups", "other_sku_id", "last_sign_in",
    "created_at", "guest", "exempt", "exemption_note",
]  # fmt: skip
# What each candidate row carries over from its seat (``analysis.holders``).
_SEAT_FIELDS = [
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


def _action(direct: bool, groups: tuple[str, ...], names: Mapping[str, str]) -> str:
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


def _people(paid: pd.DataFrame, now: pd.Timestamp, limit: int, names: Mapping[str, str]) -> pd.DataFrame:
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
            actions[key] = _action(*key, names)
    return people[_SEAT_FIELDS].assign(
        reason=reasons,
        other_sku_id=None,
        frees_seat=True,
        evidence=[evidence[args] for args in zip(reasons, lasts, created, strict=True)],
        action=[actions[key] for key in zip(map(bool, directs), map(tuple, groups), strict=True)],
    )


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


def _redundancies(
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
    doubled = both[_SEAT_FIELDS].assign(
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
        paid[_SEAT_FIELDS], on=["user_id", "sku_id"]
    )
    covered["frees_seat"] = True
    covered["action"] = [
        _action(bool(d), tuple(g), names)
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


def _exemption_note(exemptions: pd.DataFrame, out: pd.DataFrame) -> list[str | None]:
    """The note of the exemption covering each row (a user by id or UPN, a SKU by id or part
    number, any case), or None."""
    users: dict[str, str] = {}
    skus: dict[str, str] = {}
    for kind, target, note in zip(
        exemptions["kind"].tolist(),
        exemptions["target_id"].tolist(),
        exemptions["note"].tolist(),
        strict=True,
    ):
        (users if kind == "user" else skus)[str(target).strip().lower()] = str(note or "")
    if not users and not skus:
        return [None] * len(out)
    notes: list[str | None] = []
    for uid, upn, sid, part in zip(
        out["user_id"].tolist(), out["user_principal_name"].tolist(), out["sku_id"].tolist(),
        out["sku_part_number"].tolist(), strict=True,
    ):  # fmt: skip
        found = [users.get(str(k).lower()) for k in (uid, upn)] + [
            skus.get(str(k).lower()) for k in (sid, part)
        ]
        notes.append(next((n for n in found if n is not None), None))
    return notes


def reclaim_candidates(
    holders: pd.DataFrame,
    licenses: pd.DataFrame,
    seats: pd.DataFrame,
    plans: pd.DataFrame,
    exemptions: pd.DataFrame,
    groups: pd.DataFrame,
    *,
    now: pd.Timestamp,
    inactive_days: int,
    include_exempt: bool = False,
    overlap_share: float = 0.5,
) -> pd.DataFrame:
    """Every reclaim candidate of a snapshot (see the module docstring).

    Args:
        holders: ``analysis.holders.seat_holders`` output.
        licenses: ``store.queries.user_licenses`` rows (for disabled plans).
        seats: ``analysis.seats.seat_table`` output (names, ``counts_as_unused``, ``catalog_kind``).
        plans: ``store.queries.service_plans`` rows (``sku_id``, ``service_plan_id``,
            ``service_plan_name``, ``applies_to``).
        exemptions: ``store.prices.load_exemptions`` rows (``kind``, ``target_id``, ``note``).
        groups: ``store.queries.licensed_groups`` rows (for group names in sentences).
        now: the snapshot's time (UTC); inactive_days: as in ``analysis.holders``.
        include_exempt: keep exempted rows (flagged ``exempt``) instead of dropping them.

    Returns:
        ``user_id``, ``user_principal_name``, ``display_name``, ``sku_id``, ``sku_part_number``,
        ``sku`` (name), ``reason`` (a key of ``REASONS``), ``evidence`` and ``action`` (sentences),
        ``frees_seat`` (bool), ``direct`` (bool: a direct assignment exists), ``groups`` (tuple of
        group ids), ``other_sku_id`` (the covering SKU, for redundancies), ``last_sign_in``,
        ``created_at``, ``guest``, ``exempt``, ``exemption_note``; sorted by SKU, reason, user.
    """
    names = _group_names(groups) if not groups.empty else {}
    counted = set(seats.loc[seats["counts_as_unused"].astype(bool), "sku_id"])
    paid = holders[holders["sku_id"].isin(counted)]
    people = _people(paid, now, inactive_days, names)
    extra = _redundancies(paid, licenses, plans, seats, overlap_share, names)
    # A seat already listed for its holder is not listed again as redundant: its action removes it
    # anyway. Only the people rows of users with a redundancy can match (a handful of the 100,000s).
    mine = people[people["user_id"].isin(extra["user_id"].unique())]
    taken = set(zip(mine["user_id"].tolist(), mine["sku_id"].tolist(), strict=True))
    keep = [k not in taken for k in zip(extra["user_id"].tolist(), extra["sku_id"].tolist(), strict=True)]
    out = pd.concat([people, extra[keep]], ignore_index=True)
    info = seats.set_index("sku_id")
    out["user_principal_name"] = out["user_principal_name"].astype(object)
    out["sku_part_number"] = out["sku_id"].map(info["sku_part_number"])
    out["sku"] = out["sku_id"].map(info["name"])
    out["exemption_note"] = _exemption_note(exemptions, out)
    out["exempt"] = out["exemption_note"].notna()
    if not include_exempt:
        out = out[~out["exempt"]]
    order = out["reason"].map({k: i for i, k in enumerate(REASONS)})
    out = out.assign(_o=order).sort_values(["sku", "_o", "user_principal_name"]).drop(columns="_o")
    return out[CANDIDATE_COLUMNS].reset_index(drop=True)


def reclaim_summary(candidates: pd.DataFrame) -> pd.DataFrame:
    """Per SKU and reason: ``sku_id``, ``sku``, ``reason``, ``users``, ``seats_freed`` (rows whose
    action frees a seat; a user counted once per SKU)."""
    if candidates.empty:
        return pd.DataFrame(columns=["sku_id", "sku", "reason", "users", "seats_freed"])
    grouped = candidates.groupby(["sku_id", "sku", "reason"], sort=True)
    out = grouped.agg(users=("user_id", "nunique"), seats_freed=("frees_seat", "sum")).reset_index()
    out["seats_freed"] = out["seats_freed"].astype("int64")
    return out


def seats_to_free(candidates: pd.DataFrame) -> dict[str, int]:
    """skuId -> distinct seats the candidates' actions would free (a user once per SKU)."""
    freeing = candidates[candidates["frees_seat"].astype(bool)]
    return {str(k): int(v) for k, v in freeing.groupby("sku_id")["user_id"].nunique().items()}


def reclaim_savings(candidates: pd.DataFrame, costs: pd.DataFrame, *, basis: str = "month") -> pd.DataFrame:
    """What the freeing candidates would save, per SKU and currency.

    Args:
        candidates: ``reclaim_candidates`` output.
        costs: ``analysis.costs.sku_costs`` output of the same snapshot (for the prices in force).

    Returns:
        ``sku_id``, ``sku``, ``currency`` (None when unpriced), ``seats`` (distinct seats freed),
        ``saving`` (Int64 minor units per ``basis``, rounded once per line; NA when unpriced).
    """
    seats = seats_to_free(candidates)
    rows: list[dict[str, Any]] = []
    for cost in costs[costs["sku_id"].isin(seats)].to_dict(orient="records"):
        n = seats[str(cost["sku_id"])]
        priced = cost["status"] == "priced"
        saving = seats_cost(int(cost["unit_price_minor"]), str(cost["period"]), n, basis) if priced else None
        rows.append({"sku_id": cost["sku_id"], "sku": cost["name"], "currency": cost["currency"] if priced else None,
                     "seats": n, "saving": saving})  # fmt: skip
    out = pd.DataFrame(rows, columns=["sku_id", "sku", "currency", "seats", "saving"])
    out["saving"] = exact_int64([row["saving"] for row in rows])
    return out.sort_values(["currency", "saving", "sku"], ascending=[True, False, True]).reset_index(
        drop=True
    )


def removal_targets(candidates: pd.DataFrame) -> dict[str, list[str]]:
    """skuId -> user ids whose *direct* assignment a plan may remove, for ``actions.plan.plan_remove``
    (``plan_remove(sku_id, users, ...)`` per SKU). Inherited-only licences are left out: they are
    removed by changing group membership, which ``plan_remove`` refuses by design. Exempt rows
    (listed with ``include_exempt``) are never targets."""
    direct = candidates[candidates["direct"].astype(bool)]
    if "exempt" in direct:
        direct = direct[~direct["exempt"].astype(bool)]
    return {
        str(sku): sorted(set(rows["user_id"].astype(str)))
        for sku, rows in direct.groupby("sku_id", sort=True)
    }


def filter_candidates(
    candidates: pd.DataFrame,
    users: pd.DataFrame | None,
    *,
    reasons: Sequence[str] = (),
    sku_id: str | None = None,
    departments: Sequence[str] = (),
    include_exempt: bool = False,
) -> pd.DataFrame:
    """Candidates with some reasons, of one SKU and/or of some departments
    (``analysis.users.NONE_LABEL`` = none); exempt rows only with ``include_exempt``.

    Args:
        candidates: ``reclaim_candidates`` output (with ``include_exempt=True`` to list exempt rows).
        users: ``user_id``, ``department`` of (at least) the candidates' users: ``store.queries.users``
            rows, or ``analysis.holders.seat_holders`` rows (a user once per seat); read only to
            filter by department, so it may be None without ``departments``.
    """
    keep = pd.Series(True, index=candidates.index)
    if not include_exempt:
        keep &= ~candidates["exempt"].astype(bool)
    if reasons:
        keep &= candidates["reason"].isin(list(reasons))
    if sku_id is not None:
        keep &= candidates["sku_id"] == sku_id
    if departments:
        if users is None:
            raise ValueError("filtering by department needs the users' departments")
        department = candidates["user_id"].map(dict(zip(users["user_id"], users["department"], strict=True)))
        keep &= matches(department, departments)
    return candidates[keep.astype(bool)].reset_index(drop=True)


def reclaim_headline(candidates: pd.DataFrame) -> dict[str, int]:
    """``candidates`` (rows), ``users`` (distinct), ``seats`` (distinct seats the actions would free)
    and ``tidy_ups`` (rows that free no seat) of (non-exempt) candidates."""
    return {
        "candidates": len(candidates),
        "users": int(candidates["user_id"].nunique()),
        "seats": sum(seats_to_free(candidates).values()),
        "tidy_ups": int((~candidates["frees_seat"].astype(bool)).sum()),
    }


def saving_totals(savings: pd.DataFrame) -> pd.DataFrame:
    """Totals per currency of ``reclaim_savings``: ``currency``, ``seats``, ``saving`` (Int64); seats
    of unpriced SKUs come last in one row with ``currency`` None and ``saving`` NA (unknown, not 0)."""
    priced = savings[savings["currency"].notna()]
    rows: list[dict[str, Any]] = [
        {
            "currency": str(currency),
            "seats": int(part["seats"].sum()),
            "saving": sum(int(v) for v in part["saving"]),
        }
        for currency, part in priced.groupby("currency", sort=True)
    ]
    unpriced = savings[savings["currency"].isna()]
    if not unpriced.empty:
        rows.append({"currency": None, "seats": int(unpriced["seats"].sum()), "saving": None})
    out = none_for_missing(pd.DataFrame(rows, columns=["currency", "seats", "saving"]), "currency")
    out["saving"] = exact_int64([row["saving"] for row in rows])
    return out
