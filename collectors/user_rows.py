"""A page of Graph users as rows for the store: the collector's hot loop, and nothing it does not need.

Kept apart from ``collectors.users`` (the sweep, which needs the HTTP client and the store's row
types) because it also runs in the page parser's process (``collectors.page_process``), which
imports only this: orjson and the ``normalize`` helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from collectors.normalize import NEVER_PREFIX, NO_ERROR, license_error, plan_list, text


@dataclass
class UserTuples:
    """A page's rows as plain tuples, in the field order of their row types (store.staging)."""

    users: list[tuple[Any, ...]] = field(default_factory=list)
    licenses: list[tuple[Any, ...]] = field(default_factory=list)
    assigned: list[tuple[str, str]] = field(default_factory=list)
    signins: list[tuple[Any, ...]] = field(default_factory=list)
    skipped: int = 0  # entries without an id


def user_page_tuples(page: list[dict[str, Any]], *, with_signins: bool) -> UserTuples:
    """Turn one page of Graph users into plain-tuple rows in the staging tables' column order.

    A user the page holds twice counts once (the first); one repeated on a later page is taken
    out by ``drop_repeated``, which knows the pages before.

    This loop runs once per user of the tenant and was most of the collector's own time, so it
    is written for CPython rather than for symmetry: plain tuples (a NamedTuple costs a Python
    call per row, and the store copies tuple subclasses into tuples), the common well-typed
    case checked inline, SKU and group ids lower-cased once per page rather than once per
    row, and the ``normalize`` helpers called only for values off that path. Every branch
    gives exactly what those helpers give (tests/collectors/test_rows.py compares the two on
    random odd payloads).
    """
    out = UserTuples()
    add_user, add_licence = out.users.append, out.licenses.append
    add_assigned, add_signin = out.assigned.append, out.signins.append
    seen_ids: set[str] = set()
    # Graph's spelling -> ours, for SKU and group ids: a tenant has a few dozen, on every user.
    ids: dict[str, str] = {}
    for item in page:
        if not isinstance(item, dict):
            out.skipped += 1
            continue
        get = item.get
        user_id = get("id")
        if isinstance(user_id, str) and (user_id := user_id.strip()):
            user_id = user_id.lower()
        else:
            out.skipped += 1
            continue
        if user_id in seen_ids:
            continue
        seen_ids.add(user_id)
        enabled = get("accountEnabled")
        created = get("createdDateTime")
        # Text fields inline: ``text()`` for anything but a str (or null), a call saved per field.
        upn, name, kind, location, department, company, title = (
            get("userPrincipalName"), get("displayName"), get("userType"), get("usageLocation"),
            get("department"), get("companyName"), get("jobTitle"),
        )  # fmt: skip
        add_user(
            (
                user_id,
                (upn.strip() or None) if type(upn) is str else None if upn is None else text(upn),
                (name.strip() or None) if type(name) is str else None if name is None else text(name),
                (1 if enabled else 0) if type(enabled) is bool else None,
                (kind.strip() or None) if type(kind) is str else None if kind is None else text(kind),
                (location.strip() or None)
                if type(location) is str
                else None
                if location is None
                else text(location),
                (department.strip() or None)
                if type(department) is str
                else None
                if department is None
                else text(department),
                (company.strip() or None)
                if type(company) is str
                else None
                if company is None
                else text(company),
                (title.strip() or None) if type(title) is str else None if title is None else text(title),
                created
                if isinstance(created, str) and created and not created.startswith(NEVER_PREFIX)
                else None,
            )
        )
        held: dict[str, Any] = {}
        for lic in get("assignedLicenses") or ():
            if not isinstance(lic, dict):
                continue
            raw = lic.get("skuId")
            if isinstance(raw, str):
                sku = ids.get(raw)
                if sku is None:
                    sku = ids[raw] = raw.strip().lower()
                if sku and sku not in held:
                    held[sku] = lic
                    add_assigned((user_id, sku))
        # (sku, assigning group) pairs already taken, and the SKUs that have any state entry.
        pairs: set[tuple[str, str]] = set()
        stated: set[str] = set()
        for state in get("licenseAssignmentStates") or ():
            if not isinstance(state, dict):
                continue
            sget = state.get
            raw = sget("skuId")
            if not isinstance(raw, str):
                continue
            sku = ids.get(raw)
            if sku is None:
                sku = ids[raw] = raw.strip().lower()
            if not sku:
                continue
            raw = sget("assignedByGroup")
            if isinstance(raw, str):
                source = ids.get(raw)
                if source is None:
                    source = ids[raw] = raw.strip().lower()
            else:
                source = ""
            pair = (sku, source)
            if pair in pairs:
                continue
            pairs.add(pair)
            stated.add(sku)
            status = sget("state")
            if not isinstance(status, str) or not (status := status.strip()):
                status = text(status) or "Unknown"
            error = sget("error")
            if error is None or error == "None":
                error = NO_ERROR
            else:
                error = license_error(error)
            plans = sget("disabledPlans")
            updated = sget("lastUpdatedDateTime")
            add_licence(
                (
                    user_id,
                    sku,
                    source,
                    status,
                    error,
                    plan_list(plans) if plans else "",
                    updated
                    if isinstance(updated, str) and updated and not updated.startswith(NEVER_PREFIX)
                    else None,
                )
            )
        # A licence in assignedLicenses with no state entry is still held: record it as direct.
        if not stated.issuperset(held):
            for sku in sorted(held.keys() - stated):
                add_licence((user_id, sku, "", "Active", "", plan_list(held[sku].get("disabledPlans")), None))
        if with_signins:
            activity = get("signInActivity")
            if isinstance(activity, dict):
                aget = activity.get
                last, background, success = (
                    aget("lastSignInDateTime"), aget("lastNonInteractiveSignInDateTime"),
                    aget("lastSuccessfulSignInDateTime"),
                )  # fmt: skip
                add_signin(
                    (
                        user_id,
                        last if type(last) is str and last and last[:10] != NEVER_PREFIX else None,
                        background
                        if type(background) is str and background and background[:10] != NEVER_PREFIX
                        else None,
                        success
                        if type(success) is str and success and success[:10] != NEVER_PREFIX
                        else None,
                    )
                )
            else:
                add_signin((user_id, None, None, None))
    return out


