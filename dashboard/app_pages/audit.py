"""Audit: every change License Desk sent to the tenant (or refused to send), with its outcome."""

from __future__ import annotations

import streamlit as st

from analysis.audit import audit_counts, filter_audit
from dashboard import loaders, ui
from dashboard.settings import store_path

ui.require("audit")
ui.page_title("Audit")
path = store_path()
log = loaders.audit_log(path)
if log.empty:
    st.info("No change has been sent from License Desk yet.")
    st.stop()

left, middle, right = st.columns(3)
statuses = left.multiselect("Status", sorted(log["status"].unique()), key="audit_status")
actions = middle.multiselect("Action", sorted(log["action"].unique()), key="audit_action")
actors = right.multiselect("Who", sorted(log["actor"].unique()), key="audit_actor")
shown = filter_audit(log, statuses=statuses, actions=actions, actors=actors)
counts = audit_counts(shown)
cols = st.columns(4)
cols[0].metric("Changes", counts["changes"])
cols[1].metric("Succeeded", counts["succeeded"])
cols[2].metric("Failed", counts["failed"])
cols[3].metric("Refused or not sent", counts["not_applied"])
view = shown[
    [
        "created_at",
        "actor",
        "action",
        "user_principal_name",
        "sku_part_number",
        "status",
        "http_status",
        "request_id",
        "error",
        "plan_id",
    ]
]
st.caption(
    "Status: **succeeded** and **failed** are Graph's answers; **unknown**: sent, but Graph's answer never came "
    "(connection lost, or the apply interrupted), so check the user in the tenant before sending it again; "
    "**refused**: License Desk sent nothing; **not_sent**: part of a plan that stopped before it; **pending**: "
    "the process died while waiting for the answer."
)
ui.table(view, key="audit_table")
ui.downloads(view, "audit-log", key="audit")
