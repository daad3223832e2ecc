"""The user table, its filters, one user's licences, and the SKU detail helpers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.inactive import user_activity
from analysis.seats import seat_table
from analysis.skus import plan_usage, sku_holders, sku_notes, sku_subscriptions, sku_units
from analysis.users import filter_users, options, user_licenses_detail, user_table

USERS = pd.DataFrame(
    [
        ("a", "ann@x.com", "Ann", 1, "Member", "US", "Sales", "2024-01-01T00:00:00Z", "2025-05-30T00:00:00Z"),
        ("b", "bob@x.com", "Bob", 0, "Member", None, None, "2024-01-01T00:00:00Z", None),
        ("c", "cy@ext.com", "Cy", 1, "Guest", "FR", "Sales", "2024-01-01T00:00:00Z", None),
        ("d", "dee@x.com", None, 1, "Member", "US", "IT", "2024-01-01T00:00:00Z", "2025-05-30T00:00:00Z"),
    ],
    columns=["user_id", "user_principal_name", "display_name", "account_enabled", "user_type", "usage_location",
             "department", "created_at", "last_sign_in_at"],
).assign(last_non_interactive_at=None)  # fmt: skip
LICENSES = pd.DataFrame(
    [
        ("a", "e3", "", "Active", "", "p1"),
        ("a", "e3", "g", "Active", "", "p1,p2"),
        ("a", "visio", "g", "Error", "CountViolation", ""),
        ("b", "e3", "", "Active", "", ""),
        ("c", "visio", "", "Active", "", "p9"),
    ],
    columns=["user_id", "sku_id", "assigned_by_group", "state", "error", "disabled_plans"],
).assign(last_updated_at=None)
NAMES = {"e3": "Microsoft 365 E3", "visio": "Visio Plan 2"}
NOW = pd.Timestamp("2025-06-01T00:00:00Z")


def _table() -> pd.DataFrame:
    activity = user_activity(USERS, now=NOW, inactive_days=90, signin_available=True)
    return user_table(USERS, LICENSES, activity, NAMES)


def test_user_table() -> None:
    table = _table().set_index("user_id")
    assert table.loc["a", "licenses"] == "Microsoft 365 E3"  # Visio is in error, not held
    assert table.loc["a", "assignment"] == "Direct + group"
    assert table.loc["a", "errors"] == "CountViolation"
    assert not table.loc["b", "enabled"] and table.loc["b", "activity"] == "disabled account"
    assert bool(table.loc["c", "guest"]) is True
    assert table.loc["c", "activity"] == "never signed in"
    assert (table.loc["d", "licenses"], table.loc["d", "assignment"]) == ("", "")


@pytest.mark.parametrize("skus", [3, 70])  # 70 names: more than a bit mask holds, the general way
def test_user_table_lists_each_users_held_skus_and_errors_once_sorted_by_name(skus: int) -> None:
    names = {f"s{i:02d}": f"SKU {i:02d}" for i in range(skus)}
    rows = [
        # ann holds the last SKU directly and through a group (once in the list), then the first
        ("a", f"s{skus - 1:02d}", "", "Active", ""),
        ("a", f"s{skus - 1:02d}", "g", "Active", ""),
        ("a", "s00", "", "ActiveWithError", "MutuallyExclusiveViolation"),
        ("a", "s01", "g", "Error", "CountViolation"),  # in error: not held
        ("b", "s01", "", "Active", ""),
        ("c", "s01", "h", "Error", "CountViolation"),
        ("c", "s00", "g", "Error", "CountViolation"),
    ]
    # bob holds every SKU: the list is every name, sorted.
    rows += [("b", sku, "", "Active", "") for sku in names]
    licenses = pd.DataFrame(rows, columns=["user_id", "sku_id", "assigned_by_group", "state", "error"])
    activity = user_activity(USERS, now=NOW, inactive_days=90, signin_available=True)
    table = user_table(USERS, licenses, activity, names).set_index("user_id")
    assert table.loc["a", "licenses"] == f"SKU 00; SKU {skus - 1:02d}"
    assert table.loc["a", "errors"] == "CountViolation; MutuallyExclusiveViolation"
    assert table.loc["b", "licenses"] == "; ".join(f"SKU {i:02d}" for i in range(skus))
    assert table.loc["b", "errors"] == ""
    assert (table.loc["c", "licenses"], table.loc["c", "errors"]) == ("", "CountViolation")
    assert (table.loc["d", "licenses"], table.loc["d", "errors"]) == ("", "")
    # A missing error code is no error (the general way, as every store gives '' for none).
    with_none = licenses.astype({"error": object})
    with_none.loc[4, "error"] = None
    table = user_table(USERS, with_none, activity, names).set_index("user_id")
    assert (
        table.loc["b", "errors"] == ""
        and table.loc["a", "errors"] == "CountViolation; MutuallyExclusiveViolation"
    )


def test_user_table_matches_activity_by_user_id_whatever_its_order() -> None:
    activity = user_activity(USERS, now=NOW, inactive_days=90, signin_available=True)
    shuffled = activity.iloc[[2, 0, 3]].reset_index(drop=True)  # one user missing, the rest reordered
    table = user_table(USERS, LICENSES, shuffled, NAMES)
    aligned = _table()
    assert table["user_id"].tolist() == aligned["user_id"].tolist()
    expected = aligned["activity"].tolist()
    expected[1] = ""  # bob has no activity row
    assert table["activity"].tolist() == expected
    assert table["licenses"].tolist() == aligned["licenses"].tolist()


def test_options_put_none_last() -> None:
    assert options(_table(), "department") == ["IT", "Sales", "(none)"]
    assert options(_table(), "country") == ["FR", "US", "(none)"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["a", "b", "c", "d"]),
        ({"search": "  ANN "}, ["a"]),
        ({"search": "ext.com"}, ["c"]),
        ({"departments": ["Sales"]}, ["a", "c"]),
        ({"departments": ["(none)", "IT"]}, ["b", "d"]),
        ({"countries": ["(none)"]}, ["b"]),
        ({"enabled": False}, ["b"]),
        ({"enabled": True, "guest": False}, ["a", "d"]),
        ({"guest": True}, ["c"]),
        ({"sku_id": "visio"}, ["a", "c"]),  # any assignment, in error or not
        ({"sku_id": "visio", "path": "group"}, ["a"]),
        ({"sku_id": "e3", "path": "direct"}, ["a", "b"]),
        ({"path": "group"}, ["a"]),
        ({"sku_id": "nothing"}, []),
    ],
)
def test_filters(filters: dict[str, object], expected: list[str]) -> None:
    assert filter_users(_table(), LICENSES, **filters)["user_id"].tolist() == expected  # type: ignore[arg-type]


def test_one_users_licences() -> None:
    out = user_licenses_detail(LICENSES, "a", NAMES, {"g": "Sales"})
    assert out[["sku", "source", "state", "plans_disabled"]].values.tolist() == [
        ["Microsoft 365 E3", "Direct", "Active", 1],
        ["Microsoft 365 E3", "via Sales", "Active", 2],
        ["Visio Plan 2", "via Sales", "Error (CountViolation)", 0],
    ]
    assert user_licenses_detail(LICENSES, "d", NAMES, {}).empty


def test_plan_usage_counts_a_plan_off_only_when_every_assignment_disables_it() -> None:
    plans = pd.DataFrame(
        [("e3", "p1", "ONE", "Success"), ("e3", "p2", "TWO", "Success"), ("e3", "p3", "THREE", "Disabled")],
        columns=["sku_id", "service_plan_id", "service_plan_name", "provisioning_status"],
    )
    out = plan_usage(plans, LICENSES, "e3")
    # a: p1 off in both assignments, p2 only in the group one; b: nothing off.
    assert out[["service_plan_name", "holders", "disabled_for", "enabled_for"]].values.tolist() == [
        ["ONE", 2, 1, 1],
        ["THREE", 2, 0, 2],
        ["TWO", 2, 0, 2],
    ]
    assert plan_usage(plans, LICENSES, "visio").empty


def _seats() -> pd.DataFrame:
    return seat_table(
        pd.DataFrame(
            [("e3", "SPE_E3", 10, 2, 3, 1, 12, "Microsoft 365 E3"), ("x", "MYSTERY", 0, 0, 4, 0, 0, None),
             ("f", "FLOW_FREE", 100, 0, 0, 0, 1, None)],
            columns=["sku_id", "sku_part_number", "enabled", "warning", "suspended", "locked_out", "consumed",
                     "catalog_name"],
        ).assign(applies_to="User")
    )  # fmt: skip


def test_units_and_notes_of_an_over_assigned_sku() -> None:
    units = sku_units(_seats(), "e3")
    assert {k: units[k] for k in ("purchased", "available", "suspended", "locked_out")} == {
        "purchased": 12, "available": 0, "suspended": 3, "locked_out": 1,
    }  # fmt: skip
    assert math.isclose(units["utilization"], 1.0)
    assert sku_notes(units) == []  # full, not over-assigned, no free seat depends on warning units


def test_notes_of_odd_skus() -> None:
    mystery = sku_units(_seats(), "x")
    assert mystery["utilization"] is None
    assert sku_notes(mystery) == [
        "MYSTERY is not in the SKU catalog, so it is shown by its part number; import Microsoft's current "
        "catalog to name it (`license-desk catalog import FILE`).",
        "Nothing is purchased (no enabled or warning units), so utilization is undefined.",
    ]
    free = sku_units(_seats(), "f")
    assert "This is a free or viral SKU: it is listed but never counted as unused seats." in sku_notes(free)
    with pytest.raises(KeyError):
        sku_units(_seats(), "nope")


def test_subscriptions_and_holders() -> None:
    subs = pd.DataFrame(
        [("s1", "e3", "Enabled", 10, 0, None, "2026-01-01T00:00:00Z"), ("s2", "e3", "Warning", 2, 1, None, None),
         ("s3", "f", "Enabled", 100, 0, None, "2025-07-01T00:00:00Z")],
        columns=["subscription_id", "sku_id", "status", "total_licenses", "is_trial", "created_at", "next_lifecycle_at"],
    )  # fmt: skip
    out = sku_subscriptions(subs, "e3")
    assert out[["subscription_id", "trial", "total_licenses"]].values.tolist() == [
        ["s1", False, 10],
        ["s2", True, 2],
    ]
    holders = sku_holders(LICENSES, USERS, "visio", {"g": "Sales"})
    assert holders[["user_principal_name", "source", "state", "holds_seat"]].values.tolist() == [
        ["ann@x.com", "via Sales", "Error (CountViolation)", False],
        ["cy@ext.com", "Direct", "Active", True],
    ]


def test_find_user_by_upn_or_id_in_any_case() -> None:
    from analysis.users import find_user

    users = pd.DataFrame(
        {
            "user_id": ["u-1", "u-2"],
            "user_principal_name": ["Ann@Contoso.com", None],
            "display_name": ["Ann", "X"],
        }
    )
    assert find_user(users, " ann@contoso.COM ") == {
        "user_id": "u-1", "user_principal_name": "Ann@Contoso.com", "display_name": "Ann",
    }  # fmt: skip
    assert find_user(users, "U-2")["display_name"] == "X"  # type: ignore[index]
    assert find_user(users, "nobody@contoso.com") is None
    assert find_user(users, "  ") is None
