"""License Desk dashboard entry point: navigation only; each page lives in app_pages/.

Pages are files (not callables) so AppTest's ``switch_page`` can reach each one.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data

st.set_page_config(page_title="License Desk", layout="wide")

pages = [
    st.Page("app_pages/overview.py", title="Overview", default=True),
    st.Page("app_pages/sku_detail.py", title="SKU detail"),
    st.Page("app_pages/users.py", title="Users"),
    st.Page("app_pages/group_errors.py", title="Group errors"),
    st.Page("app_pages/trends.py", title="Trends"),
    st.Page("app_pages/costs.py", title="Costs"),
    st.Page("app_pages/reclaim.py", title="Reclaim"),
    st.Page("app_pages/renewals.py", title="Renewals"),
    st.Page("app_pages/data.py", title="Data"),
]
settings, _problem = data.settings()
# The action page exists only when writes are enabled: no button can reach a tenant otherwise.
if settings is not None and settings.allow_writes:
    pages.append(st.Page("app_pages/fix.py", title="Assign & fix"))
pages.append(st.Page("app_pages/audit.py", title="Audit"))
st.navigation(pages).run()
