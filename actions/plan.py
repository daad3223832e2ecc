"""Plans: the list of intended changes, built from a gap, checked before anything is sent.

Pure: DataFrames in, a frozen Plan out. A plan is refused as a whole (nothing is sent) when it
would overdraw a SKU, remove a licence a user inherits from a group, or target a user or SKU
that does not exist; each refusal is one sentence. Imports no HTTP, database or Streamlit.

Input frames (as ``store.queries`` returns them):
- skus: ``seat_table`` output (sku_id, sku_part_number, name, purchased, consumed, available, ...)
- users: user_id, user_principal_name, display_name, usage_location, account_enabled
- licenses: user_id, sku_id, assigned_by_group ('' = direct), state, error

Every name is importable from here. The planners are in ``actions.assign`` and
``actions.removal`` and ``actions.downgrade``, what a plan is in ``actions.changes``, the checks every planner makes in
``actions.plan_checks`` and the users list in ``actions.user_list``.
"""

from __future__ import annotations

from actions.assign import plan_assign, plan_group_assign, plan_group_errors_assign
from actions.changes import Change, ChangeKind, Plan, Refusal, SeatChange, api_calls, plan_tables
from actions.downgrade import downgrade_pairs, plan_downgrade
from actions.plan_checks import ACTIVE_STATES, find_sku
from actions.removal import plan_remove, plan_remove_many, plan_reprocess
from actions.user_list import USER_COLUMNS, parse_user_list

__all__ = [
    "ACTIVE_STATES", "USER_COLUMNS", "Change", "ChangeKind", "Plan", "Refusal", "SeatChange", "api_calls", "downgrade_pairs",
    "find_sku", "parse_user_list", "plan_assign", "plan_downgrade", "plan_group_assign", "plan_group_errors_assign",
    "plan_remove", "plan_remove_many", "plan_reprocess", "plan_tables",
]  # fmt: skip
