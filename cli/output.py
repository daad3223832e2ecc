"""What the command line prints: strict JSON, CSV, and tables for people. Every command's output
goes through here, so a missing value reads the same everywhere: ``null`` in JSON, an empty cell
in CSV and tables (never ``NaN``, ``None`` or ``<NA>``).

JSON is written with ``allow_nan=False``: a value this module does not turn into JSON fails loudly
instead of reaching a script as the non-JSON ``NaN``.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from analysis.exports import escape_formula
from analysis.labels import table_labels

LIST_SEPARATOR = "; "


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: missing (NaN, NA, NaT, None) as None, numpy scalars as
    Python ones, timestamps as ISO-8601 text (UTC with a ``Z``), collections recursively.

    Raises:
        TypeError: a value of a type with no JSON form (a bug to fix here, not to hide with str()).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return timestamp_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series):
        items = list(value)
        return [jsonable(v) for v in (sorted(items) if isinstance(value, set | frozenset) else items)]
    raise TypeError(f"{type(value).__name__} has no JSON form")


def timestamp_text(value: dt.datetime) -> str:
    """A timestamp as the store writes them: UTC ``YYYY-MM-DDTHH:MM:SSZ`` (naive ones as they are)."""
    if value.tzinfo is None:
        return value.isoformat()
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_text(value: Any) -> str:
    """Strict JSON (what ``json.loads`` accepts with NaN and Infinity refused), indented by one."""
    return json.dumps(jsonable(value), indent=1, allow_nan=False)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready dicts."""
    rows: list[dict[str, Any]] = jsonable(frame.to_dict(orient="records"))
    return rows


def csv_text(frame: pd.DataFrame) -> str:
    """CSV with a header row: missing values empty, lists joined with "; ", timestamps ISO-8601,
    text that a spreadsheet would run as a formula neutralised (``analysis.exports.escape_formula``)."""
    text: str = _cells(frame, _csv_cell).to_csv(index=False)
    return text


def is_id_column(column: str) -> bool:
    """Columns of object ids (GUIDs): left out of tables for people unless asked for."""
    return column == "id" or column.endswith(("_id", "_ids"))


def table_text(
    frame: pd.DataFrame, *, show_ids: bool = False, hide: Iterable[str] = (), keep: Iterable[str] = ()
) -> str:
    """A table for people: friendly column labels (``analysis.labels.table_labels``), id columns
    only with ``show_ids`` (or named in ``keep``), ``hide`` left out, empty cells for missing
    values, yes/no for booleans, numbers to the right; ``(no rows)`` when there is none."""
    hidden, kept = set(hide), set(keep)
    columns = [
        c for c in frame.columns
        if c not in hidden and (show_ids or c in kept or not is_id_column(str(c)))
    ]  # fmt: skip
    if frame.empty or not columns:
        return "(no rows)"
    shown = frame[columns]
    labels = table_labels(str(c) for c in columns)
    cells = _cells(shown, _table_cell)
    lines: list[list[str]] = [[labels[str(c)] for c in columns]]
    lines += [[str(v) for v in row] for row in cells.itertuples(index=False)]
    numeric = [_numeric(shown[c]) for c in columns]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    out = []
    for line in lines:
        padded = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(line, widths, numeric, strict=True)
        ]
        out.append("  ".join(padded).rstrip())
    return "\n".join(out)


def _numeric(column: pd.Series) -> bool:
    present = [v for v in column.tolist() if not _missing(v)]
    return bool(present) and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        for v in present
    )


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _cells(frame: pd.DataFrame, cell: Any) -> pd.DataFrame:
    # dtype=object: whole numbers with a gap (an Int64 column with NA) stay whole, never 1.0.
    return pd.DataFrame(
        {c: pd.Series([cell(v, str(c)) for v in frame[c].tolist()], dtype=object) for c in frame.columns},
        columns=frame.columns,
    )


def _csv_cell(value: Any, column: str) -> Any:
    # Tenant text a spreadsheet would run as a formula (a display name "=HYPERLINK(...)") gets a
    # leading quote; numbers, money (Decimal: "-36.00" stays a number) and dates are left alone.
    text = isinstance(value, str)
    value = jsonable(value)
    if isinstance(value, list):
        return escape_formula(LIST_SEPARATOR.join("" if v is None else str(v) for v in value))
    return escape_formula(value) if text else value


def _table_cell(value: Any, column: str) -> str:
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return LIST_SEPARATOR.join("" if v is None else str(v) for v in value)
    if isinstance(value, float):
        if column == "utilization":
            return f"{value:.0%}"
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
