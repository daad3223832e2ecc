"""The planner: previews, seat arithmetic and refusals, on hand-built frames."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from actions.plan import (
    ChangeKind,
    api_calls,
    parse_user_list,
    plan_assign,
    plan_group_errors_assign,
    plan_remove,
    plan_reprocess,
)
from analysis.seats import seat_table

E3, VISIO = "e3-id", "visio-id"
SALES = "group-sales"


@pytest.fixture
def skus() -> pd.DataFrame:
    raw = pd.DataFrame(
        [
            # part, enabled, warning, consumed -> available
            ("SPE_E3", E3, 10, 0, 8),  # 2 free
            ("VISIOCLIENT", VISIO, 3, 0, 3),  # 0 free
        ],
        columns=["sku_part_number", "sku_id", "enabled", "warning", "consumed"],
    ).assign(suspended=0, locked_out=0, applies_to="User", catalog_name=None, catalog_kind=None)
    return seat_table(raw)


@pytest.fixture
def users() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("u-ann", "ann@contoso.com", "US", 1),
            ("u-bob", "bob@contoso.com", "DE", 1),
            ("u-cat", "cat@contoso.com", None, 1),  # no usage location
            ("u-dan", "dan@contoso.com", "US", 0),  # disabled
            ("u-eve", "eve@contoso.com", "FR", 1),
        ],
        columns=["user_id", "user_principal_name", "usage_location", "account_enabled"],
    )


@pytest.fixture
def licenses() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("u-ann", E3, "", "Active", ""),  # ann holds E3 directly
            ("u-bob", E3, SALES, "Active", ""),  # bob inherits E3
            ("u-eve", E3, SALES, "Error", "CountViolation"),  # eve waits for a seat
            ("u-cat", E3, SALES, "Error", "CountViolation"),
            ("u-dan", VISIO, SALES, "Error", "MutuallyExclusiveViolation"),
        ],
        columns=["user_id", "sku_id", "assigned_by_group", "state", "error"],
    )


def test_assign_within_free_seats_previews_seats_before_and_after(skus, users, licenses) -> None:
    plan = plan_assign(
        "spe_e3", ["eve@contoso.com", "ann@contoso.com"], skus=skus, users=users, licenses=licenses
    )
    assert plan.ok
    assert [(c.kind, c.user_principal_name) for c in plan.changes] == [(ChangeKind.ASSIGN, "eve@contoso.com")]
    assert [s.reason for s in plan.skipped] == ["ann@contoso.com already holds SPE_E3."]
    (seats,) = plan.seats
    assert (seats.purchased, seats.consumed_before, seats.consumed_after) == (10, 8, 9)
    assert (seats.available_before, seats.available_after) == (2, 1)
    preview = plan.as_json()
    assert set(preview) >= {"changes", "refused", "seats"}
    assert preview["seats"]["SPE_E3"]["available_after"] == 1


def test_overdraw_is_refused_with_the_numbers(skus, users, licenses) -> None:
    plan = plan_assign(
        "VISIOCLIENT", ["ann@contoso.com", "eve@contoso.com"], skus=skus, users=users, licenses=licenses
    )
    assert not plan.ok
    assert [r.reason for r in plan.refused] == [
        "The plan needs 2 seat(s) of VISIOCLIENT but only 0 are available; free or buy 2 more first."
    ]


def test_unknown_user_sku_disabled_account_and_missing_location_are_refused(skus, users, licenses) -> None:
    assert plan_assign("NOPE", ["ann@contoso.com"], skus=skus, users=users, licenses=licenses).refused[
        0
    ].reason == ("There is no SKU 'NOPE' in the latest snapshot.")
    plan = plan_assign(
        E3,
        ["ghost@contoso.com", "dan@contoso.com", "cat@contoso.com"],
        skus=skus,
        users=users,
        licenses=licenses,
    )
    assert [r.reason for r in plan.refused] == [
        "There is no user 'ghost@contoso.com' in the latest snapshot.",
        "dan@contoso.com is a disabled account; assigning it a licence would waste a seat.",
        "cat@contoso.com has no usage location, which Graph requires for direct assignment; pass a country code to set one first.",
    ]
    assert not plan.ok


def test_missing_location_with_a_country_plans_the_fix_first(skus, users, licenses) -> None:
    plan = plan_assign(
        E3, ["cat@contoso.com"], skus=skus, users=users, licenses=licenses, usage_location="GB"
    )
    assert plan.ok
    assert [(c.kind, c.usage_location) for c in plan.changes] == [
        (ChangeKind.SET_USAGE_LOCATION, "GB"),
        (ChangeKind.ASSIGN, None),
    ]
    assert plan.seats[0].consumed_after == 9
    bad = plan_assign(
        E3, ["cat@contoso.com"], skus=skus, users=users, licenses=licenses, usage_location="Germany"
    )
    assert bad.refused[0].reason == "'Germany' is not a two-letter ISO country code."


def test_removing_an_inherited_licence_is_refused(skus, users, licenses) -> None:
    plan = plan_remove(E3, ["bob@contoso.com"], skus=skus, users=users, licenses=licenses)
    assert [r.reason for r in plan.refused] == [
        "bob@contoso.com inherits SPE_E3 from a group; remove the user from the group instead."
    ]
    direct = plan_remove(E3, ["ann@contoso.com"], skus=skus, users=users, licenses=licenses)
    assert direct.ok and direct.seats[0].consumed_after == 7


def test_reprocess_group_counts_waiting_seats(skus, users, licenses) -> None:
    plan = plan_reprocess(group_id=SALES, skus=skus, users=users, licenses=licenses)
    # cat and eve wait for E3 (2 seats, 2 free); dan's conflict needs no seat.
    assert plan.ok
    assert sorted(c.user_principal_name for c in plan.changes) == [
        "cat@contoso.com",
        "dan@contoso.com",
        "eve@contoso.com",
    ]
    assert plan.seats[0].consumed_after == 10 and plan.seats[0].available_after == 0
    assert len(api_calls(plan)) == 3


def test_reprocess_refused_when_waiting_members_exceed_free_seats(skus, users) -> None:
    waiting = pd.DataFrame(
        [(u, E3, SALES, "Error", "CountViolation") for u in ("u-ann", "u-bob", "u-eve")],
        columns=["user_id", "sku_id", "assigned_by_group", "state", "error"],
    )
    plan = plan_reprocess(group_id=SALES, skus=skus, users=users, licenses=waiting)
    assert not plan.ok
    assert (
        plan.refused[0].reason
        == "The plan needs 3 seat(s) of SPE_E3 but only 2 are available; free or buy 1 more first."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ann@contoso.com\nbob@contoso.com\n\nann@contoso.com\n", ["ann@contoso.com", "bob@contoso.com"]),
        (
            "\ufeffdisplayName,userPrincipalName\nAnn,ann@contoso.com\r\nBob,bob@contoso.com\r\n",
            ["ann@contoso.com", "bob@contoso.com"],
        ),
        ("upn\n", []),
        ("", []),
        # A quoted display name holding a comma must not shift the columns (issue 14: the licence
        # went to the manager in the next column).
        (
            'displayName,manager,userPrincipalName\n"Kim, Olga",rahul@contoso.com,olga@contoso.com\n',
            ["olga@contoso.com"],
        ),
        # Entra's "Download users" CSV: the UPN column wins over id and mail, whatever its case.
        (
            "id,USERPRINCIPALNAME,displayName,mail\nu-ann,ann@contoso.com,Ann,ann.smith@contoso.com\n",
            ["ann@contoso.com"],
        ),
        ("displayName,Mail\nAnn,ann@contoso.com\n", ["ann@contoso.com"]),
        ("User_Id;displayName\nu-ann;Ann\nu-bob;Bob\n", ["u-ann", "u-bob"]),  # Excel's semicolons
        ("Ann@Contoso.com\nbob@contoso.com\nann@contoso.com\n", ["Ann@Contoso.com", "bob@contoso.com"]),
        # A list without header whose line starts with an empty field still names its user.
        ("ann@contoso.com\n,bob@contoso.com\n", ["ann@contoso.com", "bob@contoso.com"]),
    ],
)
def test_parse_user_list(text: str, expected: list[str]) -> None:
    assert parse_user_list(text) == expected


@pytest.mark.xdist_group("timing")  # measures a duration: not beside the other timing tests
def test_parse_user_list_is_linear_in_the_number_of_lines() -> None:
    # n distinct users, then each named again, for n = 20,000 and 200,000. Linear parsing takes
    # ~10x as long for 10x the lines, a quadratic dedup ~100x (minutes). CPU time of the same
    # process, compared with itself, so a loaded machine slows both sides alike, with the garbage
    # collector off while timing (its passes over 400,000 live strings made the ratio drift to
    # 31-35x on a loaded machine, twice in one session, against a bound of 30). It runs in a
    # child process stopped after 60 s (pytest-timeout cannot report from inside it).
    script = (
        "import gc, time; from actions.plan import parse_user_list\n"
        "def cpu(n):\n"
        "    names = [f'user{i:06d}@contoso.com' for i in range(n)]\n"
        "    text = 'userPrincipalName\\n' + '\\n'.join(names + names[::-1])\n"
        "    gc.collect(); gc.disable()\n"
        "    start = time.process_time(); out = parse_user_list(text)\n"
        "    spent = time.process_time() - start; gc.enable()\n"
        "    assert out == names, len(out)\n"
        "    return spent\n"
        "small = min(cpu(20_000) for _ in range(3)); large = min(cpu(200_000) for _ in range(2))\n"
        "print(large / small)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
        )
    except subprocess.TimeoutExpired:
        pytest.fail("parsing 440,000 lines took more than 60 s")
    assert float(done.stdout) < 30, f"10x the lines took {float(done.stdout):.0f}x the time"


@pytest.fixture
def visio_plans() -> pd.DataFrame:
    return pd.DataFrame(
        [
            (VISIO, "663a804f-1c30-4ff0-9915-9db84f0d1cea", "VISIO_CLIENT_SUBSCRIPTION"),
            (VISIO, "2bdbaf8f-738f-4ac7-9234-3c3ee2ce7d0f", "VISIOONLINE"),
            (E3, "efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ],
        columns=["sku_id", "service_plan_id", "service_plan_name"],
    )


def test_disabled_plans_by_name_or_id_become_the_ids_graph_needs(skus, users, licenses, visio_plans) -> None:
    plan = plan_assign(
        E3, ["eve@contoso.com"], skus=skus, users=users, licenses=licenses,
        disabled_plans=["exchange_s_enterprise"], service_plans=visio_plans,
    )  # fmt: skip
    assert plan.ok
    assert plan.changes[0].disabled_plans == ("efb87545-963c-4e0d-99df-69c6916d9eb0",)
    both = plan_assign(
        "visioclient", ["eve@contoso.com"], skus=skus, users=users, licenses=licenses,
        disabled_plans=["VisioOnline", "663A804F-1C30-4FF0-9915-9DB84F0D1CEA"], service_plans=visio_plans,
    )  # fmt: skip
    assert both.changes[0].disabled_plans == (
        "2bdbaf8f-738f-4ac7-9234-3c3ee2ce7d0f",
        "663a804f-1c30-4ff0-9915-9db84f0d1cea",
    )
    assert both.as_json()["changes"][0]["disabled_plans"] == list(both.changes[0].disabled_plans)


def test_an_unknown_disabled_plan_refuses_the_plan_listing_the_skus_plans(
    skus, users, licenses, visio_plans
) -> None:
    plan = plan_assign(
        "VISIOCLIENT", ["eve@contoso.com"], skus=skus, users=users, licenses=licenses,
        disabled_plans=["visioonline", "TEAMS1"], service_plans=visio_plans,
    )  # fmt: skip
    assert not plan.ok
    assert [r.reason for r in plan.refused][0] == (
        "VISIOCLIENT has no service plan 'TEAMS1'; its plans are VISIOONLINE, VISIO_CLIENT_SUBSCRIPTION "
        "(by name or id)."
    )
    # A plan id of another SKU is unknown for this one, and so is any plan when none are known.
    other = plan_assign(
        "VISIOCLIENT", ["eve@contoso.com"], skus=skus, users=users, licenses=licenses,
        disabled_plans=["efb87545-963c-4e0d-99df-69c6916d9eb0"], service_plans=visio_plans,
    )  # fmt: skip
    assert "has no service plan 'efb87545-963c-4e0d-99df-69c6916d9eb0'" in other.refused[0].reason
    unknown = plan_assign(
        "VISIOCLIENT", ["eve@contoso.com"], skus=skus, users=users, licenses=licenses, disabled_plans=["x"]
    )
    assert unknown.refused[0].reason == (
        "The latest snapshot lists no service plans of VISIOCLIENT, so the plans to disable cannot be checked."
    )


@pytest.fixture
def mixed_group() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members of SALES in error for SPE_E3 (2 free seats), one for each cause."""
    people = [
        ("u-ann", "ann@contoso.com", "US", 1, "Other"),
        ("u-bob", "bob@contoso.com", "DE", 1, "MutuallyExclusiveViolation"),
        ("u-cat", "cat@contoso.com", None, 1, "CountViolation"),
        ("u-dan", "dan@contoso.com", "US", 0, "CountViolation"),
        ("u-eve", "eve@contoso.com", "FR", 1, "CountViolation"),
        ("u-fay", "fay@contoso.com", "IN", 1, "ProhibitedInUsageLocationViolation"),
        ("u-gus", "gus@contoso.com", "US", 1, "CountViolation"),
        ("u-hal", "hal@contoso.com", "US", 1, "CountViolation"),
        ("u-ivy", "ivy@contoso.com", "US", 1, "DependencyViolation"),
    ]
    users = pd.DataFrame(
        [p[:4] for p in people],
        columns=["user_id", "user_principal_name", "usage_location", "account_enabled"],
    )
    licenses = pd.DataFrame(
        [(p[0], E3, SALES, "Error", p[4]) for p in people] + [("u-jim", E3, SALES, "Active", "")],
        columns=["user_id", "sku_id", "assigned_by_group", "state", "error"],
    )
    return users, licenses


