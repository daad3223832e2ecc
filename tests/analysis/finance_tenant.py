"""A small hand-written tenant for the finance tests: one complete snapshot, a price book,
thresholds. Every expected number in the tests is worked out by hand from the rows below.

Snapshot 1 starts 2026-03-01T06:00:00Z; inactive after 90 days (before 2025-12-01T06:00Z).

SKUs (enabled, warning, consumed; purchased = enabled + warning):
    SPE_E3        10 0 7   suite; user plans EXO2 APPS SPO2 TEAMS AADP1 (+ Company EXO_FOUNDATION)
    SPE_E5         3 1 2   suite; user plans EXO2 APPS SPO2 TEAMS AADP2 MCOEV; 1 trial seat
    AAD_PREMIUM    5 0 3   standalone; user plan AADP1
    VISIOCLIENT    4 0 2   standalone; user plan VISIO
    FLOW_FREE  10000 0 3   free
    SHAREPOINTSTORAGE 50 0 0   appliesTo Company
    CONTOSO_PARTNER_ADDON 2 0 1   not in the catalog, never priced

Users (enabled, type, last interactive / non-interactive sign-in, created, dept, company, country):
    ann  yes Member 2026-02-20 / -          2020  Sales    Contoso  US  E3 direct + via E3 Staff
    bob  no  Member 2025-10-01 / -          2020  Sales    Contoso  US  E3 direct, VISIO direct
    cat  yes Member 2025-11-01 / 2025-11-15 2020  Finance  Contoso  DE  E3 via E3 Staff
    dan  yes Member never                   2025-06-01 Finance Fabrikam DE  E3 direct
    eve  yes Member never                   2026-02-15 -   Fabrikam  -   E3 direct (new)
    fay  yes Member 2025-01-01 / 2026-02-28 2020  IT       Contoso  US  E3 via E3 Staff, E5 direct, AAD direct
    gus  yes Guest  2026-02-25 / -          2024  -        -        GB  VISIO direct
    hal  yes Member 2026-02-27 / -          2020  IT       Contoso  US  E5, AAD, FLOW, PARTNER direct
    ivy  yes Member 2026-02-26 / -          2020  Sales    Contoso  US  E3 direct with AADP1 disabled, AAD, FLOW
    jon  yes Member 2026-02-26 / -          2020  IT       Contoso  US  FLOW direct; E3 via E3 Staff in CountViolation

Price book: E3 USD 30.00/month from 2025-01-01, 36.00 from 2026-01-01, 40.00 from 2026-04-01;
E5 USD 684.00/year; AAD USD 6.00/month; VISIO EUR 100.00/year; SHAREPOINTSTORAGE USD 0.20/month.
"""

from __future__ import annotations

from collectors.catalog import load_common_skus
from store.catalog import ensure_builtin_catalog
from store.db import open_store
from store.snapshots import SnapshotWriter

STARTED = "2026-03-01T06:00:00Z"
E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
AAD = "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
VISIO = "c5928f49-12ba-48f7-ada3-0d743a3601d5"
FLOW = "f30db892-07e9-47e9-837c-80727f46fd3d"
STORAGE = "99049c9c-6011-4908-bf17-15f496e6519d"
PARTNER = "45715bb8-13f9-4bf6-927f-ef96c102d394"
G_E3 = "aaaaaaaa-0000-0000-0000-000000000001"

