"""The collector's rows land in the columns the store declares (store/staging.py).

The user sweep builds plain tuples in the staging row types' field order for speed; a field out
of place would store, say, a department as a company name without any error. One user of the
150-user simulated tenant is given hand-picked, pairwise distinct values, collected over HTTPS
twice (the second collection compares every row with the history and must write nothing), and
read back from the store by column name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.model import DirectLicense, GroupLicense
from store.db import open_store
from store.staging import STAGING, LicenseRow, SignInRow, UserRow

PLAN_A = "AAAAAAAA-0000-4000-8000-00000000000A"  # upper case, as Graph may send it
PLAN_B = "bbbbbbbb-0000-4000-8000-00000000000b"


def _pick(sim: Any) -> Any:
    """A member holding nothing, so the licences below are all it has."""
    return next(u for u in sim.tenant.users if not u.direct and not u.group_licenses and not u.is_guest)


def test_a_collected_users_fields_are_stored_in_their_own_columns(sim: Any, store_url: str) -> None:
    tenant = sim.tenant
    visio, e3 = tenant.sku_id("VISIOCLIENT"), tenant.sku_id("SPE_E3")
    group = tenant.groups[0].id
    user = _pick(sim)
    user.given_name, user.surname = "Ada", "Lovelace"
    user.account_enabled = False
    user.usage_location, user.department, user.company_name = "NO", "Finance", "Fabrikam"
    user.job_title = "Auditor"
    user.created = datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC)
    user.direct = {visio: DirectLicense((PLAN_B, PLAN_A), datetime(2024, 3, 1, 10, 0, tzinfo=UTC))}
    user.group_licenses = {
        (group, e3): GroupLicense("Error", "CountViolation", (), datetime(2024, 3, 2, 8, 30, tzinfo=UTC))
    }
    # Epoch seconds: 1700000000 is 2023-11-14T22:13:20Z, 1700003600 an hour later, 1690000000
    # 2023-07-22T04:26:40Z.
    user.last_sign_in, user.last_non_interactive, user.last_success = 1700000000, 1700003600, 1690000000
    settings = simulator_settings(sim, store_url)
    first = run_collection(settings)
    again = run_collection(settings)

    # Written out by hand from the values set above (Graph's names -> the store's columns).
    expected_user = {
        "user_principal_name": user.upn,
        "display_name": "Ada Lovelace",
        "account_enabled": 0,
        "user_type": "Member",
        "usage_location": "NO",
        "department": "Finance",
        "company_name": "Fabrikam",
        "job_title": "Auditor",
        "created_at": "2021-02-03T04:05:06Z",
    }
    expected_licenses = [
        {"sku_id": e3, "assigned_by_group": group, "state": "Error", "error": "CountViolation",
         "disabled_plans": "", "last_updated_at": "2024-03-02T08:30:00Z"},
        {"sku_id": visio, "assigned_by_group": "", "state": "Active", "error": "",
         "disabled_plans": f"{PLAN_A.lower()},{PLAN_B}", "last_updated_at": "2024-03-01T10:00:00Z"},
    ]  # fmt: skip
    expected_signin = {
        "last_sign_in_at": "2023-11-14T22:13:20Z",
        "last_non_interactive_at": "2023-11-14T23:13:20Z",
        "last_successful_at": "2023-07-22T04:26:40Z",
    }
    user_columns = UserRow._fields[1:]
    licence_columns = LicenseRow._fields[1:]
    signin_columns = SignInRow._fields[1:]
    assert set(user_columns) == set(expected_user)  # every declared column is checked
    with open_store(store_url) as store:
        read = store.conn.execute
        users = read(
            f"SELECT {', '.join(user_columns)}, valid_from FROM users WHERE user_id = ?", (user.id,)
        ).fetchall()
        licenses = read(
            f"SELECT {', '.join(licence_columns)}, valid_from FROM user_licenses WHERE user_id = ? ORDER BY sku_id = ?",
            (user.id, visio),
        ).fetchall()
        signins = read(
            f"SELECT {', '.join(signin_columns)}, valid_from FROM user_signins WHERE user_id = ?", (user.id,)
        ).fetchall()
    # One row each, opened by the first collection and still current after the second.
    assert [dict(zip((*user_columns, "valid_from"), row, strict=True)) for row in users] == [
        {**expected_user, "valid_from": first.snapshot_id}
    ]
    assert [dict(zip(licence_columns, row[:-1], strict=True)) for row in licenses] == expected_licenses
    assert [row[-1] for row in licenses] == [first.snapshot_id] * 2
    assert [dict(zip(signin_columns, row[:-1], strict=True)) for row in signins] == [expected_signin]
    assert (first.users_changed, again.users_changed, again.licenses_changed) == (150, 0, 0)
    # The declaration is what the store's staging tables are made of, column for column.
    assert STAGING["stage_users"].columns == UserRow._fields
    assert STAGING["stage_users"].sql_types()["account_enabled"] == "INTEGER"
