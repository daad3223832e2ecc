"""Disabled service plans as the store keeps them: one text per assignment.

The representation is the plan ids (lower-case GUIDs), each once, sorted and joined by commas;
``""`` when no plan is disabled. Two assignments with the same plans off hold the same text, so
the text itself is a key (history compares it; analysis groups thousands of holders by it).
:func:`join_plan_ids` writes it (the collectors, from Graph's ``disabledPlans``) and
:func:`split_plan_ids` reads it (every analysis of which plans a holder has); nothing else
splits or joins it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

SEPARATOR = ","


def join_plan_ids(plan_ids: Iterable[str]) -> str:
    """The stored text for these plan ids (any case and surrounding spaces; blanks dropped)."""
    return SEPARATOR.join(sorted({key for plan_id in plan_ids if (key := plan_id.strip().lower())}))


@functools.lru_cache(maxsize=4096)  # a tenant has a handful of distinct texts, held by thousands
def split_plan_ids(text: object) -> frozenset[str]:
    """The plan ids in a stored text; none for ``""``, and for a missing value (None, NaN)."""
    if not isinstance(text, str):
        return frozenset()
    return frozenset(key for part in text.split(SEPARATOR) if (key := part.strip().lower()))
