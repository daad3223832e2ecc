"""License Desk dashboard entry point: sign-in, role-based navigation; each page lives in app_pages/.

Pages are files (not callables) so AppTest's ``switch_page`` can reach each one. Who may see
which page is decided by ``dashboard.access`` (pure, unit-tested); restricted pages check again.
"""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.access import describe, may_open, no_role
from dashboard.settings import current_settings
from dashboard.signin import access_state

st.set_page_config(page_title="License Desk", layout="wide")

config, person, roles = access_state()
if config.problem:
    # Broken sign-in settings serve nothing: the alternative is every visitor having every role.
    st.title("License Desk")
    st.error(config.problem)
    st.stop()
if config.sign_in and not person.get("is_logged_in"):
    st.title("License Desk")
    st.write("Sign in with your Microsoft account to see your organisation's licences.")
    st.button(
        "Sign in with Microsoft",
        key="login",
        on_click=st.login,
        args=(config.provider,) if config.provider else (),
    )
    st.stop()
if not roles:
    st.title("License Desk")
    st.error(no_role(person, config))
    st.button("Sign out", key="logout", on_click=st.logout)
    st.stop()

candidates = [
    ("overview", "Overview"),
    ("sku_detail", "SKU detail"),
    ("users", "Users"),
    ("group_errors", "Group errors"),
    ("trends", "Trends"),
    ("costs", "Costs"),
    ("reclaim", "Reclaim"),
    ("renewals", "Renewals"),
    ("data", "Data"),
]
settings, _problem = current_settings()
# The action page exists only when writes are enabled: no button can reach a tenant otherwise.
if settings is not None and settings.allow_writes:
    candidates.append(("fix", "Assign & fix"))
candidates.append(("audit", "Audit"))
pages = [
    st.Page(f"app_pages/{stem}.py", title=title, default=stem == "overview")
    for stem, title in candidates
    if may_open(stem, roles)
]
with st.sidebar:
    st.caption(describe(person, config, roles))
    st.toggle(
        "Show ids",
        key=ui.SHOW_IDS_KEY,
        help="Show the object ids of users, SKUs, service plans, subscriptions and Graph requests in the tables.",
    )
    if config.sign_in:
        st.button("Sign out", key="logout", on_click=st.logout)
st.navigation(pages).run()
