"""Microsoft 365 usage report CSVs read as they stream in: one compact row per user principal name.

Why streamed and by column name: a 100,000-user report is tens of megabytes, and Graph has added
columns to these reports over the years (and documents a shorter header than some tenants get),
so rows are parsed as the bytes arrive, by header name, never by position. The quirks handled:
a UTF-8 byte-order mark, CRLF or LF, "Report Refresh Date" on every row, empty cells for dates
never reached, "True"/"False" and "Yes"/"No" flags, and concealed names (32 hex digits where the
user principal name should be; see ``looks_concealed``). Imports licensedesk.errors only.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from licensedesk.errors import GraphError

HOLD_QUOTA = 100 * 1024**3  # Exchange raises Recoverable Items to 100 GB for a mailbox on hold
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HASH = re.compile(r"^[0-9A-Fa-f]{32}$")


@dataclass
class ParsedReport:
    """One report's rows: lower-cased principal name -> the report's fields (in ``fields`` order)."""

    fields: tuple[str, ...]
    rows: dict[str, tuple[object, ...]]
    refresh_date: str | None = None
    concealed: bool = False


def text_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Lines (with their endings) of a UTF-8 byte stream, without a leading BOM."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    rest = ""
    for chunk in chunks:
        rest += decoder.decode(chunk)
        *lines, rest = rest.splitlines(keepends=True) or [""]
        # splitlines puts a finished last line in `lines` only if it ends with a newline.
        if rest.endswith(("\n", "\r")):
            lines.append(rest)
            rest = ""
        yield from lines
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


def date_or_none(value: str) -> str | None:
    value = value.strip()
    return value if len(value) == 10 and _DATE.match(value) else None


_FLAGS = {"true": 1, "yes": 1, "false": 0, "no": 0}


def flag(value: str) -> int | None:
    return _FLAGS.get(value.strip().lower())


def number(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def optional_text(value: str) -> str | None:
    return value.strip() or None


def looks_concealed(name: str) -> bool:
    """A concealed report replaces names with a 32-hex-digit hash: no '@', nothing to join on."""
    return "@" not in name and bool(_HASH.match(name.strip()))


# report key -> (the column naming the user, then output field -> (column, converter))
SPECS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "active": ("User Principal Name", {
        "exchange_at": ("Exchange Last Activity Date", "date"),
        "onedrive_at": ("OneDrive Last Activity Date", "date"),
        "sharepoint_at": ("SharePoint Last Activity Date", "date"),
        "teams_at": ("Teams Last Activity Date", "date"),
        "yammer_at": ("Yammer Last Activity Date", "date"),
    }),
    "apps": ("User Principal Name", {
        "apps_at": ("Last Activity Date", "date"),
        "windows": ("Windows", "flag"),
        "mac": ("Mac", "flag"),
        "mobile": ("Mobile", "flag"),
        "web": ("Web", "flag"),
    }),
    "mailbox": ("User Principal Name", {
        "mailbox_at": ("Last Activity Date", "date"),
        "mailbox_bytes": ("Storage Used (Byte)", "number"),
        "has_archive": ("Has Archive", "flag"),
        "recoverable_quota": ("Deleted Item Quota (Byte)", "optional_number"),
        "recipient_type": ("Recipient Type", "optional_text"),
    }),
    "onedrive": ("Owner Principal Name", {
        "onedrive_at": ("Last Activity Date", "date"),
        "onedrive_bytes": ("Storage Used (Byte)", "number"),
    }),
    "copilot": ("User Principal Name", {"copilot_at": ("Last Activity Date", "date")}),
}  # fmt: skip
_CONVERT = {"date": date_or_none, "flag": flag, "number": number, "optional_number": number,
            "optional_text": optional_text}  # fmt: skip
# Kinds whose cells take few distinct values (a few hundred dates, "True"/"No"/"", mailbox types):
# converted once per distinct cell. A Python call per cell was most of the parsing (half a
# million rows, two million cells); a dict hit is C (benchmarks/bench_usage.py). It also shares
# one value object per distinct cell: each date cell's own copy would cost ~60 bytes.
_REPEATING = {"date", "flag", "optional_text"}
_MEMO_KEPT = 20_000


class _Memo(dict[str, object]):
    """Cell text -> converted value, filled as cells come (bounded: a column of all-distinct text
    keeps converting past the bound)."""

    def __init__(self, convert: Callable[[str], object]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, cell: str) -> object:
        value = self._convert(cell)
        if len(self) < _MEMO_KEPT:
            self[cell] = value
        return value


def _converter(kind: str) -> Callable[[str], object]:
    convert = _CONVERT[kind]
    return _Memo(convert).__getitem__ if kind in _REPEATING else convert


class ReportReader:
    """One report's rows as they stream in: iterate for (lower-cased principal name, the report's
    fields in ``fields`` order); afterwards ``refresh_date`` and ``concealed`` say what was seen.

    Raises (on creation):
        GraphError: the header lacks a column the report must have (one sentence naming it).
    """

    def __init__(self, key: str, lines: Iterable[str], what: str) -> None:
        name_column, wanted = SPECS[key]
        self.fields = tuple(wanted)
        self.refresh_date: str | None = None
        self.concealed = False
        self._reader = csv.reader(lines)
        first = next(self._reader, None)
        header = first or []
        index = {column.strip(): i for i, column in enumerate(header)}
        missing = [c for c, kind in [(name_column, "text"), *wanted.values()]
                   if c not in index and not kind.startswith("optional")]  # fmt: skip
        if first is not None and missing:
            raise GraphError(f"Graph's {what} report has no column {', '.join(repr(c) for c in missing)}.")
        self._name_at = index.get(name_column, 0)
        self._refresh_at = index.get("Report Refresh Date")
        self._getters = [(index.get(column), _converter(kind)) for column, kind in wanted.values()]
        self._width = len(header)

    def __iter__(self) -> Iterator[tuple[str, tuple[object, ...]]]:
        if not self._width:
            return  # an empty download: no header, no rows
        name_at, getters, width = self._name_at, self._getters, self._width
        for row in self._reader:
            if len(row) < width or not row[name_at]:
                continue  # a blank or cut line: no user to key it by
            name = row[name_at].strip()
            if looks_concealed(name):
                self.concealed = True
                continue  # never keyed: a hash must not be joined to anyone
            if self._refresh_at is not None and self.refresh_date is None:
                self.refresh_date = date_or_none(row[self._refresh_at])
            yield name.lower(), tuple([None if at is None else convert(row[at]) for at, convert in getters])


def parse_report(key: str, lines: Iterable[str], what: str) -> ParsedReport:
    """One report's CSV lines as a whole: rows keyed by lower-cased principal name (none at all
    when any name was concealed).

    Raises:
        GraphError: the header lacks a column the report must have (one sentence naming it).
    """
    reader = ReportReader(key, lines, what)
    rows = dict(reader)
    if reader.concealed:
        rows.clear()
    return ParsedReport(reader.fields, rows, reader.refresh_date, reader.concealed)
