"""Files a person gives License Desk: Microsoft's SKU catalog, a list of users, a price book.

One reader for the three, so each is read by the same rules and each problem is one sentence
that starts with the file's name (and the row, when it is about a row):

- A file that does not exist, a directory, or a file that cannot be read: one sentence naming it.
- Encoding: UTF-8, with or without a BOM (Excel's "CSV UTF-8"). UTF-16 (Excel's "Unicode text")
  is refused as such; other bytes that are not UTF-8 (Excel's plain "CSV", Windows-1252) are
  refused naming the first row, and the column, holding one.
- Separator: commas; when the first row has no comma, semicolons or tabs (what Excel writes in
  locales whose decimal separator is a comma, and in "Unicode text").
- Cells follow CSV quoting; a quote left open, or text after a closing quote, is refused naming
  the row.
- Rows are numbered as a spreadsheet numbers them (the first row is 1, blank rows count); blank
  rows are skipped; CRLF and LF both end a row.
- A header is the first row that is not blank. Every data row must have as many fields as the
  header: a comma in an unquoted name shifts every later column, and the value read would be
  another column's.
- Problems with rows are all collected; a person is shown the first ``MAX_PROBLEMS_SHOWN`` and
  how many more, so a bad file of 200,000 rows is one screen.

Reading a local file is the only I/O here: no database, HTTP or UI.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from licensedesk.errors import InputError

__all__ = [
    "MAX_PROBLEMS_SHOWN",
    "CsvText",
    "Table",
    "decode",
    "normalised",
    "problems_error",
    "quoted",
    "read_csv",
    "read_file",
    "read_table",
    "shown_problems",
]

MAX_PROBLEMS_SHOWN = 20

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Bytes that are not UTF-8 survive decoding (errors="surrogateescape") as lone surrogates.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
# In a str pattern \s is Unicode whitespace: spaces, tabs, CR/LF, NBSP (U+00A0), U+2007, U+3000, ...
_WHITESPACE = re.compile(r"\s+")
# Invisible characters that are not whitespace but turn up in copied-and-pasted text.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SHOW_MAX = 60
_SAVE_AS = "save the file as CSV UTF-8"


def read_file(path: str | Path, source: str | None = None) -> str:
    """The text of a file the user named (``source`` names it in errors; the path by default).

    Raises:
        InputError: the file does not exist, is a directory, cannot be read, or is UTF-16.
    """
    name = str(path) if source is None else source
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a directory, not a file.") from None
    except OSError as exc:
        raise InputError(f"{name} cannot be read ({exc.strerror or type(exc).__name__}).") from None
    return decode(data, name)


def decode(data: bytes, source: str) -> str:
    """Bytes of a file (read, or uploaded) as text: UTF-8, a BOM dropped.

    Bytes that are not UTF-8 are kept as lone surrogates, so that :func:`read_csv` can name the
    row and column holding the first of them.

    Raises:
        InputError: the bytes are UTF-16 (they start with its byte order mark).
    """
    if data.startswith(_UTF16_BOMS):
        raise InputError(f'{source} is UTF-16 text (Excel\'s "Unicode text"); {_SAVE_AS}.')
    return data.decode("utf-8-sig", errors="surrogateescape")


def quoted(value: str) -> str:
    """A cell value quoted for a one-line message (repr escapes newlines and control characters)."""
    if len(value) > _SHOW_MAX:
        value = value[: _SHOW_MAX - 1] + "…"
    return repr(value)


def normalised(value: str) -> str:
    """Strip, drop invisible characters, and collapse every whitespace run (NBSP, tabs) to one space."""
    return _WHITESPACE.sub(" ", _INVISIBLE.sub("", value)).strip()


@dataclass(frozen=True)
class CsvText:
    """The rows of a CSV text that are not blank, numbered as a spreadsheet numbers them."""

    source: str
    rows: tuple[tuple[int, list[str]], ...]
    undecodable: bool
    """Some bytes were not UTF-8: :meth:`check_encoding` refuses the first row holding one."""

    def check_encoding(self, *, header: bool) -> None:
        """Refuse the first row with bytes that are not UTF-8; with ``header``, the first row is
        the header and a data row's bad cell is named by its column.

        Raises:
            InputError: one sentence naming the row (and the column).
        """
        if not self.undecodable:
            return
        names = [normalised(cell) for cell in self.rows[0][1]] if header and self.rows else []
        for index, (number, cells) in enumerate(self.rows):
            for position, cell in enumerate(cells):
                if not _UNDECODABLE.search(cell):
                    continue
                if not header:
                    raise InputError(f"{self.source}, row {number} is not UTF-8 text; {_SAVE_AS}.")
                if index == 0:
                    where = "the header"
                elif position < len(names):
                    where = f"the {names[position]} cell"
                else:
                    where = f"field {position + 1}"
                raise InputError(f"{self.source}, row {number}: {where} is not UTF-8 text; {_SAVE_AS}.")


def read_csv(text: str, source: str) -> CsvText:
    """The rows of a CSV text (see the module's rules); a leading BOM is dropped.

    Raises:
        InputError: the quoting is malformed (naming the row).
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text), strict=True)
    rows: list[tuple[int, list[str]]] = []
    number = 0
    while True:
        number += 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"{source}, row {number}: the CSV is malformed ({exc}).") from None
        if any(cell.strip() for cell in row):
            rows.append((number, row))
    return CsvText(source, tuple(rows), _UNDECODABLE.search(text) is not None)