def drop_repeated(rows: UserTuples, seen: set[str]) -> UserTuples:
    """``rows`` without the users already taken from earlier pages (``seen``, to which this page's
    users are added): a user Graph repeats across pages counts once, from the first page that had
    them. Pages are made into rows one by one (in another process), so this is the one step that
    knows the pages before; Graph repeats a user only when it changes during the sweep, so the
    common case is one set test."""
    ids = [row[0] for row in rows.users]
    if seen.isdisjoint(ids):
        seen.update(ids)
        return rows
    repeated = seen.intersection(ids)
    seen.update(ids)

    def keep(table: list[Any]) -> list[Any]:
        return [row for row in table if row[0] not in repeated]

    return UserTuples(
        keep(rows.users), keep(rows.licenses), keep(rows.assigned), keep(rows.signins), rows.skipped
    )


# What decoding a page answers (``decode_page``): its rows, or why it has none.
CUT, NOT_OBJECT, NO_VALUE = "cut", "not-object", "no-value"


def decode_page(raw: bytes, *, with_signins: bool) -> tuple[Any, ...]:
    """One page's bytes as ``("ok", next_link, users, licenses, assigned, signins, skipped)``, or
    ``(CUT,)`` (not complete JSON: cut short), ``(NOT_OBJECT,)`` or ``(NO_VALUE,)``.

    Plain tuples, so that the answer pickles small and fast across the pipe; the caller turns a
    refusal into its error (``collectors.users``)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return (CUT,)
    if not isinstance(body, dict):
        return (NOT_OBJECT,)
    value = body.get("value")
    if not isinstance(value, list):
        return (NO_VALUE,)
    rows = user_page_tuples(value, with_signins=with_signins)
    return (
        "ok",
        body.get("@odata.nextLink"),
        rows.users,
        rows.licenses,
        rows.assigned,
        rows.signins,
        rows.skipped,
    )
