"""Costs: spend and waste per currency and per SKU, chargeback, and the editable price book and
alert thresholds (DESIGN §8). Editing writes the local store only, never the tenant."""

from __future__ import annotations

from functools import partial

import streamlit as st

from analysis.chargeback import chargeback_export, chargeback_totals, chargeback_workbook, unpriced_total
from analysis.costs import MONEY_COLUMNS, cost_totals, unpriced_skus
from analysis.exports import MIME_CSV, MIME_XLSX, csv_bytes, major_units
from analysis.pricebook import (
    CSV_COLUMNS,
    parse_price_csv,
    price_book_csv,
    price_book_frame,
    validate_price_records,
)
from analysis.thresholds import threshold_changes, threshold_findings, threshold_table
from analysis.user_files import decode
from dashboard import loaders, services, ui, usage_loaders
from dashboard.settings import inactive_days
from licensedesk.errors import InputError, LicenseDeskError

BASES = {"Per month": "month", "Per year": "year"}
FLASH = "costs_message"
# Editors and the uploader are keyed by a generation that moves on after a save, so the saved
# edits (kept by Streamlit as a diff) are not applied a second time to the saved book.
GENERATION = "costs_generation"
NO_PRICES = (
    "The price book is empty, so every SKU shows as no price and no cost is counted. Microsoft's APIs give "
    "no prices: add rows in the price book below, import a price-book CSV there, or run "
    "`license-desk prices import FILE`."
)
COST_VIEW = [
    "name", "sku_part_number", "status", "unit_price", "effective_from", "paid_seats", "trial_seats",
    "assigned_seats", "unassigned_seats", "disabled_seats", "inactive_seats", "never_seats", "unused_seats",
    "guest_seats",
    "purchased_cost", "assigned_cost", "waste_cost", "unassigned_cost", "disabled_cost", "inactive_cost",
    "never_signed_in_cost", "unused_cost", "guest_cost", "counts_as_waste", "sku_id",
]  # fmt: skip

ui.require("costs")
path, snapshot_id = ui.start_page("Costs")
info = loaders.snapshot_info(path, snapshot_id)
ui.snapshot_caption(info)
ui.flash(FLASH)
generation = int(st.session_state.setdefault(GENERATION, 0))


def saved(text: str) -> None:
    """Say what was saved on the next run, with fresh editors."""
    st.session_state[FLASH] = text
    st.session_state[GENERATION] = generation + 1
    st.rerun()


days = inactive_days()
signin = bool(info["signin_available"])
book = loaders.price_book(path)
prices_version = loaders.version(book)
basis = BASES[st.radio("Costs", list(BASES), horizontal=True, key="costs_basis")]
costs = loaders.costs(path, snapshot_id, days, basis, prices_version)
if book.empty:
    st.info(NO_PRICES)

for total in cost_totals(costs).to_dict(orient="records"):
    currency = total["currency"]
    if not isinstance(currency, str):
        continue  # no priced SKU at all: nothing to total
    st.markdown(f"#### {currency} per {basis}")
    row = st.columns(4)
    row[0].metric(
        "Purchased",
        ui.money(total["purchased_cost"], currency),
        help=f"{ui.count(total['paid_seats'])} paid seats of {total['skus']} priced SKU(s); trial seats cost nothing.",
    )
    row[1].metric(
        "Assigned",
        ui.money(total["assigned_cost"], currency),
        help=f"{ui.count(total['assigned_seats'])} paid seats in use.",
    )
    row[2].metric(
        "Waste",
        ui.money(total["waste_cost"], currency),
        help="Unassigned + disabled + inactive + never signed in + unused."
        + ("" if signin else " This snapshot has no sign-in data: only unassigned and disabled are known."),
    )
    row[3].metric(
        "Licensed guests",
        ui.money(total["guest_cost"], currency),
        help=f"{ui.count(total['guest_seats'])} seats held by guests: shown beside waste, never added to it "
        "(a guest may be disabled or inactive too).",
    )
    split = st.columns(5)
    split[0].metric(
        "Unassigned",
        ui.money(total["unassigned_cost"], currency),
        help=f"{ui.count(total['unassigned_seats'])} paid seats nobody holds.",
    )
    split[1].metric(
        "Disabled accounts",
        ui.money(total["disabled_cost"], currency),
        help=f"{ui.count(total['disabled_seats'])} seats held by disabled accounts.",
    )
    no_signin = "Unknown: this snapshot has no sign-in data."
    split[2].metric(
        f"Inactive {days}+ days",
        ui.money(total["inactive_cost"], currency, "unknown"),
        help=f"{ui.count(total['inactive_seats'])} seats held by users with no sign-in (interactive or not) "
        f"for {days} days or more (LICENSE_DESK_INACTIVE_DAYS)."
        if signin
        else no_signin,
    )
    split[3].metric(
        "Never signed in",
        ui.money(total["never_signed_in_cost"], currency, "unknown"),
        help=f"{ui.count(total['never_seats'])} seats held by users who never signed in, created more than "
        f"{days} days ago."
        if signin
        else no_signin,
    )
    split[4].metric(
        "Unused",
        ui.money(total["unused_cost"], currency, "unknown"),
        help=f"{ui.count(total['unused_seats'])} seats of people who sign in but used none of the SKU's apps for "
        f"{days} days (Microsoft 365 usage reports); kept apart from inactive."
        if usage_loaders.usage(path, snapshot_id) is not None
        else "Unknown: this snapshot has no usage reports (Reports.Read.All) or they conceal names.",
    )

