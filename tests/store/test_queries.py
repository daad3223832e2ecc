"""Narrow reads give the same numbers as the full ones they stand in for."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.holders import seat_holders
from analysis.inactive import reclaim_totals, reclaimable_activity, reclaimable_seats, user_activity
from analysis.labels import sku_names
from analysis.reclaim import reclaim_candidates
from analysis.seats import seat_table
from analysis.users import user_table
from store import prices, queries
from store.db import open_store
from tests.analysis import finance_tenant
from tests.dashboard.tenant import build_store


def _build(tenant: str, store_url: str) -> str:
    """The finance tenant (tests/analysis) or the dashboard's history tenant, at store_url."""
    if tenant == "finance":
        finance_tenant.build(store_url)
    else:
        build_store(store_url)
    return store_url


@pytest.mark.parametrize("tenant", ["finance", "history"])
def test_held_licenses_give_the_same_holders_and_candidates_as_every_licence(
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
            for days in (30, 90):
                from_every = seat_holders(users, every, now=now, inactive_days=days, signin_available=True)
                from_held = seat_holders(users, held, now=now, inactive_days=days, signin_available=True)
                pd.testing.assert_frame_equal(from_held, from_every)
                expected = reclaim_candidates(from_every, every, seats, plans, exemptions, groups, now=now,
                                              inactive_days=days, include_exempt=True)  # fmt: skip
                got = reclaim_candidates(from_held, held, seats, plans, exemptions, groups, now=now,
                                         inactive_days=days, include_exempt=True)  # fmt: skip
                pd.testing.assert_frame_equal(got, expected)
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


@pytest.mark.parametrize("tenant", ["finance", "history"])
@pytest.mark.parametrize("signin_available", [True, False])
def test_per_user_seat_counts_give_the_reclaim_totals_of_every_pair(
    tenant: str, signin_available: bool, store_url: str
) -> None:
    path = _build(tenant, store_url)
    with open_store(path) as store:
        for sid in queries.complete_snapshot_ids(store):
            now = pd.Timestamp(queries.snapshot_info(store, sid)["started_at"])
            seats = seat_table(queries.sku_counts(store, sid))
            counted = seats.loc[seats["counts_as_unused"], "sku_id"].tolist()
            users = queries.users(store, sid)
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
