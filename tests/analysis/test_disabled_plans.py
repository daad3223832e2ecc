"""Disabled plans have one stored representation: written by the collectors, read by analysis."""

from __future__ import annotations

import math

import pytest

from analysis.disabled_plans import join_plan_ids, split_plan_ids
from collectors.normalize import plan_list

EXO = "efb87545-963c-4e0d-99df-69c6916d9eb0"
TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929"


def test_graphs_disabled_plans_are_stored_sorted_lower_case_once() -> None:
    graph = [TEAMS.upper(), f" {EXO} ", TEAMS, "", None, 7]
    assert plan_list(graph) == f"{TEAMS},{EXO}" == join_plan_ids([EXO, TEAMS.upper()])
    assert plan_list([]) == plan_list(None) == plan_list("x") == ""


@pytest.mark.parametrize(
    ("stored", "plans"),
    [
        (f"{TEAMS},{EXO}", {EXO, TEAMS}),
        ("", set()),
        (None, set()),
        (math.nan, set()),  # a cell a join left empty is no plan, not the plan "nan"
        (f"{EXO.upper()}, {TEAMS},,", {EXO, TEAMS}),
    ],
)
def test_a_stored_text_reads_back_as_its_plan_ids(stored: object, plans: set[str]) -> None:
    assert split_plan_ids(stored) == plans


def test_the_text_round_trips() -> None:
    assert split_plan_ids(plan_list([EXO, TEAMS])) == {EXO, TEAMS}
    assert join_plan_ids(split_plan_ids(f"{TEAMS},{EXO}")) == f"{TEAMS},{EXO}"
