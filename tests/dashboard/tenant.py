"""A small hand-written tenant with three complete snapshots and one failed attempt.

Every number the dashboard tests expect is computed by hand from the rows below (see the
comments); nothing here calls the analysis code. Snapshots:

    id 1  2025-05-01T06:00Z  complete
    id 2  2025-05-11T06:00Z  complete
    id 3  2025-05-16T06:00Z  failed ("page 3 failed")
    id 4  2025-05-21T06:00Z  complete (latest)

Latest snapshot (id 4), SKUs (enabled, warning, suspended, locked out, consumed):
    SPE_E3            4 1 2 0 6   purchased 5, available -1: over-assigned
    VISIOCLIENT       3 0 0 0 1   (was 2 enabled before: one seat bought)
    POWER_BI_PRO      0 0 5 0 0   nothing purchased
    EXCHANGESTANDARD  5 0 0 0 0
    Copilot           2 0 0 0 0
    MCOPSTN1          3 0 0 0 1
    FLOW_FREE     10000 0 0 0 2   free: never counted
    CONTOSO_PARTNER_ADDON 2 0 0 0 1   not in the catalog
"""

from __future__ import annotations

from collections.abc import Iterable

from collectors.catalog import load_common_skus
from store.catalog import ensure_builtin_catalog
from store.db import open_store
from store.snapshots import SnapshotWriter

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
VISIO = "c5928f49-12ba-48f7-ada3-0d743a3601d5"
PBI = "f8a1db68-be16-40ed-86d5-cb42ce701560"
EXO1 = "4b9405b0-7788-4568-add1-99614e613b69"
COPILOT = "639dec6b-bb19-468b-871c-c5c441c4b0cb"
CALLING = "0dab259f-bf13-4952-b7f8-7db8f131b28d"
FLOW = "f30db892-07e9-47e9-837c-80727f46fd3d"
PARTNER = "45715bb8-13f9-4bf6-927f-ef96c102d394"

G_E3 = "aaaaaaaa-0000-0000-0000-000000000001"
G_EXO = "aaaaaaaa-0000-0000-0000-000000000002"
G_CALL = "aaaaaaaa-0000-0000-0000-000000000003"
G_COP = "aaaaaaaa-0000-0000-0000-000000000004"
G_VIS = "aaaaaaaa-0000-0000-0000-000000000005"
GROUPS = {
    G_E3: "E3 Staff",
    G_EXO: "Exchange Basic",
    G_CALL: "Calling",
    G_COP: "Copilot Pilot",
    G_VIS: "Visio Users",
}
GROUP_SKUS = {G_E3: E3, G_EXO: EXO1, G_CALL: CALLING, G_COP: COPILOT, G_VIS: VISIO}

P_EXO2 = "efb87545-963c-4e0d-99df-69c6916d9eb0"
P_APPS = "43de0ff5-c92c-492b-9116-175376d08c38"
P_TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929"
PLANS = {
    E3: [(P_EXO2, "EXCHANGE_S_ENTERPRISE"), (P_APPS, "OFFICESUBSCRIPTION"), (P_TEAMS, "TEAMS1")],
    EXO1: [("9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD")],
    COPILOT: [
        ("a62f8878-de10-42f3-b68f-6149a25ceb97", "M365_COPILOT_APPS"),
        ("3f30311c-6b1e-48a4-ab79-725b469da960", "M365_COPILOT_BUSINESS_CHAT"),
    ],
    VISIO: [
        ("663a804f-1c30-4ff0-9915-9db84f0d1cea", "VISIO_CLIENT_SUBSCRIPTION"),
        ("2bdbaf8f-738f-4ac7-9234-3c3ee2ce7d0f", "VISIOONLINE"),
    ],
    CALLING: [("4ed3ff63-69d7-4fb7-b984-5aec7f605ca8", "MCOPSTN1")],
    PBI: [("70d33638-9c74-4d01-bfd3-562de28bd4ba", "BI_AZURE_P2")],
    FLOW: [("50e68c76-46c6-4674-81f9-75456511b170", "FLOW_P2_VIRAL")],
    PARTNER: [("11b0131d-43c8-4bbb-b2c8-e80f9a50834a", "PARTNER_ADDON_PLAN")],
}
PARTS = {
    E3: "SPE_E3", VISIO: "VISIOCLIENT", PBI: "POWER_BI_PRO", EXO1: "EXCHANGESTANDARD",
    COPILOT: "Microsoft_365_Copilot", CALLING: "MCOPSTN1", FLOW: "FLOW_FREE", PARTNER: "CONTOSO_PARTNER_ADDON",
}  # fmt: skip