missing = unpriced_skus(costs)
if not missing.empty:
    listed = ", ".join(
        f"{name} ({ui.count(paid)} paid seats)"
        for name, paid in zip(missing["name"], missing["paid_seats"], strict=True)
    )
    st.warning(
        f"{len(missing)} SKU(s) have no price, so no total includes them (never counted as free): {listed}. "
        "Add their prices in the price book below."
    )

st.subheader("Per SKU")
st.caption(
    "Paid seats = purchased (enabled + warning) − trial seats. Waste = unassigned + disabled + inactive + never "
    "signed in; free/viral and company-wide SKUs are spend, never waste. A monthly figure of a yearly price is "
    "the annual amount ÷ 12, rounded once per line. — = no price (or unknown without sign-in data)."
)
shown = ui.money_table(costs, MONEY_COLUMNS)
shown["unit_price"] = [
    f"{ui.money(unit, currency)} / {period}" if isinstance(currency, str) else "—"
    for unit, currency, period in zip(
        costs["unit_price_minor"], costs["currency"], costs["period"], strict=True
    )
]
ui.table(
    shown[COST_VIEW],
    key="costs_table",
    config={"counts_as_waste": st.column_config.CheckboxColumn("counted"), "sku_id": None},
)
ui.downloads(
    major_units(costs, [*MONEY_COLUMNS, "unit_price_minor"]).rename(
        columns={"unit_price_minor": "unit_price"}
    ),
    f"costs-per-{basis}",
    key="costs_table",
)

st.subheader("Chargeback")
st.caption(
    "Each held seat of a priced SKU is charged to its holder's department, company or usage location; holders "
    "without one go to 'unattributed'. 'unassigned seats' and 'tenant-wide' (company-wide SKUs) make each "
    "currency add up to its purchased cost. Seats of SKUs without a price are counted, never costed."
)
views = loaders.chargeback(path, snapshot_id, days, basis, prices_version)
st.download_button(
    "Download chargeback workbook (Excel, one sheet per view)",
    data=partial(chargeback_workbook, views, basis=basis),
    file_name=f"chargeback-per-{basis}.xlsx",
    mime=MIME_XLSX,
    key="chargeback_xlsx",
    on_click="ignore",
)
for tab, (title, view) in zip(st.tabs(list(views)), views.items(), strict=True):
    slug = title.lower().replace(" ", "-")
    with tab:
        ui.table(ui.money_table(view, ["cost"]), key=f"chargeback_{slug}")
        totals = chargeback_totals(view).to_dict(orient="records")
        if totals:
            st.caption(
                "Totals: "
                + " · ".join(
                    f"{ui.money(t['cost'], t['currency'])} for {ui.count(t['seats'])} seats" for t in totals
                )
                + f". {ui.count(unpriced_total(view))} held seat(s) of SKUs without a price are not costed."
            )
        st.download_button(
            "Download CSV",
            data=partial(csv_bytes, chargeback_export(view, basis=basis)),
            file_name=f"chargeback-{slug}-per-{basis}.csv",
            mime=MIME_CSV,
            key=f"chargeback_{slug}_csv",
            on_click="ignore",
        )

