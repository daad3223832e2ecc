"""SKU detail: one SKU's units, subscriptions, holders, service plans and history."""

from __future__ import annotations

import streamlit as st

from analysis.skus import sku_notes, sku_subscriptions, sku_units
from analysis.trends import default_skus, seat_history
from dashboard import charts, loaders, ui

path, snapshot_id = ui.start_page("SKU detail")
ui.snapshot_caption(loaders.snapshot_info(path, snapshot_id))
seats = loaders.seats(path, snapshot_id)
if seats.empty:
    st.info("This snapshot lists no SKUs.")
    st.stop()

biggest = default_skus(seats, 1)
sku_id = ui.shared_sku("SKU", seats, key="sku_detail_sku", default=biggest[0] if biggest else None)
assert sku_id is not None  # allow_all is off, and there is at least one SKU
units = sku_units(seats, sku_id)
st.header(units["name"])
st.caption(f"{units['sku_part_number']} · {sku_id}")
for note in sku_notes(units):
    st.info(note)

row = st.columns(8)
row[0].metric("Enabled", ui.count(units["enabled"]))
row[1].metric("Warning", ui.count(units["warning"]), help="In the grace period: usable, about to lapse.")
row[2].metric("Suspended", ui.count(units["suspended"]), help="Not assignable; never counted as purchased.")
row[3].metric("Locked out", ui.count(units["locked_out"]), help="Cancelled; never counted as purchased.")
row[4].metric("Purchased", ui.count(units["purchased"]), help="Enabled + warning.")
row[5].metric("Consumed", ui.count(units["consumed"]))
row[6].metric(
    "Available", ui.count(units["available"]), help="Purchased − consumed; negative = over-assigned."
)
row[7].metric("Utilization", ui.percent(units["utilization"]))

st.subheader("Subscriptions")
subs = sku_subscriptions(loaders.subscriptions(path, snapshot_id), sku_id)
if subs.empty:
    st.markdown("No commerce subscription is listed for this SKU.")
else:
    ui.table(
        subs,
        key="sku_subscriptions",
        config={
            "next_lifecycle": st.column_config.DatetimeColumn("next lifecycle", format="YYYY-MM-DD"),
            "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD"),
        },
    )
    ui.downloads(subs, "subscriptions", key="sku_subscriptions")

st.subheader("Who holds it")
# Only this SKU's assignments and holders are read, not every licence and user.
holders = loaders.sku_holder_table(path, snapshot_id, sku_id)
if holders.empty:
    st.markdown("Nobody is assigned this SKU.")
else:
    ui.table(holders, key="sku_holders", config={"user_id": None})
    ui.downloads(holders, "holders", key="sku_holders")

st.subheader("Service plans")
plans = loaders.sku_plan_usage(path, snapshot_id, sku_id)
if plans.empty:
    st.markdown("The snapshot lists no service plans for this SKU.")
else:
    st.caption(
        "A plan counts as disabled for a holder when every assignment through which they hold the SKU disables it."
    )
    ui.table(plans, key="sku_plans")
    ui.downloads(plans, "service-plans", key="sku_plans")

st.subheader("History")
over_time = seat_history(loaders.sku_history(path, snapshot_id), seats)
mine = over_time[over_time["sku_id"] == sku_id]
st.plotly_chart(
    charts.seats_over_time_chart(mine, f"{units['name']}: purchased vs assigned"), width="stretch"
)
