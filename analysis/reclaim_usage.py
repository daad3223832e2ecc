"""Reclaim and downgrade advice from what people actually use (Microsoft 365 usage reports).

Sign-in says someone signed in, not that they use what their licence pays for. From the usage
rows (``store.usage.load_usage``), dated by the report's refresh date (reports lag about two
days), one row per held seat and the first rule that applies:

- ``shared_mailbox``: the mailbox is a shared one under 50 GB, with no archive and no hold: a
  shared mailbox needs no licence. Remove it.
- ``copilot_unused``: a Copilot seat with no Copilot activity for ``usage_days``. Remove it.
- ``unused``: none of the workloads the SKU gives the user (its switched-on plans: Exchange,
  OneDrive, SharePoint, Teams, Yammer, the Microsoft 365 apps, Copilot) used for ``usage_days``,
  although the user signs in (people who do not are the sign-in reasons' candidates). Remove it.
- ``premium_unused``: an E5 whose premium plans are unused: Phone System (MCOEV) with no Teams
  activity for ``usage_days``, or disabled; Power BI Pro and Defender disabled in the assignment
  (no usage report shows them, so only a switched-off plan is proof). Downgrade to E3.
- ``desktop_unused``: an E3 whose holder used no desktop (Windows or Mac) Office app in the
  report's 30 days: downgrade to F3 (mailbox and OneDrive under 2 GB) or Office 365 E1 (mailbox
  under 50 GB), the cheapest the plans allow.

Guardrails (``guardrail_notes``): a mailbox on hold (the report's Recoverable Items quota of 100
GB) is never proposed, for any reason, nor, for the usage reasons, a licence assigned within
``recent_days``; ``analysis.reclaim`` turns
the note into an exemption, so such rows show only with the exempt ones. Pure pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.disabled_plans import split_plan_ids
from analysis.inactive import HELD_STATES
from analysis.reclaim_people import SEAT_FIELDS, removal_action

USAGE_REASONS = ("shared_mailbox", "copilot_unused", "unused", "premium_unused", "desktop_unused")
WORKLOAD_LABELS = {
    "exchange": "Exchange", "onedrive": "OneDrive", "sharepoint": "SharePoint", "teams": "Teams",
    "yammer": "Yammer", "apps": "Microsoft 365 apps", "copilot": "Copilot",
}  # fmt: skip
GB = 1024**3
SHARED_LIMIT = 50 * GB
# E5 -> E3: the premium plans and the E3 that keeps everything else.
PREMIUM = {"SPE_E5": "SPE_E3", "ENTERPRISEPREMIUM": "ENTERPRISEPACK"}
PREMIUM_PLANS = {"MCOEV": "Phone System", "BI_AZURE_P2": "Power BI Pro", "WINDEFATP": "Defender for Endpoint"}
# E3 without desktop apps -> (target, largest mailbox and OneDrive it holds), cheapest first.
DESKTOP = {
    "SPE_E3": (("SPE_F1", 2 * GB),),
    "ENTERPRISEPACK": (("DESKLESSPACK", 2 * GB), ("STANDARDPACK", 50 * GB)),
}


def plan_workloads(name: str) -> set[str]:
    """The usage-report workloads a service plan (by name) gives."""
    if name.startswith("EXCHANGE_S_") and name != "EXCHANGE_S_FOUNDATION":
        return {"exchange"}
    if name.startswith("SHAREPOINT") or name == "ONEDRIVE_BASIC":
        return {"sharepoint", "onedrive"}
    if name == "TEAMS1":
        return {"teams"}
    if name.startswith("YAMMER"):
        return {"yammer"}
    if name in ("OFFICESUBSCRIPTION", "OFFICE_BUSINESS"):
        return {"apps"}
    if name == "M365_COPILOT_APPS":
        return {"copilot"}
    return set()


def _days(report: pd.Timestamp, value: Any) -> int | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    return int((report - pd.Timestamp(str(value))).days)


def _on_plans(licenses: pd.DataFrame, plans: pd.DataFrame) -> dict[tuple[str, str], set[str]]:
    """(user, SKU) -> plan names switched on in at least one held assignment."""
    names: dict[str, dict[str, str]] = {}
    for sku, pid, name in zip(
        plans["sku_id"], plans["service_plan_id"], plans["service_plan_name"], strict=True
    ):
        names.setdefault(str(sku), {})[str(pid).lower()] = str(name)
    held = licenses[licenses["state"].isin(HELD_STATES)]
    out: dict[tuple[str, str], set[str]] = {}
    for uid, sku, off in zip(held["user_id"], held["sku_id"], held["disabled_plans"].fillna(""), strict=True):
        disabled = {p.lower() for p in split_plan_ids(off)}
        on = {n for pid, n in names.get(str(sku), {}).items() if pid not in disabled}
        out.setdefault((str(uid), str(sku)), set()).update(on)
    return out


def _workload_evidence(usage: Mapping[str, Any], used: set[str], report: pd.Timestamp) -> str:
    parts = []
    for w in sorted(used, key=list(WORKLOAD_LABELS).index):
        last = usage.get(f"{w}_at")
        parts.append(
            f"{WORKLOAD_LABELS[w]} {'last ' + str(last) if _days(report, last) is not None else 'never'}"
        )
    return ", ".join(parts)


def usage_candidates(
    paid: pd.DataFrame, licenses: pd.DataFrame, plans: pd.DataFrame, usage: pd.DataFrame,
    seats: pd.DataFrame, names: Mapping[str, str], *, usage_days: int,
) -> pd.DataFrame:  # fmt: skip
    """One row per held seat a usage rule applies to (the module docstring), in the columns of
    ``analysis.reclaim_people.people_candidates``."""
    columns = [*SEAT_FIELDS, "reason", "other_sku_id", "frees_seat", "evidence", "action"]
    if usage.empty or paid.empty:
        return pd.DataFrame(columns=columns)
    by_user = {str(r["user_id"]): r for r in usage.to_dict(orient="records")}
    part_of = dict(zip(seats["sku_id"].astype(str), seats["sku_part_number"].astype(str), strict=True))
    id_of = {p: s for s, p in part_of.items()}
    on = _on_plans(licenses, plans)
    rows: list[dict[str, Any]] = []
    for seat in paid[paid["user_id"].isin(list(by_user))].to_dict(orient="records"):
        u = by_user[str(seat["user_id"])]
        if not u.get("report_date"):
            continue
        report = pd.Timestamp(str(u["report_date"]))
        sku = str(seat["sku_id"])
        part = part_of.get(sku, sku)
        plan_names = on.get((str(seat["user_id"]), sku), set())
        gives = set().union(*(plan_workloads(n) for n in plan_names)) if plan_names else set()
        found = _rule(u, report, part, plan_names, gives, usage_days)
        if found is None:
            continue
        reason, evidence, target = found
        target_id = id_of.get(target) if target else None
        remove = removal_action(bool(seat["direct"]), tuple(seat["groups"]), names)
        action = remove if target is None else (
            f"Downgrade to {target}: assign {target}{'' if target_id else ' (not bought yet)'}, then {remove[0].lower()}{remove[1:]}"
        )  # fmt: skip
        rows.append({**{k: seat[k] for k in SEAT_FIELDS}, "reason": reason, "other_sku_id": target_id,
                     "frees_seat": True, "evidence": f"{evidence} (usage report of {report.date()}).",
                     "action": action})  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _stale(u: Mapping[str, Any], report: pd.Timestamp, workloads: set[str], days: int) -> bool:
    return all((d := _days(report, u.get(f"{w}_at"))) is None or d > days for w in workloads)


def _rule(
    u: Mapping[str, Any], report: pd.Timestamp, part: str, plan_names: set[str], gives: set[str], days: int
) -> tuple[str, str, str | None] | None:
    """(reason, evidence, downgrade target part number or None) of the first rule that applies."""
    mailbox = u.get("mailbox_bytes")
    shared = str(u.get("recipient_type") or "").lower() in ("sharedmailbox", "shared")
    if shared and "exchange" in gives and mailbox is not None and not pd.isna(mailbox):
        if int(mailbox) < SHARED_LIMIT and u.get("has_archive") == 0 and u.get("on_hold") == 0:
            return ("shared_mailbox", f"Shared mailbox using {int(mailbox) / GB:.1f} GB (under 50 GB), no archive, "
                    "no hold: a shared mailbox needs no licence", None)  # fmt: skip
    if gives == {"copilot"}:
        if _stale(u, report, gives, days):
            return (
                "copilot_unused",
                f"No Copilot activity in {days} days: {_workload_evidence(u, gives, report)}",
                None,
            )
        return None
    if gives and _stale(u, report, gives, days):
        return (
            "unused",
            f"No use of its workloads in {days} days: {_workload_evidence(u, gives, report)}",
            None,
        )
    if part in PREMIUM:
        idle = []
        for plan, label in PREMIUM_PLANS.items():
            if plan not in plan_names:
                idle.append(f"{label} switched off")
            elif plan == "MCOEV" and _stale(u, report, {"teams"}, days):
                idle.append(
                    f"{label} unused (Teams {'last ' + str(u.get('teams_at')) if _days(report, u.get('teams_at')) is not None else 'never'})"
                )
        if len(idle) == len(PREMIUM_PLANS):
            return "premium_unused", f"Premium plans unused: {'; '.join(idle)}", PREMIUM[part]
    if part in DESKTOP and u.get("desktop_apps") == 0:
        onedrive = u.get("onedrive_bytes")
        size = max(int(mailbox) if mailbox is not None and not pd.isna(mailbox) else 0,
                   int(onedrive) if onedrive is not None and not pd.isna(onedrive) else 0)  # fmt: skip
        target = next((t for t, limit in DESKTOP[part] if size < limit), None)
        if target is not None and mailbox is not None and not pd.isna(mailbox):
            return ("desktop_unused", f"No desktop Office app used in the report's 30 days; mailbox "
                    f"{int(mailbox) / GB:.1f} GB, OneDrive {size / GB:.1f} GB at most", target)  # fmt: skip
    return None


def guardrail_notes(
    out: pd.DataFrame, licenses: pd.DataFrame, usage: pd.DataFrame, *, now: pd.Timestamp, recent_days: int
) -> list[str | None]:
    """Per candidate row: why a guardrail keeps the licence, or None: a mailbox on hold (any
    reason), a licence assigned within ``recent_days`` of ``now`` (the usage reasons: a new holder
    has had no time to use it; the sign-in reasons have their own age limit)."""
    held = set(usage.loc[usage["on_hold"] == 1, "user_id"].astype(str)) if not usage.empty else set()
    stamps = pd.to_datetime(licenses["last_updated_at"], utc=True, errors="coerce", format="ISO8601")
    latest = (
        pd.DataFrame({"k": list(zip(licenses["user_id"], licenses["sku_id"], strict=True)), "t": stamps})
        .dropna()
        .groupby("k")["t"]
        .max()
        .to_dict()
    )
    notes: list[str | None] = []
    rows = zip(out["user_id"].astype(str), out["sku_id"].astype(str), out["reason"], strict=True)
    for uid, sku, reason in rows:
        when = latest.get((uid, sku))
        if uid in held:
            notes.append(
                "Guardrail: the mailbox is on hold (litigation or in-place), so its licence is kept."
            )
        elif reason in USAGE_REASONS and when is not None and (now - when).days < recent_days:
            notes.append(f"Guardrail: licensed on {when.date()}, within the last {recent_days} days.")
        else:
            notes.append(None)
    return notes


def unused_pairs(
    holders: pd.DataFrame,
    licenses: pd.DataFrame,
    plans: pd.DataFrame,
    usage: pd.DataFrame,
    *,
    usage_days: int,
) -> set[tuple[str, str]]:
    """(user, SKU) seats of people who sign in (``idle`` empty) but used none of the SKU's workloads
    for ``usage_days``: the "unused" waste of ``analysis.costs.sku_costs``."""
    if usage.empty or holders.empty:
        return set()
    by_user = {str(r["user_id"]): r for r in usage.to_dict(orient="records") if r.get("report_date")}
    on = _on_plans(licenses, plans)
    active = holders[(holders["idle"] == "") & holders["user_id"].isin(list(by_user))]
    out: set[tuple[str, str]] = set()
    for uid, sku in zip(active["user_id"].astype(str), active["sku_id"].astype(str), strict=True):
        u = by_user[uid]
        names = on.get((uid, sku), set())
        gives = set().union(*(plan_workloads(n) for n in names)) if names else set()
        if gives and _stale(u, pd.Timestamp(str(u["report_date"])), gives, usage_days):
            out.add((uid, sku))
    return out


# Where an admin turns concealment off, quoted in every sentence that says names are concealed.
CONCEALED_SETTING = (
    '"Display concealed user, group, and site names in all reports" (admin center, Settings > Org '
    "settings > Reports)"
)


def usage_notice(reports: pd.DataFrame) -> str | None:
    """One sentence for the Reclaim page when a snapshot's usage reports (``store.usage.
    load_usage_reports``) concealed names or were refused; None otherwise (a snapshot older than
    usage collection has none and says nothing: the page's caption covers it)."""
    statuses = set(reports["status"]) if not reports.empty else set()
    if "concealed" in statuses:
        return (
            "Microsoft 365 usage reports conceal user names in this tenant, so no usage is joined to anyone "
            f"and Reclaim uses sign-in activity only: turn off {CONCEALED_SETTING}."
        )
    if "forbidden" in statuses:
        return "Usage reports were not collected (the app lacks Reports.Read.All): Reclaim uses sign-in activity only."
    return None
