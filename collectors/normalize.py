"""Small, pure coercions for Graph values: GUIDs, dates, booleans, counts.

Graph payloads are trusted for shape but not for detail: ids come in mixed case, "never" is
``0001-01-01T00:00:00Z``, and a field can be missing, null or of the wrong type. Every collector
uses these so the store sees one spelling of each thing.
"""

from __future__ import annotations

from typing import Any

from analysis.disabled_plans import join_plan_ids

NEVER_PREFIX = "0001-01-01"
NO_ERROR = ""  # licenseAssignmentStates.error: Graph sends "None" (or null) for success


def guid(value: Any) -> str | None:
    """Lower-cased GUID text, or None when missing or not text."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()


def text(value: Any) -> str | None:
    """Stripped text, or None for null/empty/non-text."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    return value or None


def timestamp(value: Any) -> str | None:
    """An ISO-8601 timestamp as Graph sent it, or None for null, empty or the year-1 'never'."""
    if not isinstance(value, str) or not value or value.startswith(NEVER_PREFIX):
        return None
    return value


def flag(value: Any) -> int | None:
    """A Graph boolean as 1/0 (SQLite and PostgreSQL both take integers), None when unknown."""
    if isinstance(value, bool):
        return int(value)
    return None


def count(value: Any) -> int:
    """A non-negative unit count; missing or malformed counts read as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, float) and value.is_integer():
        return max(0, int(value))
    return 0


def license_error(value: Any) -> str:
    """``licenseAssignmentStates.error`` with null and the string "None" both meaning no error."""
    if value is None:
        return NO_ERROR
    value = str(value).strip()
    return NO_ERROR if value in ("", "None", "none") else value


def plan_list(value: Any) -> str:
    """Graph's ``disabledPlans`` as the store keeps them (``analysis.disabled_plans``); "" when
    missing or not a list, and ids that are not text are dropped."""
    if not isinstance(value, list):
        return ""
    return join_plan_ids(v for v in value if isinstance(v, str))
