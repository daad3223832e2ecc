"""Data: the snapshots taken (failed ones too), the SKU catalog, and "Collect now"."""

from __future__ import annotations

import streamlit as st

from analysis.collection import log_counts, snapshot_log, unknown_skus
from dashboard import loaders, services, ui
from dashboard.access import Role
from dashboard.settings import current_settings, store_path
from dashboard.signin import access_state
from licensedesk.errors import LicenseDeskError
from store.db import describe

FLASH = "collect_message"

ui.page_title("Data")
path = store_path()
try:
    snapshot_id = loaders.latest_snapshot(path)
    attempt = loaders.latest_attempt(path)
except LicenseDeskError as exc:
    st.error(str(exc))
    st.stop()

st.subheader("Collect now")
ui.flash(FLASH)
settings, problem = current_settings()
_config, _person, roles = access_state()
if Role.ADMIN not in roles:
    st.caption("Collecting from here needs the admin role.")
elif problem:
    st.error(problem)
elif settings is None or not settings.tenant_configured:
    st.info("No tenant is configured, so the dashboard cannot collect. " + ui.HOW_TO_CONFIGURE)
else:
    st.caption(
        f"Collects tenant {settings.tenant_id} into {describe(settings.store)} (read-only calls to Microsoft Graph)."
    )
    if st.button("Collect now", type="primary", key="collect_now"):
        with st.status("Collecting…", expanded=True) as status:
            bar = st.progress(0.0)

            def report(progress: object) -> None:
                step = str(getattr(progress, "step", ""))
                seen = int(getattr(progress, "users", 0) or 0)
                bar.progress(ui.collection_progress(step), text=f"{step}: {ui.count(seen)} users so far")

            try:
                summary = services.collect(settings, report)
            except LicenseDeskError as exc:
                status.update(label="The collection failed; nothing was published.", state="error")
                st.error(str(exc))
            else:
                status.update(label="Collected.", state="complete")
                st.session_state[FLASH] = (
                    f"Snapshot {summary.snapshot_id} collected: {ui.count(summary.users)} users, "
                    f"{ui.count(summary.licenses)} licence assignments, {summary.skus} SKUs."
                )
                st.rerun()

if attempt is None:
    ui.first_run(path)
    st.stop()

st.subheader("Snapshots")
log = snapshot_log(loaders.snapshots(path, attempt))
tally = log_counts(log)
st.caption(
    f"{ui.count(tally['attempts'])} attempts, {ui.count(tally['failed'])} failed. A failed or interrupted collection publishes "
    "nothing: the previous complete snapshot stays the latest."
)
ui.table(
    log,
    key="snapshot_log",
    config={
        "id": "Snapshot",
        "started": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm:ss"),
        "finished": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm:ss"),
    },
)
ui.downloads(log, "snapshots", key="snapshot_log")

st.subheader("SKU catalog")
if snapshot_id is None:
    st.markdown("No complete snapshot yet: the catalog check runs on the latest complete snapshot.")
    st.stop()
status_ = loaders.catalog_status(path, snapshot_id)
row = st.columns(3)
row[0].metric("Built-in SKUs", ui.count(int(status_["builtin"] or 0)))
row[1].metric("Imported SKUs", ui.count(int(status_["imported"] or 0)))
row[2].metric("Last import", ui.when(status_["last_import"]) if status_["last_import"] else "never")
unknown = unknown_skus(loaders.seats(path, snapshot_id))
if unknown.empty:
    st.success("The catalog names every SKU of the latest snapshot.")
else:
    st.warning(
        f"{len(unknown)} SKU(s) of the latest snapshot are not in the catalog and show by part number. "
        'Download Microsoft\'s "Product names and service plan identifiers for licensing" CSV and run '
        "`license-desk catalog import FILE` to refresh it."
    )
    ui.table(unknown, key="unknown_skus")
    ui.downloads(unknown, "unknown-skus", key="unknown_skus")
