"""The price book as CSV: parse and validate (every bad row named), and write it back out.

The file has exactly the columns ``sku,unit_price,currency,period,effective_from`` (any order):

- ``sku``: a part number (``SPE_E3``, any case) or a skuId, resolved against the latest snapshot
  first and then the catalog. A part number the catalog gives two skuIds (and the snapshot does
  not settle) is refused as ambiguous: write the skuId.
- ``unit_price``: one seat for one ``period``, in major units with a dot (``36``, ``36.00``,
  ``0.2``); not negative, at most the currency's minor digits.
- ``currency``: an ISO 4217 code (``USD``; any case).
- ``period``: ``month`` or ``year``.
- ``effective_from``: an ISO date (``2025-04-01``): the price applies from that day on.

Rows are numbered as a spreadsheet numbers them (the header is row 1). Every bad row gets one
sentence naming it; a row repeating an earlier row's (SKU, currency, effective_from) is refused
too. Validation is all-or-nothing: a caller gets the rows only when there is no problem at all.
The same checks serve the dashboard's price editor (``validate_price_records``).

Pure Python and pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from analysis.exports import escape_formula
from analysis.money import PERIODS, amount_text, is_currency, parse_amount
from analysis.user_files import read_table, shown_problems
from licensedesk.errors import InputError

CSV_COLUMNS = ("sku", "unit_price", "currency", "period", "effective_from")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_SHOWN = 40


@dataclass(frozen=True)
class PriceRow:
    """One validated price-book row."""

    sku_id: str
    sku_part_number: str
    unit_price_minor: int
    currency: str
    period: str
    effective_from: str


@dataclass(frozen=True)
class SkuIndex:
    """What ``sku`` cells resolve against: the latest snapshot's SKUs, then the catalog's."""

    by_id: Mapping[str, str]
    """skuId (lower case) -> part number."""
    by_part: Mapping[str, tuple[str, ...]]
    """Part number (upper case) -> skuIds, from the most trusted source that has it."""

    @classmethod
    def build(cls, *frames: pd.DataFrame) -> SkuIndex:
        """From frames of ``sku_id``, ``sku_part_number`` in order of trust (``store.prices.sku_index``
        passes the latest snapshot's SKUs, the catalog's, then those already priced): a part
        number resolves within the first frame that has it."""
        by_id: dict[str, str] = {}
        by_part: dict[str, tuple[str, ...]] = {}
        for frame in frames:
            parts: dict[str, set[str]] = {}
            for sku_id, part in zip(frame["sku_id"], frame["sku_part_number"], strict=True):
                key = str(sku_id).strip().lower()
                name = str(part).strip() if isinstance(part, str) and part.strip() else key
                by_id.setdefault(key, name)
                parts.setdefault(name.upper(), set()).add(key)
            for part_key, ids in parts.items():
                by_part.setdefault(part_key, tuple(sorted(ids)))
        return cls(by_id=by_id, by_part=by_part)

    def resolve(self, text: str) -> tuple[str, str] | str:
        """(skuId, part number), or the reason it does not resolve (a phrase)."""
        key = text.strip()
        if key.lower() in self.by_id:
            return key.lower(), self.by_id[key.lower()]
        ids = self.by_part.get(key.upper(), ())
        if len(ids) == 1:
            return ids[0], self.by_id[ids[0]]
        if len(ids) > 1:
            return f"is ambiguous (skuIds {', '.join(ids)}); write the skuId instead"
        return "is neither a part number nor a skuId in the latest snapshot or the catalog"


def _show(value: object) -> str:
    text = "" if value is None else str(value)
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…")


def _check(cells: Mapping[str, object], skus: SkuIndex) -> tuple[PriceRow | None, list[str]]:
    """A row's PriceRow, or the phrases saying what is wrong with it."""
    problems: list[str] = []
    raw = {name: _cell_text(cells.get(name)) for name in CSV_COLUMNS}
    for name in CSV_COLUMNS:
        if not raw[name]:
            problems.append(f"{name} is empty")
    resolved = skus.resolve(raw["sku"]) if raw["sku"] else None
    if isinstance(resolved, str):
        problems.append(f"SKU {_show(raw['sku'])} {resolved}")
    currency = raw["currency"].upper()
    if raw["currency"] and not is_currency(currency):
        problems.append(f"currency {_show(raw['currency'])} is not an ISO 4217 currency code")
    minor: int | None = None
    if raw["unit_price"]:
        try:
            minor = parse_amount(raw["unit_price"], currency if is_currency(currency) else "USD")
        except ValueError as exc:
            problems.append(f"unit_price {_show(raw['unit_price'])} {exc}")
    period = raw["period"].lower()
    if raw["period"] and period not in PERIODS:
        problems.append(f"period {_show(raw['period'])} must be month or year")
    if raw["effective_from"] and not _is_date(raw["effective_from"]):
        problems.append(f"effective_from {_show(raw['effective_from'])} is not a date written YYYY-MM-DD")
    if problems or not isinstance(resolved, tuple) or minor is None:
        return None, problems
    row = PriceRow(resolved[0], resolved[1], minor, currency, period, raw["effective_from"])
    return row, []


