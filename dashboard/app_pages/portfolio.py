"""Portfolio: one row per tenant the person may see, from each tenant's own latest snapshot.

Shown only when tenants are registered. The figures are ``analysis.portfolio.portfolio_table``
(the single-tenant pages' own definitions); the monthly waste per currency is money, shown (and
downloaded) only with the finance role, as the Costs page is.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.portfolio import EXPIRING_DAYS, portfolio_table
from dashboard import tenancy, ui
from dashboard.access import Role
from dashboard.portfolio_loaders import portfolio
from dashboard.settings import inactive_days, registry_path
from dashboard.signin import access_state

ui.require("portfolio")
st.title("Portfolio")
registry = registry_path()
tenants = tenancy.visible(registry)
if not tenancy.registered(registry):
    st.info("No tenant is registered: `license-desk tenants add` registers your customers' tenants.")
    st.stop()
if not tenants:
    st.error("You may see none of the registered tenants; ask a License Desk administrator.")
    st.stop()

table = portfolio_table(portfolio(registry, tenants, inactive_days()), expiring_days=EXPIRING_DAYS)
_config, _person, roles = access_state()
money = [c for c in table.columns if c.startswith("waste_monthly_")] + ["unpriced_skus"]
if Role.FINANCE not in roles:
    table = table.drop(columns=money)
for column in ("collected_at", "last_run_at"):
    table[column] = pd.to_datetime(table[column], utc=True, format="ISO8601")
row = st.columns(4)
row[0].metric("Tenants", ui.count(len(table)))
row[1].metric("Never collected", ui.count(int(table["snapshot_id"].isna().sum())))
row[2].metric("Last collection failed", ui.count(int((table["last_status"] == "failed").sum())))
row[3].metric("Users in group-licence error", ui.count(int(table["users_in_error"].fillna(0).sum())))
st.caption(
    f"One row per tenant you may see, from its latest complete snapshot. Expiring: subscriptions ending within "
    f"{EXPIRING_DAYS} days (trials, grace periods, suspensions); renewing: annual or longer terms renewing in "
    "that time. "
    + (
        "Waste is per month, in each price book's currency (currencies are never added together)."
        if Role.FINANCE in roles
        else "Waste per currency needs the finance role."
    )
)
ui.table(
    table,
    key="portfolio_table",
    config={
        "collected_at": st.column_config.DatetimeColumn(
            "last successful collection", format="YYYY-MM-DD HH:mm"
        ),
        "last_run_at": st.column_config.DatetimeColumn("last run", format="YYYY-MM-DD HH:mm"),
    },
)
ui.downloads(table, "portfolio", key="portfolio")

# Open one tenant's pages: through the link (which the picker follows), since the picker itself
# is drawn already in this run.
names = {t.tenant_id: tenancy.label(t) for t in tenants}
left, right = st.columns([3, 1], vertical_alignment="bottom")
opened = left.selectbox("Open a tenant", list(names), format_func=names.__getitem__, key="portfolio_open")
if right.button("Open its Overview", key="portfolio_go"):
    st.switch_page("app_pages/overview.py", query_params={tenancy.QUERY_PARAM: opened})
