"""Which group an operator means (``--group``, ``--group-errors``): an id, or a display name
looked up among the snapshot's licensed groups and, where any group will do, in the tenant."""

from __future__ import annotations

import re

import pandas as pd

from collectors.graph import GraphClient
from collectors.groups import find_groups_named
from licensedesk.errors import InputError

GUID = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def group_id(group: str, licensed: pd.DataFrame, *, graph: GraphClient | None = None) -> str:
    """A group id from an id or a display name (any case).

    Any GUID is taken as a group id (a group that assigns no licence has no member in error).
    A name is looked up in ``licensed`` (the snapshot's licensed groups: ``group_id``,
    ``group_name``) and, when it is not there and ``graph`` is given, in the tenant itself.

    Raises:
        InputError: no group has that name, or several do.
    """
    key = group.strip().lower()
    if GUID.fullmatch(key):
        return key
    named = licensed[licensed["group_name"].fillna("").str.strip().str.lower() == key]
    found = sorted(set(zip(named["group_id"], named["group_name"], strict=True)))
    if not found and graph is not None:
        found = sorted(set(find_groups_named(graph, group.strip())))
    if len(found) > 1:
        ids = ", ".join(gid for gid, _ in found)
        raise InputError(
            f"{len(found)} groups are named {group.strip()!r} ({ids}): give the id of the one you mean."
        )
    if not found:
        where = "in the tenant" if graph is not None else "among the licensed groups of the latest snapshot"
        raise InputError(
            f"There is no group named {group.strip()!r} {where}; `license-desk report groups` lists the "
            "licensed ones, and any group can be given by its id."
        )
    return str(found[0][0])


def members_in_error(gid: str, group: str, licenses: pd.DataFrame) -> list[str]:
    """The user ids of group ``gid``'s members whose licence from it is in error (``group`` is
    how the operator named it).

    Raises:
        InputError: none is, so there is nothing to plan.
    """
    members = sorted(
        set(licenses[(licenses["assigned_by_group"] == gid) & (licenses["error"] != "")]["user_id"])
    )
    if not members:
        raise InputError(f"Group {group!r} has no members in error in the latest snapshot.")
    return members
