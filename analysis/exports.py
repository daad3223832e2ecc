"""Table downloads: the bytes of a CSV or an Excel workbook for any table the dashboard shows.

Both formats get the same cells: lists and tuples are joined with '; ', timestamps are written
in UTC (Excel has no time zones, so the workbook holds naive times that are UTC, like the CSV).
CSV is plain UTF-8 without a BOM, so scripts read it as they read the CLI's CSV; people who want
Excel get the workbook.

Tenant text (display names, departments, Graph's error messages) is not ours: a display name
``=HYPERLINK("http://evil","x")`` would be a live formula once a spreadsheet opens the file.
Both formats therefore go through ``escape_formulas`` (OWASP "CSV Injection"): a text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote,
and the CSV quotes every text field, so a separator inside a cell (a ``;`` where Excel's list
separator is ``;``) cannot start a new cell either. Numbers, booleans and dates are never text
here, so a negative number stays a number.

Pure pandas + openpyxl: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pandas as pd

from analysis.money import to_decimal

MIME_CSV = "text/csv"
MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
# What a spreadsheet reads as the start of a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Quote every text field and no number: see the module docstring.
CSV_QUOTING = csv.QUOTE_NONNUMERIC


def escape_formula(value: Any) -> Any:
    """``value`` as a spreadsheet cell that cannot be a formula: text starting with one of
    ``FORMULA_STARTS`` gets a leading ``'``; anything that is not text is returned as it is.

    For any tabular export of tenant text (the dashboard's downloads, the CLI's ``--format csv``).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        value = "; ".join(str(v) for v in value)
    return escape_formula(value)


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with ``escape_formula`` applied to every text cell (numeric, boolean and
    date columns are left as they are)."""
    out = frame.copy()
    for column in out.columns:
        if not (
            pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_datetime64_any_dtype(out[column])
        ):
            out[column] = out[column].map(escape_formula)
    return out


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as written to files: collections joined, text that could be a formula escaped,
    timestamps as naive UTC."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)):
            out[column] = series.map(_cell)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as CSV (UTF-8, header row, no index, text fields quoted, UTC times as ISO-8601
    with a Z)."""
    text: str = export_frame(frame).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ", quoting=CSV_QUOTING)
    return text.encode("utf-8")


def sheet_name(title: str) -> str:
    """A valid Excel sheet name: no []:*?/\\ and at most 31 characters."""
    cleaned = _SHEET_BAD.sub(" ", title).strip() or "data"
    return cleaned[:31]


def excel_bytes(frame: pd.DataFrame, title: str = "data") -> bytes:
    """The table as an .xlsx workbook with one sheet named after ``title``."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        export_frame(frame).to_excel(writer, sheet_name=sheet_name(title), index=False)
    return buffer.getvalue()


def major_units(frame: pd.DataFrame, columns: list[str], *, currency: str = "currency") -> pd.DataFrame:
    """The table with money ``columns`` (integer minor units, e.g. ``analysis.costs``) as exact
    Decimals in major units of each row's currency (3600 USD -> 36.00), None where the amount or
    the currency is missing: a CSV writes ``36.00`` and a workbook a number, never a float."""
    out = frame.copy()
    codes = out[currency].tolist()
    for column in columns:
        out[column] = [
            None
            if not isinstance(code, str) or value is None or pd.isna(value)
            else to_decimal(int(value), code)
            for value, code in zip(out[column].tolist(), codes, strict=True)
        ]
        out[column] = out[column].astype(object)
    return out
