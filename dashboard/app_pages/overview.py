"""Overview: headline seat numbers, what changed since the previous snapshot, utilization per SKU."""

from __future__ import annotations

import streamlit as st

from analysis.changes import sku_changes, snapshot_changes
from analysis.overview import headline
from dashboard import charts, loaders, ui
from dashboard.settings import inactive_days

path, snapshot_id = ui.start_page("Overview")
info = loaders.snapshot_info(path, snapshot_id)
ui.snapshot_caption(info)

days = inactive_days()
seats = loaders.seats(path, snapshot_id)
errors = loaders.error_members(path, snapshot_id)
numbers = headline(seats, errors, loaders.reclaim_activity(path, snapshot_id, days))

row = st.columns(4)
row[0].metric("SKUs", ui.count(numbers["skus"]), help="Every SKU the tenant lists, free ones included.")
row[1].metric(
    "Purchased seats",
    ui.count(numbers["purchased"]),
    help="Enabled + warning units of the SKUs that count as seats (free/viral and company-wide SKUs excluded).",
)
row[2].metric("Assigned seats", ui.count(numbers["assigned"]), help="Consumed units of the same SKUs.")
row[3].metric(
    "Available seats",
    ui.count(numbers["available"]),
    help="Purchased − assigned over the same SKUs; negative means over-assigned overall.",
)
second = st.columns(4)
second[0].metric(
    "Unused seats", ui.count(numbers["unused"]), help="Free seats; an over-assigned SKU counts 0."
)
second[1].metric("Over-assigned SKUs", ui.count(numbers["over_assigned_skus"]))
second[2].metric(
    "Users in group-licence error",
    ui.count(numbers["users_in_error"]),
    help="Distinct users with at least one failed group-based assignment (see Group errors).",
)
reclaim_help = (
    f"{numbers['reclaimable_disabled']} held by disabled accounts, {numbers['reclaimable_inactive']} by users "
    f"with no sign-in for {days} days or more (LICENSE_DESK_INACTIVE_DAYS), or never."
)
if not info["signin_available"]:
    reclaim_help = (
        f"{numbers['reclaimable_disabled']} held by disabled accounts. This snapshot has no sign-in data, "
        "so inactive users are not counted."
    )
second[3].metric("Reclaimable seats", ui.count(numbers["reclaimable"]), help=reclaim_help)

unknown = seats.loc[~seats["known"], "sku_part_number"].tolist()
if unknown:
    st.info(
        f"{len(unknown)} SKU(s) are not in the catalog and are shown by part number: {', '.join(unknown)}. "
        "See the Data page to refresh the catalog."
    )

st.subheader("Since the previous snapshot")
ids = loaders.snapshot_ids(path)
earlier = [i for i in ids if i < snapshot_id]
if not earlier:
    st.markdown("This is the first snapshot: changes show from the next one.")
else:
    previous = earlier[-1]
    before = loaders.seats(path, previous)
    changes = snapshot_changes(
        before,
        seats,
        loaders.user_changes(path, previous, snapshot_id),
        loaders.error_members(path, previous),
        errors,
    )
    st.caption(
        f"Compared with snapshot {previous}, taken {ui.when(loaders.snapshot_info(path, previous)['started_at'])}."
    )
    changed = st.columns(5)
    changed[0].metric("Seats bought", ui.signed(changes.seats_bought), help="Change in purchased seats.")
    changed[1].metric("Seats assigned", ui.signed(changes.seats_assigned), help="Change in assigned seats.")
    changed[2].metric("Users added", ui.count(changes.users_added))
    changed[3].metric("Users removed", ui.count(changes.users_removed))
    changed[4].metric(
        "New errors",
        ui.count(changes.new_errors),
        help=f"Group-assignment errors new in this snapshot; {changes.resolved_errors} resolved.",
    )
    per_sku = sku_changes(before, seats)
    if not per_sku.empty:
        ui.table(
            per_sku.drop(columns=["sku_id"]),
            key="sku_changes",
            config={"counted": st.column_config.CheckboxColumn("counted", help="Counts as seats.")},
        )

st.subheader("Utilization")
counted = seats[seats["counts_as_unused"]]
if counted.empty:
    st.markdown("No SKU counts as seats in this snapshot.")
else:
    st.plotly_chart(charts.utilization_chart(counted), width="stretch")
left_out = seats.loc[~seats["counts_as_unused"], "name"].tolist()
if left_out:
    st.caption("Not drawn (free/viral or company-wide, never counted as seats): " + ", ".join(left_out) + ".")

st.subheader("SKUs")
table = seats[
    [
        "name", "sku_part_number", "purchased", "consumed", "available", "utilization", "enabled", "warning",
        "suspended", "locked_out", "known", "counts_as_unused", "sku_id",
    ]
]  # fmt: skip
ui.table(
    table,
    key="skus",
    config={
        "utilization": st.column_config.NumberColumn(
            "utilization", format="percent", help="Assigned ÷ purchased; empty when nothing is purchased."
        ),
        "known": st.column_config.CheckboxColumn("in catalog"),
        "counts_as_unused": st.column_config.CheckboxColumn("counted"),
    },
)
ui.downloads(table, "skus", key="skus")