P = {
    "EXO2": ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
    "APPS": ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"),
    "SPO2": ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
    "TEAMS": ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"),
    "AADP1": ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
    "AADP2": ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
    "MCOEV": ("4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MCOEV"),
    "VISIO": ("663a804f-1c30-4ff0-9915-9db84f0d1cea", "VISIO_CLIENT_SUBSCRIPTION"),
    "FLOWP": ("50e68c76-46c6-4674-81f9-75456511b170", "FLOW_P2_VIRAL"),
    "STORE": ("be5a7ed5-c598-4fcd-a061-5e6724c68a58", "SHAREPOINTSTORAGE"),
    "PARTNER": ("11b0131d-43c8-4bbb-b2c8-e80f9a50834a", "PARTNER_ADDON_PLAN"),
}
EXO_FOUNDATION = ("113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION")
SKU_PLANS = {
    E3: ["EXO2", "APPS", "SPO2", "TEAMS", "AADP1"],
    E5: ["EXO2", "APPS", "SPO2", "TEAMS", "AADP2", "MCOEV"],
    AAD: ["AADP1"],
    VISIO: ["VISIO"],
    FLOW: ["FLOWP"],
    STORAGE: ["STORE"],
    PARTNER: ["PARTNER"],
}
SKUS = [
    # sku_id, part, applies_to, enabled, warning, consumed
    (E3, "SPE_E3", "User", 10, 0, 7),
    (E5, "SPE_E5", "User", 3, 1, 2),
    (AAD, "AAD_PREMIUM", "User", 5, 0, 3),
    (VISIO, "VISIOCLIENT", "User", 4, 0, 2),
    (FLOW, "FLOW_FREE", "User", 10000, 0, 3),
    (STORAGE, "SHAREPOINTSTORAGE", "Company", 50, 0, 0),
    (PARTNER, "CONTOSO_PARTNER_ADDON", "User", 2, 0, 1),
]
OLD = "2020-01-01T00:00:00Z"
USERS = [
    # id, enabled, type, interactive, non-interactive, created, dept, company, country
    ("ann", 1, "Member", "2026-02-20T06:00:00Z", None, OLD, "Sales", "Contoso", "US"),
    ("bob", 0, "Member", "2025-10-01T06:00:00Z", None, OLD, "Sales", "Contoso", "US"),
    ("cat", 1, "Member", "2025-11-01T06:00:00Z", "2025-11-15T06:00:00Z", OLD, "Finance", "Contoso", "DE"),
    ("dan", 1, "Member", None, None, "2025-06-01T06:00:00Z", "Finance", "Fabrikam", "DE"),
    ("eve", 1, "Member", None, None, "2026-02-15T06:00:00Z", None, "Fabrikam", None),
    ("fay", 1, "Member", "2025-01-01T06:00:00Z", "2026-02-28T06:00:00Z", OLD, "IT", "Contoso", "US"),
    ("gus", 1, "Guest", "2026-02-25T06:00:00Z", None, "2024-01-01T00:00:00Z", None, None, "GB"),
    ("hal", 1, "Member", "2026-02-27T06:00:00Z", None, OLD, "IT", "Contoso", "US"),
    ("ivy", 1, "Member", "2026-02-26T06:00:00Z", None, OLD, "Sales", "Contoso", "US"),
    ("jon", 1, "Member", "2026-02-26T06:00:00Z", None, OLD, "IT", "Contoso", "US"),
]
LICENSES = [
    # user, sku, group, state, error, disabled plans
    ("ann", E3, "", "Active", "", ""),
    ("ann", E3, G_E3, "Active", "", ""),
    ("bob", E3, "", "Active", "", ""),
    ("bob", VISIO, "", "Active", "", ""),
    ("cat", E3, G_E3, "Active", "", ""),
    ("dan", E3, "", "Active", "", ""),
    ("eve", E3, "", "Active", "", ""),
    ("fay", E3, G_E3, "Active", "", ""),
    ("fay", E5, "", "Active", "", ""),
    ("fay", AAD, "", "Active", "", ""),
    ("gus", VISIO, "", "Active", "", ""),
    ("hal", E5, "", "Active", "", ""),
    ("hal", AAD, "", "Active", "", ""),
    ("hal", FLOW, "", "Active", "", ""),
    ("hal", PARTNER, "", "Active", "", ""),
    ("ivy", E3, "", "Active", "", P["AADP1"][0]),
    ("ivy", AAD, "", "Active", "", ""),
    ("ivy", FLOW, "", "Active", "", ""),
    ("jon", FLOW, "", "Active", "", ""),
    ("jon", E3, G_E3, "Error", "CountViolation", ""),
]
SUBSCRIPTIONS = [
    # id, sku, part, status, total, trial, created, next lifecycle
    ("sub-e3-a", E3, "SPE_E3", "Enabled", 6, 0, "2024-04-10T00:00:00Z", "2026-04-10T00:00:00Z"),
    ("sub-e3-b", E3, "SPE_E3", "Enabled", 4, 0, "2025-12-15T00:00:00Z", "2026-03-15T00:00:00Z"),
    ("sub-e5-paid", E5, "SPE_E5", "Enabled", 2, 0, "2025-03-20T00:00:00Z", "2026-03-20T00:00:00Z"),
    ("sub-e5-trial", E5, "SPE_E5", "Enabled", 1, 1, "2026-02-10T00:00:00Z", "2026-03-12T00:00:00Z"),
    ("sub-e5-grace", E5, "SPE_E5", "Warning", 1, 0, "2025-01-05T00:00:00Z", "2026-03-21T00:00:00Z"),
    ("sub-aad", AAD, "AAD_PREMIUM", "Enabled", 5, 0, "2023-07-01T00:00:00Z", "2026-07-01T00:00:00Z"),
    ("sub-visio", VISIO, "VISIOCLIENT", "Enabled", 4, 0, "2025-05-01T00:00:00Z", "2026-05-01T00:00:00Z"),
    ("sub-partner", PARTNER, "CONTOSO_PARTNER_ADDON", "Enabled", 2, 0, "2025-02-22T00:00:00Z",
     "2026-03-22T00:00:00Z"),
    ("sub-storage", STORAGE, "SHAREPOINTSTORAGE", "Enabled", 50, 0, "2025-09-01T00:00:00Z", "2026-09-01T00:00:00Z"),
    ("sub-flow", FLOW, "FLOW_FREE", "Enabled", 10000, 0, "2024-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
]  # fmt: skip
PRICE_CSV = """sku,unit_price,currency,period,effective_from
SPE_E3,30.00,USD,month,2025-01-01
SPE_E3,36.00,USD,month,2026-01-01
SPE_E3,40.00,USD,month,2026-04-01
06ebc4ee-1bb5-47dd-8120-11324bc54e06,684,usd,year,2025-01-01
aad_premium,6,USD,month,2025-01-01
VISIOCLIENT,100.00,EUR,year,2025-01-01
SHAREPOINTSTORAGE,0.20,USD,month,2025-01-01
"""


def build(path: str, *, prices: bool = True) -> int:
    """Write the tenant (and, by default, its price book) into a fresh store; the snapshot id."""
    with open_store(path) as store:
        ensure_builtin_catalog(store, load_common_skus())
        with SnapshotWriter(store, "contoso", started_at=STARTED) as writer:
            writer.stage("stage_skus", [(s, p, a, "Enabled", e, w, 0, 0, c) for s, p, a, e, w, c in SKUS])
            plans = [
                (sku, *P[key], "Success", "Company" if key == "STORE" else "User")
                for sku, keys in SKU_PLANS.items()
                for key in keys
            ]
            plans.append((E3, *EXO_FOUNDATION, "Success", "Company"))
            writer.stage("stage_plans", plans)
            writer.stage(
                "stage_subscriptions",
                [(i, f"c-{i}", s, p, st, n, t, c, x) for i, s, p, st, n, t, c, x in SUBSCRIPTIONS],
            )
            writer.stage("stage_groups", [(G_E3, "E3 Staff", "ProcessingComplete", 1)])
            writer.stage("stage_group_licenses", [(G_E3, E3, "")])
            writer.stage("stage_error_members", [(G_E3, "jon")])
            writer.stage("stage_users", [
                (u, f"{u}@contoso.com", u.title(), en, kind, country, dept, company, "Staff", created)
                for u, en, kind, _i, _n, created, dept, company, country in USERS
            ])  # fmt: skip
            writer.stage("stage_licenses", [(u, s, g, st, e, d, None) for u, s, g, st, e, d in LICENSES])
            writer.stage(
                "stage_assigned", sorted({(u, s) for u, s, _g, st, _e, _d in LICENSES if st == "Active"})
            )
            writer.stage("stage_signins", [(u, i, n, i) for u, _e, _k, i, n, *_ in USERS])
            sid = writer.complete(finished_at="2026-03-01T06:05:00Z").snapshot_id
        if prices:
            from store.prices import import_price_text

            import_price_text(
                store, PRICE_CSV, source="finance_tenant", replace=True, builtin=load_common_skus()
            )
    return sid
