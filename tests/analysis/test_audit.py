"""Audit page numbers: filters and counts on a hand-built log."""

from __future__ import annotations

import pandas as pd

from analysis.audit import audit_counts, filter_audit
from analysis.group_errors import groups_in_error

LOG = pd.DataFrame(
    [
        ("succeeded", "assign", "cli:ann"),
        ("succeeded", "reprocess_user", "dashboard:local"),
        ("failed", "assign", "cli:ann"),
        ("refused", "plan", "cli:bob"),
        ("not_sent", "assign", "cli:ann"),
    ],
    columns=["status", "action", "actor"],
)


def test_counts_of_the_whole_log() -> None:
    assert audit_counts(LOG) == {"changes": 5, "succeeded": 2, "failed": 1, "not_applied": 2}


def test_filters_combine_and_empty_filters_keep_everything() -> None:
    assert len(filter_audit(LOG)) == 5
    ann_assigns = filter_audit(LOG, actions=["assign"], actors=["cli:ann"])
    assert ann_assigns["status"].tolist() == ["succeeded", "failed", "not_sent"]
    assert audit_counts(filter_audit(LOG, statuses=["refused", "not_sent"])) == {
        "changes": 2, "succeeded": 0, "failed": 0, "not_applied": 2,
    }  # fmt: skip


def test_groups_in_error_worst_first_counting_each_member_once() -> None:
    errors = pd.DataFrame(
        [
            ("g1", "Sales E3", "u1"), ("g1", "Sales E3", "u1"),  # one member, two SKUs in error
            ("g2", "Copilot pilot", "u2"), ("g2", "Copilot pilot", "u3"),
            ("g3", "Audio", "u4"), ("g3", "Audio", "u5"),
        ],
        columns=["group_id", "group_name", "user_id"],
    )  # fmt: skip
    assert groups_in_error(errors).values.tolist() == [
        ["g3", "Audio", 2],  # ties by name
        ["g2", "Copilot pilot", 2],
        ["g1", "Sales E3", 1],
    ]
