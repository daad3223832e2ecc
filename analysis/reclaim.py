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
(see ``removal_targets``) and, the downgrades, for ``actions.plan.plan_downgrade`` (``downgrade_targets``).

Usage (given ``usage``): ``shared_mailbox``, ``copilot_unused``, ``unused``, ``premium_unused`` and
``desktop_unused`` from the usage reports, with guardrails (``analysis.reclaim_usage``).

People rows come from ``analysis.reclaim_people``, redundancies from ``analysis.reclaim_redundant``;
this module puts them together, applies exemptions and sums them up (seats, savings, headline).
Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.costs import exact_int64, none_for_missing
from analysis.labels import group_names as _group_names
from analysis.money import seats_cost
from analysis.reclaim_people import people_candidates
from analysis.reclaim_redundant import redundancies
from analysis.reclaim_usage import guardrail_notes, usage_candidates
from analysis.users import matches

REASONS: dict[str, str] = {
    "disabled": "disabled account",
    "inactive": "inactive",
    "never": "never signed in",
    "guest": "licensed guest",
    "direct_and_group": "direct and through a group",
    "contained": "contained in another SKU",
    "overlapping_suite": "overlapping suite",
    "shared_mailbox": "licensed shared mailbox",
    "copilot_unused": "Copilot unused",
    "unused": "licensed, not used",
    "premium_unused": "premium plans unused",
    "desktop_unused": "desktop apps unused",
}
DOWNGRADES = ("premium_unused", "desktop_unused")
CANDIDATE_COLUMNS = [
    "user_id", "user_principal_name", "display_name", "sku_id", "sku_part_number", "sku", "reason",
    "evidence", "action", "frees_seat", "direct", "groups", "other_sku_id", "last_sign_in",
    "created_at", "guest", "exempt", "exemption_note",
]  # fmt: skip


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
    usage: pd.DataFrame | None = None,
    usage_days: int | None = None,
    recent_days: int = 30,
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
        usage: ``store.usage.load_usage`` rows: adds the usage reasons (``analysis.reclaim_usage``),
            no activity counted for ``usage_days`` (default ``inactive_days``); the guardrails
            (mailbox on hold, licensed within ``recent_days``) then exempt any row they cover.

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
    people = people_candidates(paid, now, inactive_days, names)
    if usage is not None:
        # Usage speaks for the seats of people who do sign in; the others are people rows already.
        signing_in = paid[(paid["idle"] == "") & ~paid["guest"].astype(bool)]
        used = usage_candidates(signing_in, licenses, plans, usage, seats, names,
                                usage_days=usage_days or inactive_days)  # fmt: skip
        people = pd.concat([people, used], ignore_index=True) if not used.empty else people
    extra = redundancies(paid, licenses, plans, seats, overlap_share, names)
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
    if usage is not None:
        guards = guardrail_notes(out, licenses, usage, now=now, recent_days=recent_days)
        out["exemption_note"] = [
            n if n is not None else g for n, g in zip(out["exemption_note"], guards, strict=True)
        ]
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
        A downgrade's target SKU has negative seats and saving (the seats it takes, and their cost).
    """
    seats = seats_to_free(candidates)
    # A downgrade frees its seat and takes one of the cheaper SKU: that one counts negative.
    down = candidates[candidates["reason"].isin(DOWNGRADES) & candidates["other_sku_id"].notna()]
    if "exempt" in down:
        down = down[~down["exempt"].astype(bool)]
    taken = {str(k): -int(v) for k, v in down.groupby("other_sku_id")["user_id"].nunique().items()}
    rows: list[dict[str, Any]] = []
    for cost in costs[costs["sku_id"].isin(seats) | costs["sku_id"].isin(taken)].to_dict(orient="records"):
        n = seats.get(str(cost["sku_id"]), 0) + taken.get(str(cost["sku_id"]), 0)
        if n == 0:
            continue
        priced = cost["status"] == "priced"
        saving = (
            (1 if n > 0 else -1)
            * seats_cost(int(cost["unit_price_minor"]), str(cost["period"]), abs(n), basis)
            if priced
            else None
        )
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
    (listed with ``include_exempt``) and downgrades (``downgrade_targets``) are never targets."""
    # A downgrade replaces the licence in one call: removing alone would leave the user without
    # either, so it is never a removal target.
    direct = candidates[candidates["direct"].astype(bool) & ~candidates["reason"].isin(DOWNGRADES)]
    if "exempt" in direct:
        direct = direct[~direct["exempt"].astype(bool)]
    return {
        str(sku): sorted(set(rows["user_id"].astype(str)))
        for sku, rows in direct.groupby("sku_id", sort=True)
    }


def downgrade_targets(candidates: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(user id, from skuId, to skuId) of the downgrade candidates a plan may carry out, for
    ``actions.plan.plan_downgrade``: direct assignments with a target SKU the tenant has, exempt rows
    (listed with ``include_exempt``) never. Sorted, each once."""
    down = candidates[
        candidates["direct"].astype(bool)
        & candidates["reason"].isin(DOWNGRADES)
        & candidates["other_sku_id"].notna()
    ]
    if "exempt" in down:
        down = down[~down["exempt"].astype(bool)]
    rows = zip(
        down["user_id"].astype(str), down["sku_id"].astype(str), down["other_sku_id"].astype(str), strict=True
    )
    return sorted(set(rows))


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
