"""Trends: purchased vs assigned over time, when each SKU runs out, errors over time, and the
change ledger between two snapshots."""

from __future__ import annotations

import streamlit as st

from analysis.changes import ledger_counts, license_ledger
from analysis.labels import group_names, sku_names
from analysis.trends import (
    DEFAULT_WINDOW_DAYS,
    default_skus,
    error_trend,
    runout_forecast,
    seat_history,
    waiting_by_sku,
)
from dashboard import charts, loaders, ui

path, snapshot_id = ui.start_page("Trends")
ui.snapshot_caption(loaders.snapshot_info(path, snapshot_id))
seats = loaders.seats(path, snapshot_id)
names = sku_names(seats)
over_time = seat_history(loaders.sku_history(path, snapshot_id), seats)
ids = loaders.snapshot_ids(path)
if len(ids) < 2:
    st.info("Trends need at least two snapshots; this store has one. Collect again tomorrow.")

st.subheader("Purchased vs assigned")
chosen = ui.shared_skus("SKUs", names, key="trends_skus", default=default_skus(seats))
if chosen:
    st.plotly_chart(
        charts.seats_over_time_chart(over_time[over_time["sku_id"].isin(chosen)]), width="stretch"
    )

st.subheader("Run-out forecast")
window = st.slider("Assignment rate over the last … days", 7, 180, DEFAULT_WINDOW_DAYS, key="trends_window")
forecast = runout_forecast(
    over_time, waiting_by_sku(loaders.error_members(path, snapshot_id)), window_days=window
)
st.caption(
    f"Rate = change in assigned seats per day between the earliest snapshot of the last {window} days and the "
    "latest. Free = purchased − assigned − members waiting in CountViolation. Days left = free ÷ rate; "
    "no run-out when the rate is flat or falling. Free/viral and company-wide SKUs are left out."
)
ui.table(
    forecast.drop(columns=["sku_id"]),
    key="trends_forecast",
    config={
        "rate_per_day": st.column_config.NumberColumn("seats/day", format="%.2f"),
        "days_left": st.column_config.NumberColumn("days left", format="%.0f"),
        "runout_date": st.column_config.DatetimeColumn("runs out", format="YYYY-MM-DD"),
    },
)
ui.downloads(forecast, "runout-forecast", key="trends_forecast")

st.subheader("Group-licence errors over time")
errors_over_time = error_trend(loaders.error_history(path, snapshot_id))
if errors_over_time.empty:
    st.markdown("No group-licence error in any snapshot.")
else:
    st.plotly_chart(charts.error_history_chart(errors_over_time), width="stretch")

st.subheader("Change ledger")
if len(ids) < 2:
    st.markdown("The ledger compares two snapshots; there is only one.")
    st.stop()
attempts = loaders.snapshots(path, loaders.latest_attempt(path) or snapshot_id)
taken = dict(zip(attempts["id"], attempts["started_at"], strict=True))
label = {
    i: f"#{i} · {shown}" for i, shown in zip(ids, ui.when_each([taken.get(i) for i in ids]), strict=True)
}
pickers = st.columns(2)
before = pickers[0].selectbox(
    "From snapshot", ids[:-1], index=len(ids) - 2, format_func=label.__getitem__, key="ledger_from"
)
later = [i for i in ids if i > before]
after = pickers[1].selectbox(
    "To snapshot", later, index=len(later) - 1, format_func=label.__getitem__, key="ledger_to"
)
ledger = license_ledger(
    loaders.license_changes(path, before, after), sku_names(loaders.seats(path, before), seats),
    group_names(loaders.licensed_groups(path, before), loaders.licensed_groups(path, after)),
)  # fmt: skip
tally = ledger_counts(ledger)
row = st.columns(4)
for column, kind in zip(row, ("gained", "lost", "changed", "in error"), strict=True):
    column.metric(f"Licences {kind}" if kind != "in error" else "Assignments in error", ui.count(tally[kind]))
ui.table(ledger.drop(columns=["user_id", "sku_id"]), key="ledger")
ui.downloads(ledger, f"licence-changes-{before}-{after}", key="ledger")

people = loaders.user_changes(path, before, after)
st.markdown(f"**Users added or removed** — {ui.count(len(people))}")
if not people.empty:
    ui.table(people, key="user_changes")
    ui.downloads(people, f"user-changes-{before}-{after}", key="user_changes")