# user -> (department, usage location, enabled, type, created, last interactive sign-in)
USERS = {
    "ann": ("Sales", "US", 1, "Member", "2024-01-01T00:00:00Z", "2025-05-20T08:00:00Z"),
    "ben": ("Sales", "US", 1, "Member", "2024-01-01T00:00:00Z", "2025-05-19T08:00:00Z"),
    "cat": (
        "Finance",
        "GB",
        1,
        "Member",
        "2024-01-01T00:00:00Z",
        "2025-01-10T08:00:00Z",
    ),  # 131 days: inactive
    "dan": ("Finance", "GB", 0, "Member", "2024-01-01T00:00:00Z", "2025-04-30T08:00:00Z"),  # disabled
    "eve": ("IT", "DE", 1, "Member", "2024-06-01T00:00:00Z", None),  # never signed in, old account
    "fay": ("IT", "DE", 1, "Member", "2024-01-01T00:00:00Z", "2025-05-01T08:00:00Z"),
    "gus": ("Sales", "US", 1, "Member", "2024-01-01T00:00:00Z", "2025-05-20T08:00:00Z"),
    "hal": (None, "US", 1, "Member", "2025-05-12T00:00:00Z", "2025-05-18T08:00:00Z"),
    "ida": ("Support", "IN", 1, "Member", "2025-05-12T00:00:00Z", "2025-05-18T08:00:00Z"),
    "jon": ("Support", None, 1, "Member", "2025-05-12T00:00:00Z", "2025-05-18T08:00:00Z"),
    "kim": ("Marketing", "US", 1, "Member", "2024-01-01T00:00:00Z", "2025-05-18T08:00:00Z"),
    "lea": ("Marketing", "FR", 1, "Member", "2024-01-01T00:00:00Z", "2025-05-18T08:00:00Z"),
    "max": ("Marketing", "FR", 1, "Member", "2024-01-01T00:00:00Z", "2025-05-18T08:00:00Z"),
    "ned": (None, None, 1, "Guest", "2024-02-01T00:00:00Z", None),  # guest, never signed in
    "oli": ("Sales", "US", 1, "Member", "2025-05-15T00:00:00Z", None),  # new, not signed in yet
    "pat": ("Finance", "US", 1, "Member", "2024-01-01T00:00:00Z", "2025-05-09T08:00:00Z"),  # leaves
}

# (user, sku, group, state, error, disabled plans); E3 through "E3 Staff" has Teams switched off.
_S1 = [
    ("ann", E3, G_E3, "Active", "", P_TEAMS),
    ("ben", E3, G_E3, "Active", "", P_TEAMS),
    ("cat", E3, G_E3, "Active", "", P_TEAMS),
    ("dan", E3, "", "Active", "", P_APPS),
    ("fay", E3, "", "Active", "", ""),
    ("pat", E3, "", "Active", "", ""),
    ("gus", E3, G_E3, "Error", "CountViolation", P_TEAMS),
    ("ben", FLOW, "", "Active", "", ""),
    ("ned", FLOW, "", "Active", "", ""),
    ("kim", PARTNER, "", "Active", "", ""),
]
_S2 = [*_S1, ("eve", E3, "", "Active", "", ""), ("lea", VISIO, G_VIS, "Error", "UniquenessViolation", "")]
_S4 = [row for row in _S2 if row[0] != "pat"] + [
    ("eve", E3, G_E3, "Active", "", P_TEAMS),  # eve now holds E3 twice: still one seat
    ("cat", VISIO, "", "Active", "", ""),
    ("oli", CALLING, "", "Active", "", ""),
    ("hal", E3, G_E3, "Error", "CountViolation", P_TEAMS),
    ("ann", EXO1, G_EXO, "Error", "MutuallyExclusiveViolation", ""),
    ("fay", EXO1, G_EXO, "Error", "MutuallyExclusiveViolation", ""),
    ("ida", CALLING, G_CALL, "Error", "ProhibitedInUsageLocationViolation", ""),
    ("jon", CALLING, G_CALL, "Error", "ProhibitedInUsageLocationViolation", ""),
    ("kim", COPILOT, G_COP, "Error", "DependencyViolation", ""),
    ("max", VISIO, G_VIS, "Error", "Other", ""),
]
_USERS_1 = [u for u in USERS if u not in ("hal", "ida", "jon", "oli")]
_USERS_4 = [u for u in USERS if u != "pat"]
# sku -> (enabled, warning, suspended, locked out); consumed is counted from the licence rows.
_UNITS_1 = {
    E3: (4, 1, 2, 0), VISIO: (2, 0, 0, 0), PBI: (0, 0, 5, 0), EXO1: (5, 0, 0, 0), COPILOT: (2, 0, 0, 0),
    CALLING: (3, 0, 0, 0), FLOW: (10000, 0, 0, 0), PARTNER: (2, 0, 0, 0),
}  # fmt: skip
_UNITS_4 = {**_UNITS_1, VISIO: (3, 0, 0, 0)}
SUBSCRIPTIONS = [
    ("sub-e3-a", E3, "Enabled", 4, 0, "2024-01-31T00:00:00Z", "2026-01-31T00:00:00Z"),
    ("sub-e3-b", E3, "Warning", 1, 0, "2024-06-01T00:00:00Z", "2025-06-01T00:00:00Z"),
    ("sub-pbi", PBI, "Suspended", 5, 0, "2023-01-01T00:00:00Z", None),
    ("sub-copilot", COPILOT, "Enabled", 2, 1, "2025-04-01T00:00:00Z", "2025-07-01T00:00:00Z"),
]
TIMES = {
    1: "2025-05-01T06:00:00Z",
    2: "2025-05-11T06:00:00Z",
    3: "2025-05-16T06:00:00Z",
    4: "2025-05-21T06:00:00Z",
}


