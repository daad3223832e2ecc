"""License Desk dashboard entry point: navigation only; each page lives in app_pages/."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="License Desk", layout="wide")

pages = [
    st.Page("app_pages/overview.py", title="Overview", default=True),
]
st.navigation(pages).run()
