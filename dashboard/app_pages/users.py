"""Users: a searchable, filterable table, and one user's licences with their source and state."""

from __future__ import annotations

import streamlit as st

from analysis.labels import group_names, sku_names
from analysis.users import filter_users, options, user_licenses_detail
from dashboard import loaders, ui
from dashboard.settings import inactive_days

TRISTATE = {"All": None, "Yes": True, "No": False}
PATHS = {"Any": "any", "Direct": "direct", "Group": "group"}

path, snapshot_id = ui.start_page("Users")
info = loaders.snapshot_info(path, snapshot_id)
ui.snapshot_caption(info)
seats = loaders.seats(path, snapshot_id)
licenses = loaders.license_states(path, snapshot_id)
names = sku_names(seats)
days = inactive_days()
table = loaders.users_table(path, snapshot_id, days)

search = st.text_input("Search name or UPN", key="users_search")
row = st.columns(3)
with row[0]:
    departments = ui.shared_departments("Department", options(table, "department"), key="users_departments")
countries = row[1].multiselect("Country (usage location)", options(table, "country"), key="users_countries")
with row[2]:
    sku_id = ui.shared_sku("SKU", seats, key="users_sku", allow_all=True)
row = st.columns(3)
enabled = row[0].radio("Account enabled", list(TRISTATE), horizontal=True, key="users_enabled")
guest = row[1].radio("Guest", list(TRISTATE), horizontal=True, key="users_guest")
assignment = row[2].radio("Assignment path", list(PATHS), horizontal=True, key="users_path")

shown = filter_users(
    table,
    licenses,
    search=search,
    departments=departments,
    countries=countries,
    enabled=TRISTATE[enabled],
    guest=TRISTATE[guest],
    sku_id=sku_id,
    path=PATHS[assignment],  # type: ignore[arg-type]
)
st.caption(
    f"{ui.count(len(shown))} of {ui.count(len(table))} users. Activity is measured from the snapshot's time; "
    f"inactive means no sign-in for {days} days or more."
    + ("" if info["signin_available"] else " This snapshot has no sign-in data.")
)
event = ui.table(
    shown,
    key="users_table",
    on_select="rerun",
    selection_mode="single-row",
    config={"last_sign_in": st.column_config.DatetimeColumn("last sign-in", format="YYYY-MM-DD HH:mm")},
)
ui.downloads(shown, "users", key="users_table")
if not shown.empty:
    ui.fix_button(
        f"Assign a licence to these {ui.count(len(shown))} users…",
        key="users_fix",
        state={
            "fix_source": "A list of users",
            "fix_users": "\n".join(shown["user_principal_name"].dropna()),
        },
    )

st.subheader("One user's licences")
picked = [row for row in event.selection.rows if row < len(shown)]
if shown.empty:
    st.markdown("No user matches the filters.")
    st.stop()
if not picked:
    st.markdown("Select a user in the table (the box at the start of a row) to see their licences.")
    st.stop()
person = shown.iloc[picked[0]]
detail = user_licenses_detail(
    loaders.user_licenses_of(path, snapshot_id, user_id=str(person["user_id"])),
    person["user_id"],
    names,
    group_names(loaders.licensed_groups(path, snapshot_id)),
)
st.markdown(
    f"**{ui.text(person['display_name'], person['user_principal_name'])}** · "
    f"{ui.text(person['department'], 'no department')} · {ui.text(person['country'], 'no usage location')} · "
    f"{person['activity']} · last sign-in {ui.when(person['last_sign_in'])}"
)
if detail.empty:
    st.markdown("This user has no licence.")
else:
    ui.table(
        detail,
        key="user_detail",
        config={
            "last_updated": st.column_config.DatetimeColumn("last updated", format="YYYY-MM-DD HH:mm"),
            "sku_id": None,
        },
    )
    ui.downloads(detail, "user-licences", key="user_detail")
