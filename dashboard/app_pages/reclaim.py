"""Reclaim: whose seat could be taken back, why (with the dated evidence), what frees it and what
it saves; the exemption list. Nothing is removed from here: with writes enabled, the chosen
candidates open as a removal plan (the downgrades as a downgrade plan) on the Assign & fix page,
which previews before anything is sent."""

from __future__ import annotations

import streamlit as st

from analysis.labels import sku_names
from analysis.reclaim import (
    REASONS,
    downgrade_targets,
    filter_candidates,
    reclaim_headline,
    reclaim_savings,
    reclaim_summary,
    removal_targets,
    saving_totals,
)
from analysis.users import find_user
from dashboard import loaders, services, ui, usage_loaders
from dashboard.settings import current_settings, inactive_days
from licensedesk.errors import LicenseDeskError

BASES = {"Per month": "month", "Per year": "year"}
FLASH = "reclaim_message"
KINDS = {"user": "User", "sku": "SKU"}
EXEMPTION_INPUTS = ("exempt_user", "exempt_sku", "exempt_note")
VIEW = [
    "user_principal_name", "display_name", "sku", "reason", "evidence", "action", "frees_seat", "last_sign_in",
    "created_at", "exempt", "exemption_note",
]  # fmt: skip

ui.require("reclaim")
path, snapshot_id = ui.start_page("Reclaim")
info = loaders.snapshot_info(path, snapshot_id)
ui.snapshot_caption(info)
ui.flash(FLASH)


def done(text: str) -> None:
    """Say what changed on the next run, with the exemption inputs emptied."""
    for key in EXEMPTION_INPUTS:
        st.session_state.pop(key, None)
    st.session_state[FLASH] = text
    st.rerun()


days = inactive_days()
seats = loaders.seats(path, snapshot_id)
exempted = loaders.exemptions(path)
found = loaders.candidates(path, snapshot_id, days, loaders.version(exempted))
st.caption(
    f"People: disabled accounts, users with no sign-in for {days} days or more (LICENSE_DESK_INACTIVE_DAYS), "
    f"users who never signed in and were created more than {days} days ago, and licensed guests. Redundant "
    "licences, decided from service plans: the same SKU direct and through a group (tidy, frees no seat), a "
    "SKU whose every plan another SKU of the user already gives, and the lesser of two overlapping suites. "
    "Free/viral and company-wide SKUs are never candidates. From the usage reports, for people who do sign in: "
    "licences none of whose apps were used, unused Copilot seats, licensed shared mailboxes, E5s whose premium "
    "plans are unused (downgrade to E3) and E3s without desktop apps (downgrade to F3 or E1); mailboxes on hold "
    "and licences younger than 30 days are kept (shown with the exempt rows)."
    + ("" if info["signin_available"] else " This snapshot has no sign-in data: nobody is called inactive.")
)
if (notice := usage_loaders.usage_notice(path, snapshot_id)) is not None:
    st.warning(notice)

filters = st.columns(3)
reasons = filters[0].multiselect(
    "Reason", list(REASONS), format_func=REASONS.__getitem__, key="reclaim_reasons"
)
with filters[1]:
    sku_id = ui.shared_sku(
        "SKU", seats[seats["sku_id"].isin(found["sku_id"].unique())], key="reclaim_sku", allow_all=True
    )
with filters[2]:
    departments = ui.shared_departments(
        "Department", loaders.departments(path, snapshot_id), key="reclaim_departments"
    )
switches = st.columns(2)
show_exempt = switches[0].toggle("Show exempt users and SKUs", key="reclaim_show_exempt")
basis = BASES[switches[1].radio("Savings", list(BASES), horizontal=True, key="reclaim_basis")]
# Every candidate's seat is a held seat: its holder's department is there, read only to filter by it.
holders = loaders.holders(path, snapshot_id, days) if departments else None
active = filter_candidates(found, holders, reasons=reasons, sku_id=sku_id, departments=departments)
listed = filter_candidates(
    found, holders, reasons=reasons, sku_id=sku_id, departments=departments, include_exempt=show_exempt
)

headline = reclaim_headline(active)
book = loaders.price_book(path)
savings = reclaim_savings(
    active, loaders.costs(path, snapshot_id, days, basis, loaders.version(book)), basis=basis
)
totals = saving_totals(savings).to_dict(orient="records")
priced = [t for t in totals if isinstance(t["currency"], str)]
row = st.columns(4)
row[0].metric("Candidates", ui.count(headline["candidates"]), help="One row per user, SKU and reason.")
row[1].metric("Users", ui.count(headline["users"]))
row[2].metric(
    "Seats to free",
    ui.count(headline["seats"]),
    help="Distinct seats the actions would free (a user once per SKU).",
)
row[3].metric(
    "Tidy-ups",
    ui.count(headline["tidy_ups"]),
    help="Direct assignments doubled by a group: removing them frees no seat.",
)
# Savings on a row of their own: a metric in a fifth or sixth column truncates "USD 3,690.00".
for column, total in zip(st.columns(max(4, len(priced))) if priced else [], priced, strict=False):
    column.metric(
        f"Saving per {basis}",
        ui.money(total["saving"], total["currency"]),
        help=f"{ui.count(total['seats'])} seats freed at the prices in force on the snapshot's date.",
    )
for total in totals:
    if not isinstance(total["currency"], str):
        st.caption(
            f"The saving of {ui.count(total['seats'])} seat(s) to free is unknown: their SKUs have no price "
            "(see Costs)."
        )

