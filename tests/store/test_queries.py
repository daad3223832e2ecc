"""Narrow reads give the same numbers as the full ones they stand in for."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from analysis.group_errors import PER_MEMBER_LICENCES, explain_errors, filter_errors
from analysis.holders import seat_holders
from analysis.inactive import (
    reclaim_by_sku,
    reclaim_totals,
    reclaimable_activity,
    reclaimable_per_sku,
    reclaimable_seats,
    user_activity,
)
from analysis.labels import sku_names
from analysis.reclaim import filter_candidates, reclaim_candidates
from analysis.seats import seat_table
from analysis.users import NONE_LABEL, options, user_table
from store import prices, queries
from store.db import Store, open_store
from tests.analysis import finance_tenant
from tests.dashboard.tenant import E3, VISIO, build_store


def _build(tenant: str, store_url: str) -> str:
    """The finance tenant (tests/analysis) or the dashboard's history tenant, at store_url."""
    if tenant == "finance":
        finance_tenant.build(store_url)
    else:
        build_store(store_url)
    return store_url


@pytest.mark.parametrize("tenant", ["finance", "history"])
def test_held_licenses_and_holder_inputs_give_the_same_holders_and_candidates_as_every_row(
    tenant: str, store_url: str
) -> None:
    path = _build(tenant, store_url)
    with open_store(path) as store:
        exemptions = pd.DataFrame(prices.load_exemptions(store))
        for sid in queries.complete_snapshot_ids(store):
            info = queries.snapshot_info(store, sid)
            now = pd.Timestamp(info["started_at"])
            users = queries.users(store, sid)
            every = queries.user_licenses(store, sid)
            held = queries.held_licenses(store, sid)
            assert set(held["state"]) <= {"Active", "ActiveWithError"}
            assert len(held) == every["state"].isin(["Active", "ActiveWithError"]).sum()
            seats = seat_table(queries.sku_counts(store, sid))
            plans, groups = queries.service_plans(store, sid), queries.licensed_groups(store, sid)
            narrow = queries.holder_inputs(store, sid)
            assert sorted(narrow["user_id"]) == sorted(users["user_id"])
            for days, signin in ((30, True), (90, True), (90, False)):
                from_every = seat_holders(users, every, now=now, inactive_days=days, signin_available=signin)
                from_held = seat_holders(narrow, held, now=now, inactive_days=days, signin_available=signin)
                pd.testing.assert_frame_equal(from_held, from_every)
                expected = reclaim_candidates(from_every, every, seats, plans, exemptions, groups, now=now,
                                              inactive_days=days, include_exempt=True)  # fmt: skip
                got = reclaim_candidates(from_held, held, seats, plans, exemptions, groups, now=now,
                                         inactive_days=days, include_exempt=True)  # fmt: skip
                pd.testing.assert_frame_equal(got, expected)
                # Reclaim filters candidates by their holders' departments, not every user's.
                for chosen in [[d] for d in options(users, "department")]:
                    pd.testing.assert_frame_equal(
                        filter_candidates(got, from_held, departments=chosen, include_exempt=True),
                        filter_candidates(got, users, departments=chosen, include_exempt=True),
                    )
            assert not from_held.empty


def test_licenses_of_users_in_error_are_their_user_licenses_rows(store_url: str) -> None:
    path = build_store(store_url)
    with open_store(path) as store:
        for sid in queries.complete_snapshot_ids(store):
            every = queries.user_licenses(store, sid)
            in_error = set(queries.group_errors(store, sid)["user_id"])
            expected = every[every["user_id"].isin(in_error)].reset_index(drop=True)
            got = queries.licenses_of_users_in_error(store, sid)
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)
            assert len(got) >= len(in_error) > 0


