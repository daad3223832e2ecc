"""Table downloads: the bytes of a CSV or an Excel workbook for any table the dashboard shows.

Both formats get the same cells: lists and tuples are joined with '; ', timestamps are written
in UTC (Excel has no time zones, so the workbook holds naive times that are UTC, like the CSV). CSV is plain UTF-8 without a BOM, so scripts read it as they read the CLI's CSV; people
who want Excel get the workbook.

Pure pandas + openpyxl: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pandas as pd

from analysis.money import to_decimal

MIME_CSV = "text/csv"
MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(v) for v in value)
    return value


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as written to files: collections joined, timestamps as naive UTC."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype == object:
            out[column] = series.map(_cell)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as CSV (UTF-8, header row, no index, UTC times as ISO-8601 with a Z)."""
    text: str = export_frame(frame).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
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