if found.empty:
    st.success("No reclaim candidate in this snapshot.")
elif listed.empty:
    st.markdown("No candidate matches the filters.")
else:
    st.subheader("By SKU and reason")
    left, right = st.columns(2)
    summary = reclaim_summary(active)
    summary["reason"] = summary["reason"].map(REASONS)
    with left:
        ui.table(summary.drop(columns=["sku_id"]), key="reclaim_summary")
    with right:
        ui.table(
            ui.money_table(savings, ["saving"]).drop(columns=["sku_id"]),
            key="reclaim_savings",
            config={"saving": st.column_config.TextColumn(f"saving per {basis}")},
        )

    st.subheader("Candidates")
    shown = ui.first_rows(listed, "candidates")
    shown = shown.assign(reason=shown["reason"].map(REASONS))[VIEW]
    settings, _problem = current_settings()
    writes = settings is not None and settings.allow_writes
    config = {
        "last_sign_in": st.column_config.DatetimeColumn("last sign-in", format="YYYY-MM-DD"),
        "evidence": st.column_config.TextColumn("evidence", width="large"),
        "action": st.column_config.TextColumn("action", width="large"),
    }
    if writes:
        event = ui.table(
            shown, key="reclaim_table", config=config,
            on_select="rerun", selection_mode="multi-row",
        )  # fmt: skip
        # The rows shown are the first of ``listed``: the same positions.
        picked = listed.iloc[[r for r in event.selection.rows if r < len(shown)]]
        targets = removal_targets(picked)
        downgrades = downgrade_targets(picked)
        st.caption(
            "Select candidates (the box at the start of a row) to plan removing their direct assignments, or "
            "downgrading them (premium plans or desktop apps unused: the cheaper SKU replaces the licence in one "
            "call). Licences inherited from a group are removed by changing the group's membership, exempt rows "
            "never: neither goes into a plan. The plan opens on Assign & fix, which previews it before anything "
            "is sent."
        )
        buttons = st.columns(2)
        if buttons[0].button(
            f"Plan removal for {ui.count(len(picked))} selected candidate(s)",
            key="reclaim_plan",
            disabled=not targets,
        ):
            st.session_state[ui.RECLAIM_TARGETS_KEY] = targets
            st.session_state.pop(ui.DOWNGRADE_TARGETS_KEY, None)
            st.session_state.pop("fix_source", None)
            st.switch_page("app_pages/fix.py")
        if buttons[1].button(
            f"Plan downgrade for {ui.count(len(downgrades))} selected candidate(s)",
            key="reclaim_downgrade",
            disabled=not downgrades,
        ):
            st.session_state[ui.DOWNGRADE_TARGETS_KEY] = downgrades
            st.session_state.pop(ui.RECLAIM_TARGETS_KEY, None)
            st.session_state.pop("fix_source", None)
            st.switch_page("app_pages/fix.py")
    else:
        ui.table(shown, key="reclaim_table", config=config)
        st.caption(
            "Nothing is removed from this page. The action column says how each seat is freed; set "
            "LICENSE_DESK_ALLOW_WRITES=true to turn selected candidates into a removal plan on Assign & fix."
        )
    ui.downloads(listed, "reclaim-candidates", key="reclaim_table")

st.subheader("Exemptions")
st.caption(
    "An exempt user or SKU is left out of the reclaim candidates, and only of those: its seats still count as "
    "waste on Costs. Every exemption says why."
)
if exempted.empty:
    st.markdown("No user or SKU is exempt.")
else:
    ui.table(exempted, key="exemptions_table")
names = sku_names(seats)
kind = st.radio("Exempt a", list(KINDS), format_func=KINDS.__getitem__, horizontal=True, key="exempt_kind")
if kind == "user":
    wanted = st.text_input("User principal name or user id", key="exempt_user")
else:
    wanted = st.selectbox(
        "SKU", sorted(names, key=lambda s: names[s].lower()), format_func=names.__getitem__, key="exempt_sku"
    )
note = st.text_input("Why (required)", key="exempt_note")
if st.button("Add exemption", key="exempt_add"):
    person = find_user(loaders.users(path, snapshot_id), wanted) if kind == "user" else None
    if kind == "user" and person is None:
        st.error(
            f"There is no user {wanted.strip()!r} in the latest snapshot."
            if wanted.strip()
            else "Name the user to exempt (user principal name or user id)."
        )
    else:
        target = str(person["user_principal_name"]) if person else str(wanted)
        label = ui.text(person["display_name"], target) if person else names.get(target, target)
        try:
            services.add_exemption(path, kind, target, note=note, label=label)
        except LicenseDeskError as exc:
            st.error(str(exc))
        else:
            done(f"{label} is exempt from reclaim: {note.strip()}")
if not exempted.empty:
    entries = exempted.to_dict(orient="records")
    pick = st.selectbox(
        "Remove an exemption",
        range(len(entries)),
        format_func=lambda i: (
            f"{KINDS[entries[i]['kind']]} {ui.text(entries[i]['label'], entries[i]['target_id'])}"
            f" — {entries[i]['note']}"
        ),
        key="exempt_remove_pick",
    )
    if st.button("Remove exemption", key="exempt_remove"):
        entry = entries[pick]
        services.remove_exemption(path, str(entry["kind"]), str(entry["target_id"]))
        done(f"{ui.text(entry['label'], entry['target_id'])} is no longer exempt from reclaim.")
