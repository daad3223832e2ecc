"""Rendering helpers every page shares: the first-run page, the snapshot caption, table downloads,
filters that carry over between pages, and number and money formatting.

Filters that make sense across pages (SKU, department) are remembered under plain session keys
(``SKU_KEY``, ``DEPARTMENTS_KEY``), not widget keys: Streamlit drops a widget's state when a page
without that widget runs, so each page seeds its own widget from the remembered value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from analysis.exports import MIME_CSV, MIME_XLSX, csv_bytes, excel_bytes
from analysis.labels import column_label, id_columns
from analysis.money import format_money
from dashboard import loaders
from dashboard.access import PAGE_ROLES, Role, may_open
from dashboard.settings import current_settings, current_tenant, store_path, table_rows
from dashboard.signin import access_state
from dashboard.tenancy import label
from licensedesk.errors import LicenseDeskError
from store.db import describe

SKU_KEY = "shared_sku"
# "All SKUs" in a picker: a selectbox whose value is None shows a placeholder, so it needs a real value.
ALL_SKUS = "*"
DEPARTMENTS_KEY = "shared_departments"
# Reclaim -> Assign & fix: {sku_id: [user_id]} whose direct assignments the admin chose to remove.
RECLAIM_TARGETS_KEY = "reclaim_targets"
# Reclaim -> Assign & fix: [(user_id, from sku_id, to sku_id)] the admin chose to downgrade.
DOWNGRADE_TARGETS_KEY = "downgrade_targets"
# The tenant those targets were chosen in (with tenants registered): they are dropped on a switch.
TARGETS_TENANT_KEY = "targets_tenant"
FIRST_RUN_TENANT = (
    "No snapshot yet of {tenant} in {path}. Run `license-desk collect --all`, or **Collect now** on the "
    "Data page (admins)."
)
FIRST_RUN = (
    "No snapshot yet in {path}. Run `license-desk collect` for your tenant, "
    "or `license-desk demo` for the simulated demo tenant."
)
HOW_TO_CONFIGURE = """To collect from your tenant, register an app in Entra ID with the application permissions
`Organization.Read.All`, `User.Read.All`, `Group.Read.All` and `AuditLog.Read.All` (admin consent), then set
`LICENSE_DESK_TENANT_ID`, `LICENSE_DESK_CLIENT_ID` and `LICENSE_DESK_CLIENT_SECRET` (or
`LICENSE_DESK_CLIENT_CERTIFICATE`) in the environment of the dashboard and restart it. The README's
"Connecting a real tenant" section has the steps."""


def start_page(title: str) -> tuple[str, int]:
    """Draw the title and return (store path, latest snapshot id); without a snapshot, draw the
    first-run page and stop the script."""
    page_title(title)
    path = store_path()
    try:
        snapshot_id = loaders.latest_snapshot(path)
    except LicenseDeskError as exc:
        st.error(str(exc))
        st.stop()
    if snapshot_id is None:
        first_run(path)
        st.stop()
    return path, snapshot_id


def page_title(title: str) -> None:
    """The page's title and, when tenants are registered, which one it shows."""
    st.title(title)
    entry = current_tenant()
    if entry is not None:
        st.caption(f"Tenant: {label(entry)}")


def first_run(path: str) -> None:
    """What to do when the store holds no snapshot yet."""
    entry = current_tenant()
    if entry is not None:
        st.info(FIRST_RUN_TENANT.format(tenant=label(entry), path=describe(path)))
        return
    st.info(FIRST_RUN.format(path=describe(path)))
    st.markdown(
        "The **Data** page can take the first snapshot once a tenant is configured. " + HOW_TO_CONFIGURE
    )


def flash(key: str) -> None:
    """Show, once, the success message an action left under ``key`` before its rerun."""
    message = st.session_state.pop(key, None)
    if message:
        st.success(message)


def snapshot_caption(info: dict[str, Any]) -> None:
    """Which snapshot the page shows, when it was taken, and its warnings."""
    st.caption(f"Snapshot {info['id']} of tenant {info['tenant_id']}, taken {when(info['started_at'])}")
    for warning in info["warnings"]:
        st.warning(warning)