def test_narrow_licence_reads_are_slices_of_user_licenses(store_url: str) -> None:
    path = build_store(store_url)
    with open_store(path) as store:
        for sid in queries.complete_snapshot_ids(store):
            every = queries.user_licenses(store, sid)
            people = queries.users(store, sid)
            states = queries.license_states(store, sid)
            columns = ["user_id", "sku_id", "assigned_by_group", "state", "error"]
            assert sorted(states[columns].itertuples(index=False, name=None)) == sorted(
                every[columns].itertuples(index=False, name=None)
            )
            activity = user_activity(people, now=pd.Timestamp("2025-06-01T00:00:00Z"), inactive_days=90,
                                     signin_available=True)  # fmt: skip
            names = sku_names(seat_table(queries.sku_counts(store, sid)))
            pd.testing.assert_frame_equal(
                user_table(people, states, activity, names), user_table(people, every, activity, names)
            )
            for user in people["user_id"]:
                pd.testing.assert_frame_equal(
                    queries.user_licenses_of(store, sid, user_id=user),
                    every[every["user_id"] == user].reset_index(drop=True),
                    check_dtype=False,
                    check_index_type=False,
                )
            for sku in every["sku_id"].unique():
                pd.testing.assert_frame_equal(
                    queries.user_licenses_of(store, sid, sku_id=sku),
                    every[every["sku_id"] == sku].reset_index(drop=True),
                    check_dtype=False,
                )
                holding = set(every.loc[every["sku_id"] == sku, "user_id"])
                pd.testing.assert_frame_equal(
                    queries.users_holding(store, sid, sku),
                    people[people["user_id"].isin(holding)].reset_index(drop=True),
                    check_dtype=False,
                )
        with pytest.raises(ValueError):
            queries.user_licenses_of(store, 1)


def _snapshots(store: Store) -> Iterator[tuple[int, pd.Timestamp, pd.DataFrame, list[str], pd.DataFrame]]:
    """Each complete snapshot: its id, time, seat table, SKUs counted as seats, and users."""
    for sid in queries.complete_snapshot_ids(store):
        seats = seat_table(queries.sku_counts(store, sid))
        counted = seats.loc[seats["counts_as_unused"], "sku_id"].tolist()
        now = pd.Timestamp(queries.snapshot_info(store, sid)["started_at"])
        yield sid, now, seats, counted, queries.users(store, sid)


@pytest.mark.parametrize("tenant", ["finance", "history"])
@pytest.mark.parametrize("signin_available", [True, False])
def test_per_user_seat_counts_give_the_reclaim_totals_of_every_pair(
    tenant: str, signin_available: bool, store_url: str
) -> None:
    with open_store(_build(tenant, store_url)) as store:
        for sid, now, seats, counted, users in _snapshots(store):
            for days in (1, 30, 90):
                full = user_activity(users, now=now, inactive_days=days, signin_available=signin_available)
                narrow = user_activity(queries.activity_inputs(store, sid), now=now, inactive_days=days,
                                       signin_available=signin_available)  # fmt: skip
                pd.testing.assert_frame_equal(  # the same users, unordered
                    narrow.sort_values("user_id").reset_index(drop=True),
                    full.sort_values("user_id").reset_index(drop=True),
                )
                expected = reclaim_totals(
                    reclaimable_seats(queries.user_licenses(store, sid), full, users, seats)
                )
                got = reclaim_totals(
                    reclaimable_activity(queries.held_seat_counts(store, sid, counted), narrow)
                )
                assert got == expected
            assert queries.held_seat_counts(store, sid, []).empty


@pytest.mark.parametrize("tenant", ["finance", "history"])
@pytest.mark.parametrize("signin_available", [True, False])
def test_held_seat_pairs_give_the_reclaimable_seats_per_sku_of_every_held_seat(
    tenant: str, signin_available: bool, store_url: str
) -> None:
    with open_store(_build(tenant, store_url)) as store:
        for sid, now, seats, counted, users in _snapshots(store):
            every = queries.user_licenses(store, sid)
            for days in (1, 30, 90):
                # The definition: reclaim_by_sku of every licence joined with every user's activity.
                activity = user_activity(
                    users, now=now, inactive_days=days, signin_available=signin_available
                )
                expected = reclaim_by_sku(reclaimable_seats(every, activity, users, seats))
                narrow = user_activity(queries.activity_inputs(store, sid), now=now, inactive_days=days,
                                       signin_available=signin_available)  # fmt: skip
                got = reclaimable_per_sku(queries.held_seat_pairs(store, sid, counted), narrow)
                assert got == expected
                for sku in counted:  # one SKU alone (the page asks for the SKUs members wait for)
                    one = reclaimable_per_sku(queries.held_seat_pairs(store, sid, [sku]), narrow)
                    assert one == {k: v for k, v in expected.items() if k == sku}
            assert queries.held_seat_pairs(store, sid, []).empty
    if tenant == "history":
        # Latest snapshot, 90 days: cat (inactive) holds E3 and Visio, dan (disabled) E3, eve (never
        # signed in) E3 twice, one seat; ned's FLOW_FREE is free. Without sign-ins only dan counts.
        assert got == ({E3: 3, VISIO: 1} if signin_available else {E3: 1})


