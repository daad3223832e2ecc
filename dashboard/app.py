"""License Desk dashboard entry point: sign-in, role-based navigation; each page lives in app_pages/.

Pages are files (not callables) so AppTest's ``switch_page`` can reach each one. Who may see
which page is decided by ``dashboard.access`` (pure, unit-tested); restricted pages check again.
With tenants registered, the sidebar's picker chooses the tenant every page shows; the choice is
resolved (and checked) by ``dashboard.tenancy``, which ``dashboard.settings`` asks.
"""

from __future__ import annotations

import streamlit as st

from dashboard import tenancy, ui
from dashboard.access import AccessDenied, describe, may_open, no_role
from dashboard.settings import base_settings, current_tenant, registry_path
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

registry = registry_path()
try:
    tenant = current_tenant()
except AccessDenied as exc:
    st.title("License Desk")
    st.error(str(exc))
    if config.sign_in:
        st.button("Sign out", key="logout", on_click=st.logout)
    st.stop()
if tenant is not None:
    asked = st.query_params.get(tenancy.QUERY_PARAM)
    if asked and asked.strip().lower() not in (tenant.tenant_id, tenant.domain):
        # One sentence, not which tenants exist: the link may name one this person may not see.
        st.warning(
            f"The link asks for a tenant you cannot see here ({asked}); showing {tenant.display_name}."
        )
    # Written before the picker is drawn, so the widget never holds a tenant the person may not see.
    st.session_state[tenancy.PICKER_KEY] = tenant.tenant_id
    st.query_params[tenancy.QUERY_PARAM] = tenant.tenant_id
    # Candidates chosen on Reclaim are one tenant's users: another tenant's Assign & fix must not
    # offer them (their ids would only be refused there, or worse, read as someone else's).
    if st.session_state.get(ui.TARGETS_TENANT_KEY) != tenant.tenant_id:
        for key in (ui.RECLAIM_TARGETS_KEY, ui.DOWNGRADE_TARGETS_KEY):
            st.session_state.pop(key, None)
        st.session_state[ui.TARGETS_TENANT_KEY] = tenant.tenant_id

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
if tenant is not None:
    # Only for many tenants: the one row per customer an MSP looks at first.
    candidates.insert(0, ("portfolio", "Portfolio"))
settings, _problem = base_settings()
# The action page exists only when writes are enabled: no button can reach a tenant otherwise.
if settings is not None and settings.allow_writes:
    candidates.append(("fix", "Assign & fix"))
candidates.append(("audit", "Audit"))
pages = [
    st.Page(f"app_pages/{stem}.py", title=title, default=stem == "overview")
    for stem, title in candidates
    if may_open(stem, roles)
]


def _follow_picker() -> None:
    # The link follows the picker, so the next run (and a copied URL) shows what was picked.
    st.query_params[tenancy.QUERY_PARAM] = st.session_state[tenancy.PICKER_KEY]


with st.sidebar:
    if tenant is not None:
        shown = {t.tenant_id: t for t in tenancy.visible(registry)}
        st.selectbox(
            "Tenant",
            list(shown),
            key=tenancy.PICKER_KEY,
            format_func=lambda tenant_id: tenancy.label(shown[tenant_id]),
            on_change=_follow_picker,
            help="The customer tenant every page, download and action works on.",
        )
    st.caption(describe(person, config, roles))
    st.toggle(
        "Show ids",
        key=ui.SHOW_IDS_KEY,
        help="Show the object ids of users, SKUs, service plans, subscriptions and Graph requests in the tables.",
    )
    if config.sign_in:
        st.button("Sign out", key="logout", on_click=st.logout)
st.navigation(pages).run()
