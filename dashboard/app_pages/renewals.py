"""Renewals: every subscription's term and next lifecycle event, what renews or ends in the next
30/60/90 days with its seats and cost, and the downscale window (annual subscriptions whose free
seats could be dropped at renewal)."""

from __future__ import annotations

import streamlit as st

from analysis.exports import major_units
from analysis.labels import sku_names
from analysis.renewals import HORIZONS, calendar_totals, downscale_totals, downscale_window, renewal_calendar
from analysis.thresholds import expiry_findings, renewal_findings
from dashboard import loaders, ui

BANDS = {"30 days": "Next 30 days", "60 days": "In 31–60 days", "90 days": "In 61–90 days"}
CALENDAR_VIEW = [
    "window", "next_lifecycle_at", "days_left", "event", "sku", "sku_part_number", "status", "is_trial", "term",
    "seats", "monthly_cost", "term_cost", "rollover", "subscription_id",
]  # fmt: skip
TERMS_VIEW = [
    "sku", "sku_part_number", "status", "is_trial", "term", "term_source", "total_licenses", "next_lifecycle_at",
    "days_left", "event", "created_at", "subscription_id",
]  # fmt: skip
DATE = st.column_config.DatetimeColumn(format="YYYY-MM-DD")

ui.require("renewals")
path, snapshot_id = ui.start_page("Renewals")
ui.snapshot_caption(loaders.snapshot_info(path, snapshot_id))
terms = loaders.terms(path, snapshot_id)
if terms.empty:
    st.info("This snapshot lists no commerce subscriptions, so there is nothing to renew.")
    st.stop()
seats = loaders.seats(path, snapshot_id)
names = sku_names(seats)
book = loaders.price_book(path)
if book.empty:
    st.info(
        "The price book is empty, so the calendar has seats but no cost. Add prices on the Costs page or run "
        "`license-desk prices import FILE`."
    )

horizon = st.radio(
    "Look ahead", HORIZONS, index=len(HORIZONS) - 1, format_func=lambda h: f"{h} days", horizontal=True,
    key="renewals_horizon",
)  # fmt: skip
bands = calendar_totals(renewal_calendar(terms, book, horizon_days=max(HORIZONS)))
row = st.columns(len(BANDS))
for column, band in zip(row, bands.to_dict(orient="records"), strict=True):
    column.metric(
        BANDS[band["window"]],
        ui.count(band["subscriptions"]),
        help=f"Subscriptions renewing or ending: {ui.count(band['seats'])} seats; {band['rollovers']} of them "
        "monthly rollovers (listed, never alerts).",
    )
window = downscale_window(terms, seats, book, within_days=horizon)
for finding in [
    *expiry_findings(terms, expiring_days=horizon),
    *renewal_findings(window, expiring_days=horizon),
]:
    st.warning(finding.message)

st.subheader(f"Calendar: the next {horizon} days")
st.caption(
    "Monthly cost = one month of the subscription's seats; term cost = one whole term (monthly or annual), each "
    "at the price in force on the lifecycle date. Rollovers are monthly renewals: listed, never alerts. "
    "— = no price, or a term that cannot be told."
)
calendar = renewal_calendar(terms, book, horizon_days=horizon)
if calendar.empty:
    st.markdown(f"Nothing renews or ends in the next {horizon} days.")
else:
    shown = ui.money_table(calendar, ["monthly_cost", "term_cost"]).assign(sku=calendar["sku_id"].map(names))
    ui.table(
        shown[CALENDAR_VIEW],
        key="renewals_calendar",
        config={"next_lifecycle_at": DATE, "subscription_id": None},
    )
    ui.downloads(
        major_units(calendar, ["monthly_cost", "term_cost"]), "renewal-calendar", key="renewals_calendar"
    )

st.subheader("Downscale window")
st.caption(
    f"Annual subscriptions renewing in the next {horizon} days while their SKU has free seats: lower the "
    "quantity before the renewal date and stop paying for those seats for a year. A SKU's free seats are "
    "offered to its renewals in date order, never twice. Monthly subscriptions can shrink any month and are "
    "never listed."
)
if window.empty:
    st.markdown(f"No annual subscription renewing in the next {horizon} days has free seats to drop.")
else:
    totals = downscale_totals(window).to_dict(orient="records")
    row = st.columns(len(totals))
    for column, total in zip(row, totals, strict=True):
        column.metric(
            "Annual saving",
            ui.money(total["annual_saving"], total["currency"], "unknown (no price)"),
            help=f"{ui.count(total['droppable_seats'])} seats of {total['subscriptions']} subscription(s).",
        )
    ui.table(
        ui.money_table(window, ["annual_saving"]).assign(sku=window["sku_id"].map(names))[
            ["sku", "sku_part_number", "next_lifecycle_at", "days_left", "seats", "free_seats", "droppable_seats",
             "annual_saving", "subscription_id"]
        ],
        key="renewals_downscale",
        config={"next_lifecycle_at": DATE},
    )  # fmt: skip
    ui.downloads(major_units(window, ["annual_saving"]), "downscale-window", key="renewals_downscale")

st.subheader("Subscriptions")
st.caption(
    "Graph gives no billing term: it is a renewal seen between snapshots, else the whole months from creation "
    "to the next lifecycle date (a multiple of 12 reads as annual). Only enabled subscriptions have a term: "
    "for the others the next date ends a grace period or a suspension."
)
ui.table(
    terms.assign(sku=terms["sku_id"].map(names))[TERMS_VIEW],
    key="renewals_terms",
    config={"next_lifecycle_at": DATE, "created_at": DATE},
)
ui.downloads(terms, "subscriptions", key="renewals_terms")