def first_rows(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """The first ``LICENSE_DESK_TABLE_ROWS`` rows of a table to show, with a caption when some are
    left out (``what`` names the rows, e.g. "candidates"); place the table's downloads after it."""
    limit = table_rows()
    if len(frame) <= limit:
        return frame
    st.caption(
        f"Showing the first {count(limit)} of {count(len(frame))} {what}: narrow them with the filters, "
        "or download all of them below."
    )
    return frame.iloc[:limit]


# The sidebar's "Show ids" toggle (dashboard/app.py): object ids stay out of tables until asked for.
SHOW_IDS_KEY = "show_ids"
_UNSET = object()


def column_config(
    frame: pd.DataFrame, given: Mapping[str, Any] | None = None, *, hide_ids: bool = True
) -> dict[str, Any]:
    """Column settings for a table people read: every header from ``analysis.labels`` (a page's
    own label kept when it is not a key), and GUID columns hidden unless "Show ids" is on.

    Args:
        given: the page's own ``column_config`` (types, formats, widths; None hides a column,
            and "Show ids" shows it again when it holds ids).
        hide_ids: hide GUID columns unless "Show ids" is on; off for editors, whose cells may be
            ids the user types (and whose hidden columns stay hidden).
    """
    show_ids = bool(st.session_state.get(SHOW_IDS_KEY, False))
    ids = set(id_columns(frame))
    out: dict[str, Any] = {}
    for column in map(str, frame.columns):
        setting = (given or {}).get(column, _UNSET)
        guid = column in ids
        # A page's None hides a column; for a read-only table "Show ids" shows its ids again.
        hidden = (
            not (hide_ids and show_ids and guid) if setting is None else hide_ids and guid and not show_ids
        )
        if hidden:
            out[column] = None
            continue
        merged: dict[str, Any] = {}
        if isinstance(setting, str):
            merged = {"label": setting}
        elif isinstance(setting, Mapping):
            merged = dict(setting)
        label = merged.get("label")
        if isinstance(label, str) and label and label != column and "_" not in label:
            merged["label"] = label[:1].upper() + label[1:]
        else:
            merged["label"] = column_label(column)
        out[column] = merged
    return out


def table(frame: pd.DataFrame, *, key: str, config: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
    """``st.dataframe`` for people: friendly headers, no GUID columns unless "Show ids" is on,
    missing values as empty cells, no index, full width. Returns what ``st.dataframe`` returns
    (the selection event when ``on_select`` is given)."""
    return st.dataframe(
        frame,
        key=key,
        hide_index=True,
        width="stretch",
        placeholder="",
        column_config=column_config(frame, config),
        **kwargs,
    )


def downloads(frame: pd.DataFrame, name: str, *, key: str) -> None:
    """CSV and Excel download buttons for a table; the bytes are built only when clicked."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "Download CSV",
        data=partial(csv_bytes, frame),
        file_name=f"{name}.csv",
        mime=MIME_CSV,
        key=f"{key}_csv",
        on_click="ignore",
    )
    right.download_button(
        "Download Excel",
        data=partial(excel_bytes, frame, name),
        file_name=f"{name}.xlsx",
        mime=MIME_XLSX,
        key=f"{key}_xlsx",
        on_click="ignore",
    )


def _remember(widget_key: str, shared_key: str) -> None:
    # Only a person's choice is shared: a page's automatic default must not filter other pages.
    value = st.session_state[widget_key]
    st.session_state[shared_key] = None if value == ALL_SKUS else value


def shared_sku(
    label: str, seats: pd.DataFrame, *, key: str, allow_all: bool = False, default: str | None = None
) -> str | None:
    """A SKU picker that starts from the SKU last chosen on any page.

    Args:
        seats: ``seat_table`` rows offered (by name).
        key: this page's widget key.
        allow_all: offer "All SKUs" (``ALL_SKUS``, returned as None) first.
        default: the SKU to start from when nothing is remembered (else the first option).

    Returns:
        The chosen SKU id, or None for all SKUs (or when there is no SKU at all).
    """
    names = dict(zip(seats["sku_id"], seats["name"], strict=True))
    ordered = sorted(names, key=lambda s: (names[s].lower(), s))
    options = [*([ALL_SKUS] if allow_all else []), *ordered]
    if not options:
        return None
    remembered = st.session_state.get(SKU_KEY)
    if st.session_state.get(key) not in options:
        start = remembered if remembered in options else default if default in options else options[0]
        st.session_state[key] = start
    choice: str = st.selectbox(
        label,
        options,
        key=key,
        format_func=lambda s: "All SKUs" if s == ALL_SKUS else names[s],
        on_change=_remember,
        args=(key, SKU_KEY),
    )
    return None if choice == ALL_SKUS else choice


def _remember_one(widget_key: str) -> None:
    chosen = st.session_state[widget_key]
    if len(chosen) == 1:
        st.session_state[SKU_KEY] = chosen[0]


def shared_skus(label: str, names: dict[str, str], *, key: str, default: Sequence[str]) -> list[str]:
    """A multi-SKU picker that starts from the SKU last chosen on any page (else ``default``);
    choosing exactly one SKU here shares it with the other pages."""
    if key not in st.session_state:
        remembered = st.session_state.get(SKU_KEY)
        st.session_state[key] = [remembered] if remembered in names else [s for s in default if s in names]
    ordered = sorted(names, key=lambda s: (names[s].lower(), s))
    chosen: list[str] = st.multiselect(
        label, ordered, key=key, format_func=names.__getitem__, on_change=_remember_one, args=(key,)
    )
    return chosen


def shared_departments(label: str, options: Sequence[str], *, key: str) -> list[str]:
    """A department multiselect that starts from the departments last chosen on any page."""
    if key not in st.session_state:
        remembered = st.session_state.get(DEPARTMENTS_KEY, [])
        st.session_state[key] = [d for d in remembered if d in options]
    chosen: list[str] = st.multiselect(
        label, list(options), key=key, on_change=_remember, args=(key, DEPARTMENTS_KEY)
    )
    return chosen


def count(n: int) -> str:
    """1,234 (negative numbers keep their sign)."""
    return f"{n:,}"


def signed(n: int) -> str:
    """+3, -1 or 0: a change."""
    return f"{n:+,}" if n else "0"


def percent(value: float | None) -> str:
    """'87%', or 'n/a' when undefined (nothing purchased)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.0%}"


def money(minor: Any, currency: Any, missing: str = "—") -> str:
    """'USD 1,234.50' from integer minor units; '0' for a free SKU's zero without a currency; or
    ``missing`` when the amount is unknown (NA: no price, or no sign-in data), never a made-up 0."""
    if minor is None or pd.isna(minor):
        return missing
    if not isinstance(currency, str):
        return "0" if int(minor) == 0 else missing
    return format_money(int(minor), currency)


def money_table(frame: pd.DataFrame, columns: Sequence[str], *, currency: str = "currency") -> pd.DataFrame:
    """A table with its money columns (minor units) as text in each row's currency, for showing."""
    out = frame.copy()
    for column in columns:
        out[column] = [money(m, c) for m, c in zip(out[column], out[currency], strict=True)]
    return out


def when(value: Any) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM UTC', '—' when missing."""
    stamp = (
        pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601")
        if isinstance(value, str)
        else value
    )
    if stamp is None or pd.isna(stamp):
        return "—"
    return f"{pd.Timestamp(stamp).tz_convert('UTC'):%Y-%m-%d %H:%M} UTC"


def when_each(values: Sequence[Any]) -> list[str]:
    """``when`` of many timestamps at once (one parse for all: a year of daily snapshots is 365)."""
    stamps = pd.to_datetime(
        pd.Series(list(values), dtype=object), utc=True, errors="coerce", format="ISO8601"
    )
    return ["—" if pd.isna(stamp) else f"{stamp:%Y-%m-%d %H:%M} UTC" for stamp in stamps]


def text(value: Any, fallback: str) -> str:
    """A text cell, or ``fallback`` when it is missing (None, NaN or empty)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return fallback
    return str(value)


COLLECTION_STEPS = ("subscribed SKUs", "subscriptions", "users", "licensed groups", "saving")


def collection_progress(step: str) -> float:
    """How far a collection is (0..1) once it has reached ``step`` (``collectors.snapshot.Progress``)."""
    return (COLLECTION_STEPS.index(step) + 1) / len(COLLECTION_STEPS) if step in COLLECTION_STEPS else 0.0


def actor() -> str:
    """Who is applying a plan: the signed-in user's e-mail when sign-in is configured."""
    user = st.user.to_dict() if hasattr(st.user, "to_dict") else dict(st.user)
    if user.get("is_logged_in") and user.get("email"):
        return f"dashboard:{user['email']}"
    return "dashboard:local"


def result_row(result: Any) -> dict[str, object]:
    """One applied change as a row of the results table."""
    return {
        "change": result.change.describe(),
        "status": result.status,
        "http_status": result.http_status,
        "request_id": result.request_id,
        "error": result.error,
    }


def fix_button(label: str, *, key: str, state: dict[str, object]) -> None:
    """A button that opens Assign & fix with its inputs filled in; absent unless writes are enabled."""
    loaded, _problem = current_settings()
    if loaded is None or not loaded.allow_writes:
        return
    if st.button(label, key=key):
        for name, value in state.items():
            st.session_state[name] = value
        st.switch_page("app_pages/fix.py")


def require(page: str) -> None:
    """Stop the page unless the person may open it (the navigation hides it too; this is the lock)."""
    config, _person, roles = access_state()
    if config.problem:
        st.error(config.problem)
        st.stop()
    if not may_open(page, roles):
        needed = PAGE_ROLES.get(page, Role.VIEWER).value
        st.error(f"This page needs the {needed} role; ask a License Desk administrator.")
        st.stop()
