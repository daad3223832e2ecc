"""Group errors: every licensed group with members in error, why, and what fixes it (DESIGN §6)."""

from __future__ import annotations

import streamlit as st

from analysis.group_errors import KNOWN_ERRORS, error_counts, error_summary, filter_errors, short_skus
from dashboard import loaders, ui
from dashboard.settings import inactive_days

LABELS = {
    "CountViolation": "Count",
    "ProhibitedInUsageLocationViolation": "Location",
    "MutuallyExclusiveViolation": "Exclusive",
    "DependencyViolation": "Dependency",
    "UniquenessViolation": "Uniqueness",
    "Other": "Other",
}
TITLES = {
    "CountViolation": "Not enough seats (CountViolation)",
    "ProhibitedInUsageLocationViolation": "Usage location (ProhibitedInUsageLocationViolation)",
    "MutuallyExclusiveViolation": "Conflicting licences (MutuallyExclusiveViolation)",
    "DependencyViolation": "Missing prerequisite (DependencyViolation)",
    "UniquenessViolation": "Duplicate proxy address (UniquenessViolation)",
    "Other": "Other errors",
}
MEMBER_VIEW = ["user_principal_name", "detail", "fix", "group_name", "sku", "usage_location", "display_name"]

path, snapshot_id = ui.start_page("Group errors")
ui.snapshot_caption(loaders.snapshot_info(path, snapshot_id))
seats = loaders.seats(path, snapshot_id)
explained = loaders.explained_errors(path, snapshot_id)
if explained.empty:
    st.success("No group-based licence assignment is in error in this snapshot.")
    st.stop()

counts = error_counts(explained)
row = st.columns(2 + len(KNOWN_ERRORS))
row[0].metric("Users in error", ui.count(counts["users"]))
row[1].metric("Groups", ui.count(counts["groups"]), help="Licensed groups with members in error.")
for column, kind in zip(row[2:], KNOWN_ERRORS, strict=True):
    column.metric(LABELS[kind], ui.count(counts[kind]), help=f"Members in {kind}.")

days = inactive_days()
# Reclaimable seats are shown only for the SKUs members wait for: counted for those SKUs alone.
reclaimable = loaders.reclaimable_by_sku(path, snapshot_id, days, tuple(short_skus(explained)))
summary = error_summary(explained, seats, reclaimable)
pickers = st.columns(2)
with pickers[0]:
    sku_id = ui.shared_sku(
        "SKU", seats[seats["sku_id"].isin(explained["sku_id"].unique())], key="errors_sku", allow_all=True
    )
with pickers[1]:
    departments = ui.shared_departments(
        "Department (member lists)", loaders.departments(path, snapshot_id), key="errors_departments"
    )

st.subheader("By group, SKU and error")
st.caption(
    "Seats short = members waiting in CountViolation for the SKU in all groups; seats free = the SKU's "
    "available seats now (negative when over-assigned); seats needed = short − free."
)
shown_summary = summary if sku_id is None else summary[summary["sku_id"] == sku_id]
ui.table(shown_summary.drop(columns=["group_id", "sku_id"]), key="errors_summary")
ui.downloads(shown_summary, "group-errors-summary", key="errors_summary")
group_names = dict(zip(shown_summary["group_id"], shown_summary["group_name"], strict=True))
if group_names:
    fix_left, fix_right = st.columns([2, 1])
    to_fix = fix_left.selectbox(
        "Group to fix", list(group_names), format_func=group_names.__getitem__, key="errors_fix_group"
    )
    with fix_right:
        ui.fix_button(
            "Plan a fix for this group…",
            key="errors_fix",
            state={"fix_source": "Group members in error", "fix_group": to_fix},
        )

# Departments are read only to filter by them, and only those of the users in error.
people = loaders.error_member_departments(path, snapshot_id) if departments else None
members = filter_errors(explained, people, sku_id=sku_id, departments=departments)
st.subheader("Members in error")
if members.empty:
    st.markdown("No member in error matches the filters.")
    st.stop()
ui.downloads(members, "group-errors", key="errors_members")
for kind in [*KNOWN_ERRORS, *sorted(set(members["error"]) - set(KNOWN_ERRORS))]:
    rows = members[members["error"] == kind]
    if rows.empty:
        continue
    st.markdown(f"#### {TITLES.get(kind, kind)} — {ui.count(len(rows))}")
    for cause in shown_summary.loc[
        shown_summary["error"] == kind, ["group_name", "sku", "cause", "fix"]
    ].itertuples(index=False):
        st.markdown(f"**{cause.group_name} · {cause.sku}** — {cause.cause}  \n*Fix:* {cause.fix}")
    ui.table(
        rows[MEMBER_VIEW],
        key=f"errors_{kind}",
        config={
            "detail": st.column_config.TextColumn("detail", width="large"),
            "fix": st.column_config.TextColumn("fix", width="large"),
        },
    )
