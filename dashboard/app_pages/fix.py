"""Assign & fix: build a plan from a gap, preview it, confirm, apply, see per-item results.

Gaps: group members in error, a list of users, or the reclaim candidates chosen on the Reclaim
page (their direct assignments removed, or the downgrades chosen there: the cheaper SKU replaces
the licence in one call, with the monthly saving per currency).

Shown only when writes are enabled (LICENSE_DESK_ALLOW_WRITES=true). Planning is pure
(actions.plan); applying goes through actions.apply, which re-checks live seats and writes
the audit log before and after each change.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from actions.plan import (
    downgrade_pairs,
    parse_user_list,
    plan_assign,
    plan_downgrade,
    plan_remove_many,
    plan_reprocess,
    plan_tables,
)
from analysis.costs import seat_change_cost, snapshot_date
from analysis.downgrade_savings import downgrade_savings
from analysis.group_errors import groups_in_error
from analysis.user_files import decode
from dashboard import loaders, services, ui
from dashboard.settings import current_settings
from licensedesk.errors import InputError

ui.require("fix")
path, snapshot_id = ui.start_page("Assign & fix")
settings, problem = current_settings()
if settings is None:
    st.error(problem)
    st.stop()
if not settings.allow_writes:
    st.info(
        "Writes are disabled. Set LICENSE_DESK_ALLOW_WRITES=true and restart the dashboard to fix from here."
    )
    st.stop()
ui.snapshot_caption(loaders.snapshot_info(path, snapshot_id))
seats = loaders.seats(path, snapshot_id)
users = loaders.users(path, snapshot_id)
licenses = loaders.user_licenses(path, snapshot_id)
errors = loaders.group_errors(path, snapshot_id)

# The last apply's results come first: after it the plan is rebuilt from the fresh snapshot and
# usually has nothing left to do, which must not hide what was just done.
if "fix_results" in st.session_state:
    summary = st.session_state["fix_summary"]
    results = st.session_state["fix_results"]
    (st.success if (results["status"] == "succeeded").all() else st.warning)(summary)
    ui.table(results, key="fix_result_table")

reclaim: dict[str, list[str]] = st.session_state.get(ui.RECLAIM_TARGETS_KEY) or {}
downgrades: list[tuple[str, str, str]] = st.session_state.get(ui.DOWNGRADE_TARGETS_KEY) or []
sources = (
    (["Reclaim candidates"] if reclaim else [])
    + (["Reclaim downgrades"] if downgrades else [])
    + ["Group members in error", "A list of users"]
)
source = st.radio("Start from", sources, key="fix_source", horizontal=True)
if source == "Reclaim downgrades":
    st.caption(
        "Each downgrade is one call that adds the cheaper SKU and removes the current one, so the user is never "
        "without a licence; plans switched off in the current SKU stay off where the cheaper one has them. "
        "Downgrades beyond the cheaper SKU's available seats are left out, saying how many seats are missing."
    )
    if st.button("Forget these downgrades", key="fix_forget_downgrades"):
        st.session_state.pop(ui.DOWNGRADE_TARGETS_KEY, None)
        st.session_state.pop("fix_source", None)
        st.rerun()
    plan = plan_downgrade(downgrades, skus=seats, users=users, licenses=licenses,
                          service_plans=loaders.service_plans(path, snapshot_id))  # fmt: skip
elif source == "Reclaim candidates":
    st.caption(
        "Removes the direct assignments of the candidates chosen on the Reclaim page. A user who also gets the "
        "SKU through a group keeps it (0 seats freed)."
    )
    if st.button("Forget these candidates", key="fix_forget"):
        st.session_state.pop(ui.RECLAIM_TARGETS_KEY, None)
        st.session_state.pop("fix_source", None)
        st.rerun()
    plan = plan_remove_many(reclaim, skus=seats, users=users, licenses=licenses)
elif source == "Group members in error":
    if errors.empty:
        st.success("No group has members in error in this snapshot.")
        st.stop()
    per_group = groups_in_error(errors)  # worst first: likeliest reason to be here
    labels = {r.group_id: f"{r.group_name} ({r.members} in error)" for r in per_group.itertuples()}
    group_id = st.selectbox("Group", list(labels), format_func=labels.__getitem__, key="fix_group")
    st.caption(
        "Reprocessing asks Entra to apply the group's licences again: members waiting for a seat "
        "(CountViolation) get one if the SKU has free seats now; fix other causes first."
    )
    plan = plan_reprocess(group_id=group_id, skus=seats, users=users, licenses=licenses)
else:
    names = dict(zip(seats["sku_part_number"], seats["name"], strict=True))
    sku = st.selectbox("SKU", list(names), format_func=lambda p: f"{names[p]} ({p})", key="fix_sku")
    pasted = st.text_area(
        "Users: one user principal name per line, or a CSV with a userPrincipalName column", key="fix_users"
    )
    uploaded = st.file_uploader("…or upload a CSV of users", type=["csv", "txt"], key="fix_file")
    location = st.text_input(
        "Usage location to set for users who have none (two letters, optional)", key="fix_loc"
    )
    try:
        text = decode(uploaded.getvalue(), uploaded.name) if uploaded is not None else pasted
        targets = parse_user_list(text or "", source=uploaded.name if uploaded is not None else "The list")
    except InputError as exc:
        st.error(str(exc))
        st.stop()
    if not targets:
        st.info("Name at least one user to build a plan.")
        st.stop()
    plan = plan_assign(
        sku, targets, skus=seats, users=users, licenses=licenses,
        usage_location=location.strip().upper() or None,
    )  # fmt: skip

st.subheader("Preview")
changes, seat_table = plan_tables(plan)
for refusal in plan.refused:
    st.error(refusal.reason)
for skipped in plan.skipped:
    st.caption(f"Skipped: {skipped.reason}")
if changes.empty:
    st.info("This plan has no changes to send.")
    st.stop()
ui.table(changes, key="fix_changes")
ui.table(seat_table.drop(columns=["sku_id"]), key="fix_seats")
price_book = loaders.price_book(path)
on = snapshot_date(loaders.snapshot_info(path, snapshot_id)["started_at"])
if pairs := downgrade_pairs(plan):
    saving = downgrade_savings(pairs, price_book, on=on)
    priced = saving[saving["currency"].notna()]
    if not priced.empty:
        st.caption(
            "Saving per month: the current SKUs' price less the cheaper ones', at the prices in force."
        )
        ui.table(ui.money_table(priced, ["saving"]), key="fix_downgrade_saving",
                 config={"saving": st.column_config.TextColumn("saving per month")})  # fmt: skip
    for row in saving[saving["currency"].isna()].itertuples():
        st.caption(f"The saving of {row.downgrades} downgrade(s) is unknown: a SKU has no price (see Costs).")
if not price_book.empty and not seat_table.empty:
    money = seat_change_cost(seat_table, price_book, on=on)
    if not money.empty:
        st.caption(
            "Cost difference per month: assigning seats already paid for does not change the bill; it moves "
            "their cost from unassigned (waste) to assigned. Freed seats can be dropped at renewal."
        )
        shown = ui.money_table(money, ["assigned_cost_change", "unassigned_cost_change"])
        ui.table(shown, key="fix_costs")
    unpriced = sorted(set(seat_table["sku_part_number"]) - set(money["sku_part_number"]))
    if unpriced:
        st.caption(f"No price for {', '.join(unpriced)}: its cost difference is unknown (see Costs).")
if not plan.ok:
    st.warning("The plan is refused: nothing can be sent until the problems above are solved.")
    st.stop()

confirmed = st.checkbox(
    f"Send these {len(changes)} change(s) to tenant {settings.tenant_id}", key="fix_confirm"
)
if st.button("Apply", type="primary", disabled=not confirmed, key="fix_apply"):
    progress = st.progress(0.0, text="Sending changes…")
    total = len(changes)
    done: list[dict[str, object]] = []

    def show(result: object) -> None:
        done.append(ui.result_row(result))
        progress.progress(min(len(done) / total, 1.0), text=f"{len(done)} of {total} sent")

    try:
        outcome = services.apply(plan, settings, actor=ui.actor(), on_result=show)
    except Exception as exc:  # noqa: BLE001 - LicenseDeskError and transport errors alike: one sentence
        st.error(str(exc))
        st.stop()
    st.session_state["fix_results"] = pd.DataFrame(done)
    st.session_state["fix_summary"] = (
        f"Plan {outcome.plan_id}: {outcome.summary()}. "
        "A fresh snapshot was taken; every page now shows the result."
    )
    st.rerun()