def _snapshot(
    path: str,
    when: str,
    users: Iterable[str],
    licenses: list[tuple[str, str, str, str, str, str]],
    units: dict[str, tuple[int, int, int, int]],
    *,
    signin_available: bool = True,
) -> int:
    users = list(users)
    held = sorted({(u, s) for u, s, _g, state, _e, _p in licenses if state == "Active"})
    with open_store(path) as store, SnapshotWriter(store, "contoso", when) as writer:
        writer.stage(
            "stage_skus",
            [
                (sku, PARTS[sku], "User", "Enabled", *units[sku], sum(1 for _u, s in held if s == sku))
                for sku in units
            ],
        )
        writer.stage(
            "stage_plans",
            [(sku, pid, name, "Success", "User") for sku, plans in PLANS.items() for pid, name in plans],
        )
        writer.stage(
            "stage_subscriptions",
            [
                (sid, sid, sku, PARTS[sku], status, total, trial, c, n)
                for sid, sku, status, total, trial, c, n in SUBSCRIPTIONS
            ],
        )
        in_error = {(g, u) for u, _s, g, _st, e, _p in licenses if e}
        writer.stage(
            "stage_groups",
            [
                (g, name, "ProcessingComplete", int(any(eg == g for eg, _ in in_error)))
                for g, name in GROUPS.items()
            ],
        )
        writer.stage(
            "stage_group_licenses", [(g, sku, P_TEAMS if g == G_E3 else "") for g, sku in GROUP_SKUS.items()]
        )
        writer.stage("stage_error_members", sorted(in_error))
        writer.stage(
            "stage_users",
            [
                (u, f"{u}@contoso.com", u.capitalize(), USERS[u][2], USERS[u][3], USERS[u][1], USERS[u][0],
                 "Contoso", "Clerk", USERS[u][4])
                for u in users
            ],
        )  # fmt: skip
        writer.stage("stage_licenses", [(u, s, g, st, e, p, None) for u, s, g, st, e, p in licenses])
        writer.stage("stage_assigned", held)
        if signin_available:
            writer.stage("stage_signins", [(u, USERS[u][5], None, USERS[u][5]) for u in users])
        summary = writer.complete(
            finished_at=when.replace("06:00:00", "06:01:30"),
            request_count=12,
            retry_count=1,
            duration_seconds=90.0,
            signin_available=signin_available,
            warnings=[]
            if signin_available
            else [
                "Sign-in activity is unavailable, so inactive users cannot be identified in this snapshot."
            ],
        )
        return summary.snapshot_id


def build_store(path: str, *, signin_available: bool = True) -> str:
    """Write the tenant's history to ``path`` and return the path."""
    with open_store(path) as store:
        ensure_builtin_catalog(store, load_common_skus())
    _snapshot(path, TIMES[1], _USERS_1, _S1, _UNITS_1)
    _snapshot(path, TIMES[2], _USERS_1, _S2, _UNITS_1)
    with open_store(path) as store:
        try:
            with SnapshotWriter(store, "contoso", TIMES[3]) as writer:
                writer.stage(
                    "stage_users",
                    [("ann", "ann@contoso.com", "Ann", 1, "Member", "US", "Sales", "", "", None)],
                )
                raise RuntimeError("page 3 failed")
        except RuntimeError:
            pass
    _snapshot(path, TIMES[4], _USERS_4, _S4, _UNITS_4, signin_available=signin_available)
    return path


def build_single(path: str) -> str:
    """Only the latest snapshot (no history), for pages that must cope without a previous one."""
    with open_store(path) as store:
        ensure_builtin_catalog(store, load_common_skus())
    _snapshot(path, TIMES[4], _USERS_4, _S4, _UNITS_4)
    return path