def _dialect(text: str) -> type[csv.Dialect]:
    """Comma-separated unless the first row that is not blank has no comma and semicolons or tabs."""
    for line in io.StringIO(text, newline=""):
        if line.strip():
            if "," not in line:
                if ";" in line:
                    return _Semicolon
                if "\t" in line:
                    return csv.excel_tab
            break
    return csv.excel


class _Semicolon(csv.excel):
    delimiter = ";"


@dataclass(frozen=True)
class Table:
    """A CSV file with a fixed set of columns: its data rows, cells keyed by column."""

    rows: tuple[tuple[int, dict[str, str]], ...]
    """(row number, the cells by column name, as written) for rows of the right number of fields."""
    problems: tuple[tuple[int, str], ...]
    """(row number, sentence) for rows with another number of fields than the header."""


def read_table(text: str, source: str, columns: Sequence[str]) -> Table:
    """A CSV text whose header holds exactly ``columns``, in any order and any letter case.

    Raises:
        InputError: one sentence for an empty file, malformed quoting, bytes that are not UTF-8,
            a wrong header, or a header without data rows.
    """
    found = read_csv(text, source)
    if not found.rows:
        raise InputError(f"{source} is empty; expected the header {','.join(columns)}.")
    found.check_encoding(header=True)
    (header_row, header), data = found.rows[0], found.rows[1:]
    index = _header_index(header, header_row, source, columns)
    if not data:
        raise InputError(f"{source} has a header but no data rows.")
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[tuple[int, str]] = []
    for number, cells in data:
        if len(cells) != len(header):
            problems.append(
                (
                    number,
                    f"{source}, row {number}: found {len(cells)} fields where the header has {len(header)}.",
                )
            )
            continue
        rows.append((number, {name: cells[position] for name, position in index.items()}))
    return Table(tuple(rows), tuple(problems))


def _header_index(header: list[str], number: int, source: str, columns: Sequence[str]) -> Mapping[str, int]:
    """Column name -> position, or one sentence naming what is missing, unexpected or repeated."""
    names = [normalised(cell) for cell in header]
    keys = [name.casefold() for name in names]
    wanted = {name.casefold(): name for name in columns}
    repeated = sorted({wanted[key] for key in keys if key in wanted and keys.count(key) > 1})
    missing = [name for name in columns if name.casefold() not in keys]
    unexpected = [quoted(name) for name, key in zip(names, keys, strict=True) if key not in wanted]
    if not (repeated or missing or unexpected):
        return {wanted[key]: position for position, key in enumerate(keys)}
    problems = []
    if missing:
        problems.append(f"lacks {', '.join(missing)}")
    if unexpected:
        problems.append(f"has unexpected {', '.join(unexpected)}")
    if repeated:
        problems.append(f"repeats {', '.join(repeated)}")
    raise InputError(
        f"{source}, row {number}: the header {' and '.join(problems)}; "
        f"expected the header {','.join(columns)} (in any order)."
    )


def shown_problems(problems: Sequence[str]) -> list[str]:
    """The problems a person is shown: the first ``MAX_PROBLEMS_SHOWN``, then how many more."""
    shown = list(problems[:MAX_PROBLEMS_SHOWN])
    if len(problems) > len(shown):
        shown.append(f"... and {len(problems) - len(shown):,} more problem(s).")
    return shown


def problems_error(problems: Sequence[str], outcome: str) -> InputError:
    """One error for a file's problems: the problems shown (one sentence each, one per line) and,
    when there are several, ``outcome`` (what was not done, e.g. "Nothing was imported.")."""
    lines = shown_problems(problems)
    if len(problems) > 1:
        lines.append(outcome)
    return InputError("\n".join(lines))