def test_distinct_departments_are_the_department_options_of_every_user(store_url: str) -> None:
    path = build_store(store_url)
    with open_store(path) as store:
        for sid in queries.complete_snapshot_ids(store):
            assert options(queries.departments(store, sid), "department") == options(
                queries.users(store, sid), "department"
            )
        # hal and ned have no department.
        assert options(queries.departments(store, sid), "department") == [
            "Finance", "IT", "Marketing", "Sales", "Support", NONE_LABEL,
        ]  # fmt: skip


def test_departments_of_users_in_error_filter_members_as_every_user_does(store_url: str) -> None:
    path = build_store(store_url)
    with open_store(path) as store:
        for sid in queries.complete_snapshot_ids(store):
            users = queries.users(store, sid)
            errors = queries.group_errors(store, sid)
            narrow = queries.error_member_departments(store, sid)
            assert sorted(narrow["user_id"]) == sorted(set(errors["user_id"]))
            explained = explain_errors(errors, queries.user_licenses(store, sid),
                                       seat_table(queries.sku_counts(store, sid)),
                                       queries.service_plans(store, sid), queries.licensed_groups(store, sid))  # fmt: skip
            for chosen in [[d] for d in options(users, "department")] + [["Sales", NONE_LABEL]]:
                pd.testing.assert_frame_equal(
                    filter_errors(explained, narrow, departments=chosen),
                    filter_errors(explained, users, departments=chosen),
                )
        # Latest snapshot: ann (Sales, conflicting Exchange), gus (Sales) and hal (no department)
        # waiting for E3 seats; the other members in error are in IT, Support and Marketing.
        none_or_sales = filter_errors(explained, narrow, departments=["Sales", NONE_LABEL])
        assert sorted(none_or_sales["user_principal_name"]) == [
            "ann@contoso.com", "gus@contoso.com", "hal@contoso.com",
        ]  # fmt: skip
        assert filter_errors(explained, None)["user_id"].tolist() == explained["user_id"].tolist()
        with pytest.raises(ValueError):
            filter_errors(explained, None, departments=["Sales"])


def test_explaining_errors_reads_only_the_licences_of_members_in_per_member_errors(store_url: str) -> None:
    path = build_store(store_url)
    with open_store(path) as store:
        for sid in queries.complete_snapshot_ids(store):
            errors = queries.group_errors(store, sid)
            every = queries.user_licenses(store, sid)
            inputs = (seat_table(queries.sku_counts(store, sid)), queries.service_plans(store, sid),
                      queries.licensed_groups(store, sid))  # fmt: skip
            narrow = queries.licenses_of_users_in_error(store, sid, PER_MEMBER_LICENCES)
            pd.testing.assert_frame_equal(
                explain_errors(errors, narrow, *inputs), explain_errors(errors, every, *inputs)
            )
            chosen = set(errors.loc[errors["error"].isin(PER_MEMBER_LICENCES), "user_id"])
            pd.testing.assert_frame_equal(
                narrow, every[every["user_id"].isin(chosen)].reset_index(drop=True), check_dtype=False
            )
            nobody = queries.licenses_of_users_in_error(store, sid, [])
            assert nobody.empty and list(nobody.columns) == list(every.columns)
        # Latest snapshot: ann and fay (MutuallyExclusiveViolation) and kim (DependencyViolation).
        assert sorted(set(narrow["user_id"])) == ["ann", "fay", "kim"]