def test_group_errors_plans_only_what_a_direct_assignment_can_fix(skus, mixed_group) -> None:
    users, licenses = mixed_group
    plan = plan_group_errors_assign("SPE_E3", SALES, skus=skus, users=users, licenses=licenses)
    assert plan.ok
    assert [(c.kind, c.user_principal_name) for c in plan.changes] == [
        (ChangeKind.ASSIGN, "eve@contoso.com"),
        (ChangeKind.ASSIGN, "gus@contoso.com"),
    ]
    assert plan.seats[0].available_after == 0
    assert [s.reason for s in plan.skipped] == [
        "ann@contoso.com is left out (Other): the mailbox cannot be provisioned (usually a proxy address "
        "already used): fix it in Exchange, then reprocess the user.",
        "bob@contoso.com is left out (MutuallyExclusiveViolation): a plan of the licence conflicts with a plan "
        "the user already has, and a direct assignment is refused for the same conflict: remove one of the "
        "two first.",
        "cat@contoso.com is left out (CountViolation): the user has no usage location, which direct "
        "assignment requires; give a usage location to set first.",
        "dan@contoso.com is a disabled account; assigning it a licence would waste a seat.",
        "fay@contoso.com is left out (ProhibitedInUsageLocationViolation): SPE_E3 is not available in the "
        "user's usage location IN; give a usage location to set first.",
        "hal@contoso.com is left out (CountViolation): no seat of SPE_E3 is left for it; free or buy more first.",
        "ivy@contoso.com is left out (DependencyViolation): the licence needs a plan the user does not have, "
        "and a direct assignment is refused for the same reason: assign the prerequisite first.",
    ]
    assert plan.as_json()["skipped"][0]["target"] == "ann@contoso.com"


def test_group_errors_with_a_usage_location_sets_it_first_while_seats_last(skus, mixed_group) -> None:
    users, licenses = mixed_group
    plan = plan_group_errors_assign(
        "SPE_E3", SALES, skus=skus, users=users, licenses=licenses, usage_location="GB"
    )
    # Two free seats, in user principal name order: cat (no location) then eve; fay and the rest wait.
    assert [(c.kind, c.user_principal_name, c.usage_location) for c in plan.changes] == [
        (ChangeKind.SET_USAGE_LOCATION, "cat@contoso.com", "GB"),
        (ChangeKind.ASSIGN, "cat@contoso.com", None),
        (ChangeKind.ASSIGN, "eve@contoso.com", None),
    ]
    left = {s.target: s.reason for s in plan.skipped}
    assert left["fay@contoso.com"] == (
        "fay@contoso.com is left out (ProhibitedInUsageLocationViolation): no seat of SPE_E3 is left for it; "
        "free or buy more first."
    )
    assert sorted(left) == [f"{n}@contoso.com" for n in ("ann", "bob", "dan", "fay", "gus", "hal", "ivy")]
