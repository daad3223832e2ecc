"""Reclaim and downgrade advice from usage, on a hand-written tenant: each rule's positive and
negative case, and the guardrails.

The usage reports are dated 2026-03-01 (the snapshot is 2026-03-03: reports lag two days); the
limit is 90 days, so a workload last used before 2025-12-01 (more than 90 days before the report)
counts as unused. Every expected value below is worked out from the rows in this file."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.reclaim import reclaim_candidates, reclaim_savings, removal_targets
from store.usage import USAGE_COLUMNS

NOW = pd.Timestamp("2026-03-03T06:00:00Z")
REPORT = "2026-03-01"
E3, E5, EXO, COP, F1 = "sku-e3", "sku-e5", "sku-exo", "sku-cop", "sku-f1"
PLANS = {
    E3: ["EXCHANGE_S_ENTERPRISE", "SHAREPOINTENTERPRISE", "TEAMS1", "OFFICESUBSCRIPTION"],
    E5: ["EXCHANGE_S_ENTERPRISE", "SHAREPOINTENTERPRISE", "TEAMS1", "OFFICESUBSCRIPTION", "MCOEV",
         "BI_AZURE_P2", "WINDEFATP"],
    EXO: ["EXCHANGE_S_STANDARD"],
    COP: ["M365_COPILOT_APPS", "M365_COPILOT_TEAMS"],
}  # fmt: skip
PARTS = {E3: "SPE_E3", E5: "SPE_E5", EXO: "EXCHANGESTANDARD", COP: "Microsoft_365_Copilot"}
GB = 1024**3
ACTIVE = "2026-02-27"  # 2 days before the report
# user -> (SKUs held, licensed on, idle reason from sign-ins, disabled plan names per SKU, usage)
TENANT: dict[str, tuple[list[str], str, str, dict[str, list[str]], dict[str, Any]]] = {
    # unused: nothing in E3's workloads since 2025-11-01 (120 days): exchange 120, sharepoint 151.
    "ann": ([E3], "2025-01-01", "", {}, {"exchange_at": "2025-11-01", "sharepoint_at": "2025-10-01"}),
    # not unused: Teams 9 days ago; desktop apps used.
    "bob": ([E3], "2025-01-01", "", {}, {"exchange_at": "2025-11-01", "teams_at": "2026-02-20", "desktop_apps": 1}),
    # premium unused: Power BI and Defender off, Phone System on but Teams last 2025-11-20 (101 days).
    "cat": ([E5], "2025-01-01", "", {E5: ["BI_AZURE_P2", "WINDEFATP"]},
            {"exchange_at": ACTIVE, "teams_at": "2025-11-20", "desktop_apps": 1}),
    # not premium unused: Power BI Pro switched on (no report shows its use: it may be used).
    "dan": ([E5], "2025-01-01", "", {E5: ["WINDEFATP"]}, {"exchange_at": ACTIVE, "desktop_apps": 1}),
    # desktop unused, 1 GB mailbox and 0.5 GB OneDrive: under F3's 2 GB.
    "eve": ([E3], "2025-01-01", "", {}, {"exchange_at": ACTIVE, "desktop_apps": 0, "mailbox_bytes": GB,
                                         "onedrive_bytes": GB // 2}),
    # not desktop unused to F3: a 10 GB mailbox does not fit it, and M365 E3 has no other target.
    "fay": ([E3], "2025-01-01", "", {}, {"exchange_at": ACTIVE, "desktop_apps": 0, "mailbox_bytes": 10 * GB}),
    # Copilot unused: never; E3 used.
    "gus": ([E3, COP], "2025-01-01", "", {}, {"exchange_at": ACTIVE, "desktop_apps": 1}),
    # Copilot used 28 days ago.
    "hal": ([E3, COP], "2025-01-01", "", {}, {"exchange_at": ACTIVE, "desktop_apps": 1, "copilot_at": "2026-02-01"}),
    # licensed shared mailbox, 3 GB, no archive, no hold.
    "ivy": ([EXO], "2025-01-01", "", {}, {"exchange_at": ACTIVE, "recipient_type": "SharedMailbox",
                                          "mailbox_bytes": 3 * GB, "has_archive": 0, "on_hold": 0}),
    # shared but 60 GB: it needs its licence.
    "jon": ([EXO], "2025-01-01", "", {}, {"exchange_at": ACTIVE, "recipient_type": "SharedMailbox",
                                          "mailbox_bytes": 60 * GB, "has_archive": 0, "on_hold": 0}),
    # on hold and unused: the guardrail keeps it.
    "kim": ([EXO], "2025-01-01", "", {}, {"exchange_at": "2025-06-01", "recipient_type": "SharedMailbox",
                                          "mailbox_bytes": 3 * GB, "has_archive": 0, "on_hold": 1}),
    # unused like ann, but licensed 2026-02-20 (11 days before the snapshot): the guardrail keeps it.
    "leo": ([E3], "2026-02-20", "", {}, {"exchange_at": "2025-11-01"}),
    # inactive by sign-in: one people row, not also an "unused" one.
    "mia": ([E3], "2025-01-01", "inactive", {}, {"exchange_at": "2025-09-01"}),
}  # fmt: skip


def _frames() -> dict[str, pd.DataFrame]:
    plans = pd.DataFrame(
        [
            {"sku_id": s, "service_plan_id": f"{s}:{n}", "service_plan_name": n, "applies_to": "User"}
            for s, names in PLANS.items()
            for n in names
        ]  # fmt: skip
    )
    holders, licenses, usage = [], [], []
    for user, (skus, licensed, idle, off, use) in TENANT.items():
        for sku in skus:
            holders.append({"user_id": user, "user_principal_name": f"{user}@contoso.com", "display_name": user,
                            "sku_id": sku, "direct": True, "groups": (), "last_sign_in": None if idle else NOW,
                            "created_at": "2024-01-01T00:00:00Z", "guest": False, "idle": idle})  # fmt: skip
            disabled = ",".join(f"{sku}:{n}" for n in off.get(sku, []))
            licenses.append({"user_id": user, "sku_id": sku, "sku_part_number": PARTS[sku], "assigned_by_group": "",
                             "state": "Active", "error": "", "disabled_plans": disabled,
                             "last_updated_at": f"{licensed}T09:00:00Z"})  # fmt: skip
        usage.append({c: None for c in USAGE_COLUMNS} | {"user_id": user, "report_date": REPORT} | use)
    seats = pd.DataFrame(
        [
            {"sku_id": s, "sku_part_number": p, "name": p, "counts_as_unused": True, "catalog_kind": None}
            for s, p in PARTS.items()
        ]  # fmt: skip
    )
    return {"holders": pd.DataFrame(holders), "licenses": pd.DataFrame(licenses), "plans": plans,
            "seats": seats, "usage": pd.DataFrame(usage, columns=list(USAGE_COLUMNS))}  # fmt: skip


def _candidates(**kw: Any) -> pd.DataFrame:
    f = _frames()
    exemptions = pd.DataFrame(columns=["kind", "target_id", "note"])
    return reclaim_candidates(
        f["holders"], f["licenses"], f["seats"], f["plans"], exemptions, pd.DataFrame(), now=NOW,
        inactive_days=90, usage=kw.pop("usage", f["usage"]), **kw,
    )  # fmt: skip


def _keys(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["user_id"], r["reason"]): r for r in frame.to_dict(orient="records")}


def test_each_rule_positive_and_negative() -> None:
    assert sorted(_keys(_candidates())) == [
        ("ann", "unused"), ("cat", "premium_unused"), ("eve", "desktop_unused"), ("gus", "copilot_unused"),
        ("ivy", "shared_mailbox"), ("mia", "inactive"),
    ]  # fmt: skip


def test_evidence_names_the_dates_and_the_plan() -> None:
    rows = _keys(_candidates())
    assert rows[("ann", "unused")]["evidence"] == (
        "No use of its workloads in 90 days: Exchange last 2025-11-01, OneDrive never, SharePoint last "
        "2025-10-01, Teams never, Microsoft 365 apps never (usage report of 2026-03-01)."
    )
    assert rows[("ann", "unused")]["action"] == "Remove the direct assignment."
    cat = rows[("cat", "premium_unused")]
    assert cat["evidence"] == (
        "Premium plans unused: Phone System unused (Teams last 2025-11-20); Power BI Pro switched off; "
        "Defender for Endpoint switched off (usage report of 2026-03-01)."
    )
    assert cat["other_sku_id"] == E3
    assert cat["action"] == "Downgrade to SPE_E3: assign SPE_E3, then remove the direct assignment."
    eve = rows[("eve", "desktop_unused")]
    assert pd.isna(eve["other_sku_id"])  # F3 is not bought
    assert eve["action"].startswith("Downgrade to SPE_F1: assign SPE_F1 (not bought yet), then remove")
    assert rows[("ivy", "shared_mailbox")]["evidence"].startswith(
        "Shared mailbox using 3.0 GB (under 50 GB), no archive, no hold: a shared mailbox needs no licence"
    )
    assert rows[("gus", "copilot_unused")]["sku_part_number"] == "Microsoft_365_Copilot"


def test_guardrails_hold() -> None:
    shown = _keys(_candidates(include_exempt=True))
    kim, leo = shown[("kim", "unused")], shown[("leo", "unused")]
    assert kim["exempt"] and kim["exemption_note"] == (
        "Guardrail: the mailbox is on hold (litigation or in-place), so its licence is kept."
    )
    assert (
        leo["exempt"]
        and leo["exemption_note"] == "Guardrail: licensed on 2026-02-20, within the last 30 days."
    )
    # With a 10-day window leo's licence (11 days old) is no longer protected.
    assert ("leo", "unused") in _keys(_candidates(recent_days=10))


def test_without_usage_nothing_changes() -> None:
    assert sorted(_keys(_candidates(usage=None))) == [("mia", "inactive")]


def test_a_downgrade_saves_the_difference() -> None:
    found = _candidates()
    # E5 USD 57.00, E3 USD 36.00 a month: cat's downgrade saves 21.00; ann's E3 removal 36.00;
    # eve's F3 is not in the tenant (not priced here): her E3 seat counts whole.
    costs = pd.DataFrame([
        {"sku_id": s, "name": PARTS[s], "status": "priced", "currency": "USD", "unit_price_minor": p, "period": "month"}
        for s, p in ((E5, 5700), (E3, 3600), (EXO, 400), (COP, 3000))
    ])  # fmt: skip
    savings = reclaim_savings(found, costs).set_index("sku_id")
    assert savings.loc[E5, "saving"] == 5700 and savings.loc[E5, "seats"] == 1
    # E3 seats freed: ann, eve, mia (3) minus the one cat takes = 2 -> 2 x 36.00.
    assert savings.loc[E3, "seats"] == 2 and savings.loc[E3, "saving"] == 7200
    assert int(savings["saving"].sum()) == 5700 + 7200 + 400 + 3000


def test_the_hold_guardrail_covers_sign_in_reasons_too() -> None:
    f = _frames()
    usage = f["usage"]
    usage.loc[usage["user_id"] == "mia", "on_hold"] = 1
    shown = _keys(_candidates(usage=usage, include_exempt=True))
    assert shown[("mia", "inactive")]["exempt"]
    assert ("mia", "inactive") not in _keys(_candidates(usage=usage))


def test_a_recent_licence_does_not_shield_a_sign_in_reason() -> None:
    f = _frames()
    licenses = f["licenses"]
    licenses.loc[licenses["user_id"] == "mia", "last_updated_at"] = "2026-03-01T00:00:00Z"
    found = reclaim_candidates(
        f["holders"], licenses, f["seats"], f["plans"], pd.DataFrame(columns=["kind", "target_id", "note"]),
        pd.DataFrame(), now=NOW, inactive_days=90, usage=f["usage"],
    )  # fmt: skip
    assert ("mia", "inactive") in _keys(found)


def test_a_downgrade_is_never_a_bare_removal() -> None:
    # cat's E5 -> E3 needs E3 assigned first: removing E5 alone would leave her with neither.
    targets = removal_targets(_candidates())
    assert "cat" not in targets.get(E5, [])
    assert targets[E3] == [
        "ann",
        "mia",
    ]  # eve too is a downgrade (to F3) and targets[EXO] == ["ivy"] and targets[COP] == ["gus"]


def test_the_reclaim_notice_says_why_usage_is_missing() -> None:
    from analysis.reclaim_usage import usage_notice

    def notice(*statuses: str) -> str | None:
        return usage_notice(pd.DataFrame({"status": list(statuses)}, dtype=object))

    assert notice() is None  # a snapshot from before usage collection: the caption covers it
    assert notice("ok", "ok", "empty") is None
    assert notice("ok", "forbidden") == (
        "Usage reports were not collected (the app lacks Reports.Read.All): Reclaim uses sign-in activity only."
    )
    # Concealed names win over a refused report: the fix is the setting, not the permission.
    concealed = notice("forbidden", "concealed")
    assert concealed is not None and concealed.startswith("Microsoft 365 usage reports conceal user names")
    assert concealed.endswith('turn off "Display concealed user, group, and site names in all reports" '
                              "(admin center, Settings > Org settings > Reports).")  # fmt: skip