def _cell_text(value: object) -> str:
    """A cell as stripped text; None and NaN (an editor's new, untouched cell) are empty."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def _is_date(text: str) -> bool:
    if not _ISO_DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _validate(
    numbered: Iterable[tuple[int, Mapping[str, object]]], skus: SkuIndex, prefix: str
) -> tuple[list[PriceRow], list[tuple[int, str]]]:
    rows: list[PriceRow] = []
    problems: list[tuple[int, str]] = []
    first_seen: dict[tuple[str, str, str], int] = {}
    for number, cells in numbered:
        row, phrases = _check(cells, skus)
        if row is None:
            problems.append((number, f"{prefix} {number}: {' and '.join(phrases)}."))
            continue
        key = (row.sku_id, row.currency, row.effective_from)
        if key in first_seen:
            problems.append((number, f"{prefix} {number}: repeats row {first_seen[key]} ({row.sku_part_number}, "
                                     f"{row.currency}, effective {row.effective_from}); keep one of the two."))  # fmt: skip
            continue
        first_seen[key] = number
        rows.append(row)
    return rows, problems


def validate_price_records(
    records: Iterable[Mapping[str, object]], skus: SkuIndex, *, source: str = "", first_row: int = 2
) -> tuple[list[PriceRow], list[str]]:
    """Validate rows given as mappings of the CSV columns (e.g. the dashboard editor's rows).

    Returns:
        (rows, problems): ``problems`` holds one sentence per bad row (``"<source>, row 7: ..."``,
        or ``"Row 7: ..."`` without a source); when it is not empty, ``rows`` is empty: nothing
        is half-accepted.
    """
    rows, problems = _validate(
        enumerate(records, start=first_row), skus, f"{source}, row" if source else "Row"
    )
    return ([] if problems else rows), [sentence for _, sentence in problems]


def parse_price_csv(
    text: str, skus: SkuIndex, *, source: str = "the price book"
) -> tuple[list[PriceRow], list[str]]:
    """Parse a price-book CSV, by the rules of :mod:`analysis.user_files` (a BOM, CRLF, blank rows,
    semicolons or tabs, any column order and letter case in the header are fine).

    Returns:
        (rows, problems) as ``validate_price_records``, but ``problems`` is what a person is shown:
        the first ``MAX_PROBLEMS_SHOWN`` sentences and how many more. Problems with the file itself
        (empty, a wrong header, bytes that are not UTF-8, a row with the wrong number of fields)
        are sentences naming the row too.
    """
    try:
        table = read_table(text, source, CSV_COLUMNS)
    except InputError as exc:
        return [], [str(exc)]
    rows, bad = _validate(table.rows, skus, f"{source}, row")
    problems = sorted([*table.problems, *bad])
    return ([] if problems else rows), shown_problems([sentence for _, sentence in problems])


def price_book_frame(prices: pd.DataFrame, skus: SkuIndex) -> pd.DataFrame:
    """The price book as the CSV writes it: the ``CSV_COLUMNS`` as text, then ``source``.

    ``sku`` is the part number when it resolves back to the same skuId, else the skuId; the
    dashboard's price editor starts from this table and validates it as a CSV.

    Args:
        prices: ``store.prices.load_prices`` rows.
    """
    rows: list[dict[str, str]] = []
    ordered = prices.sort_values(
        ["sku_part_number", "sku_id", "currency", "effective_from"], na_position="last"
    )
    for row in ordered.to_dict(orient="records"):
        sku_id = str(row["sku_id"])
        part = row.get("sku_part_number") or skus.by_id.get(sku_id)
        resolved = skus.resolve(part) if isinstance(part, str) and part else None
        source = row.get("source")
        rows.append({
            "sku": part if isinstance(part, str) and isinstance(resolved, tuple) and resolved[0] == sku_id else sku_id,
            "unit_price": amount_text(int(row["unit_price_minor"]), str(row["currency"])),
            "currency": str(row["currency"]), "period": str(row["period"]),
            "effective_from": str(row["effective_from"]), "source": source if isinstance(source, str) else "",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=[*CSV_COLUMNS, "source"])


def price_book_changes(
    prices: pd.DataFrame, rows: Iterable[PriceRow]
) -> tuple[list[PriceRow], list[tuple[str, str, str]]]:
    """What saving an edited price book changes in the stored one.

    Args:
        prices: the stored book (``store.prices.load_prices``).
        rows: the whole edited book, validated (``validate_price_records``).

    Returns:
        (to save, to delete): the rows that are new or whose price or period changed, and the
        (sku_id, currency, effective_from) keys of stored rows the edited book no longer has.
        Unchanged rows are in neither, so they keep their source (an import's file name).
    """
    stored = {
        (str(r["sku_id"]), str(r["currency"]), str(r["effective_from"])): (int(r["unit_price_minor"]), str(r["period"]))
        for r in prices.to_dict(orient="records")
    }  # fmt: skip
    save: list[PriceRow] = []
    kept: set[tuple[str, str, str]] = set()
    for row in rows:
        key = (row.sku_id, row.currency, row.effective_from)
        kept.add(key)
        if stored.get(key) != (row.unit_price_minor, row.period):
            save.append(row)
    return save, sorted(set(stored) - kept)


def price_book_csv(prices: pd.DataFrame, skus: SkuIndex) -> str:
    """The price book as CSV text in the import format (a round trip imports the same rows).

    Args:
        prices: ``store.prices.load_prices`` rows.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    # Valid cells never start like a formula; a SKU's part number comes from the tenant, though.
    writer.writerows(
        [escape_formula(cell) for cell in row]
        for row in price_book_frame(prices, skus)[list(CSV_COLUMNS)].itertuples(index=False)
    )
    return buffer.getvalue()
