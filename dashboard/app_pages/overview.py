"""Overview: headline seat numbers and per-SKU utilization for the latest snapshot."""

from __future__ import annotations

import streamlit as st

from analysis.seats import seat_table, seat_totals
from dashboard import data

st.title("Overview")
path = data.store_path()
snapshot_id = data.latest_snapshot(path)
if snapshot_id is None:
    st.info(
        f"No snapshot yet in {path}. Run `license-desk collect` for your tenant, "
        "or `license-desk demo` for the simulated demo tenant."
    )
    st.stop()

info = data.snapshot_info(path, snapshot_id)
table = seat_table(data.sku_counts(path, snapshot_id))
totals = seat_totals(table)
st.caption(f"Snapshot {snapshot_id} of tenant {info['tenant_id']}, taken {info['started_at']}")
for warning in info["warnings"]:
    st.warning(warning)

cols = st.columns(5)
cols[0].metric("SKUs", totals["skus"])
cols[1].metric("Purchased seats", f"{totals['purchased']:,}")
cols[2].metric("Assigned seats", f"{totals['consumed']:,}")
cols[3].metric("Unused seats", f"{totals['unused']:,}")
cols[4].metric("Over-assigned SKUs", totals["over_assigned_skus"])

st.dataframe(
    table[
        [
            "name",
            "sku_part_number",
            "purchased",
            "consumed",
            "available",
            "utilization",
            "warning",
            "suspended",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "utilization": st.column_config.ProgressColumn("utilization", min_value=0.0, max_value=1.0)
    },
)