st.subheader("Price book")
st.caption(
    "One row per SKU, currency and effective date: the unit price is one seat for one period (month or year), "
    "written with a dot; the effective date is YYYY-MM-DD (in a price-book CSV: `sku`, `unit_price`, `currency`, "
    "`period`, `effective_from`). Each snapshot is costed at the prices in force on its "
    "date. Saving checks every row as an import does: if any row is wrong, nothing is saved. This edits "
    "License Desk's own price book, never the tenant."
)
index = loaders.sku_index(path)
editable = price_book_frame(book, index)
edited = st.data_editor(
    editable,
    key=f"price_editor_{generation}",
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    placeholder="",
    disabled=["source"],
    column_config=ui.column_config(
        editable,
        {
            "sku": st.column_config.TextColumn(help="A part number (SPE_E3) or a skuId."),
            "unit_price": st.column_config.TextColumn(help="One seat for one period, e.g. 36.00."),
            "currency": st.column_config.TextColumn(help="An ISO 4217 code, e.g. USD."),
            "period": st.column_config.SelectboxColumn(options=["month", "year"]),
            "effective_from": st.column_config.TextColumn("effective date", help="YYYY-MM-DD"),
            "source": st.column_config.TextColumn(help="Where the row came from."),
        },
        hide_ids=False,
    ),
)
if st.button("Save the price book", type="primary", key="price_save"):
    rows, problems = validate_price_records(
        edited[list(CSV_COLUMNS)].to_dict(orient="records"), index, first_row=1
    )
    if problems:
        for problem in problems:
            st.error(problem)
        st.warning("Nothing was saved: correct the rows named above, then save again.")
    else:
        written, removed = services.save_price_book(path, rows)
        saved(f"Saved the price book: {written} row(s) written, {removed} removed.")

left, right = st.columns(2)
left.download_button(
    "Download the price book (CSV)",
    data=price_book_csv(book, index),
    file_name="price-book.csv",
    mime=MIME_CSV,
    key="price_csv",
    on_click="ignore",
)
with right:
    uploaded = st.file_uploader(
        "Import a price-book CSV (all rows or none)", type=["csv"], key=f"price_upload_{generation}"
    )
    merge = st.checkbox("Add to the price book instead of replacing it", key="price_merge")
    if uploaded is not None and st.button("Import", key="price_import"):
        try:
            # The one reader of files people give us: the same sentences as `license-desk prices import`.
            text = decode(uploaded.getvalue(), uploaded.name)
        except InputError as exc:
            st.error(str(exc))
        else:
            rows, problems = parse_price_csv(text, index, source=uploaded.name)
            if problems:
                for problem in problems:
                    st.error(problem)
                st.warning("Nothing was imported: the price book is as it was.")
            else:
                written, removed = services.import_prices(path, rows, replace=not merge, source=uploaded.name)
                saved(f"Imported {written} price row(s) from {uploaded.name}; {removed} old row(s) removed.")

st.subheader("Alert thresholds")
st.caption(
    "`license-desk check` exits 1 when a SKU has fewer free seats than its minimum, or is used more than its "
    "limit. Leave a cell empty not to check it."
)
seats = loaders.seats(path, snapshot_id)
limits = loaders.thresholds(path)
before = threshold_table(seats, limits)
after = st.data_editor(
    before,
    key=f"threshold_editor_{generation}",
    hide_index=True,
    width="stretch",
    placeholder="",
    disabled=["sku", "sku_part_number", "purchased", "consumed", "available", "utilization"],
    column_config=ui.column_config(
        before,
        {
            "sku_id": None,
            "utilization": st.column_config.NumberColumn(format="percent"),
            "min_free_seats": st.column_config.NumberColumn(min_value=0, step=1),
            "max_utilization_percent": st.column_config.NumberColumn(min_value=0, max_value=100, step=1),
        },
        hide_ids=False,
    ),
)
if st.button("Save thresholds", key="threshold_save"):
    changes = threshold_changes(before, after)
    if not changes:
        st.info("No threshold was changed.")
    else:
        try:
            count = services.save_thresholds(path, changes)
        except LicenseDeskError as exc:
            for line in str(exc).splitlines():
                st.error(line)
        else:
            saved(f"Saved the thresholds of {count} SKU(s).")
for finding in threshold_findings(seats, limits):
    st.warning(finding.message)
