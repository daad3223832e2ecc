"""The price book, thresholds and exemptions in the store; the CSV import is all or nothing."""

from __future__ import annotations

import sqlite3

import pandas as pd
import psycopg
import pytest

from analysis.pricebook import (
    PriceRow,
    price_book_changes,
    price_book_csv,
    price_book_frame,
    validate_price_records,
)
from collectors.catalog import load_common_skus
from licensedesk.errors import InputError
from store.db import open_store
from store.prices import (
    add_exemption,
    delete_prices,
    edit_prices,
    import_price_text,
    load_exemptions,
    load_prices,
    load_thresholds,
    remove_exemption,
    save_prices,
    save_thresholds,
    sku_index,
    subscription_lifecycles,
)
from tests.analysis import finance_tenant as t

COMMON_SKUS = load_common_skus()  # what the CLI passes: the shipped table of common SKUs

# A constraint the database enforces, on either engine.
INTEGRITY = (sqlite3.IntegrityError, psycopg.IntegrityError)

HEADER = "sku,unit_price,currency,period,effective_from\n"
GOOD = "SPE_E3,36.00,USD,month,2026-01-01\n"


@pytest.fixture
def priced(store_url: str) -> str:
    """The finance tenant with its price book (7 rows)."""
    t.build(store_url)
    return store_url


def _book(path: str) -> list[tuple[object, ...]]:
    with open_store(path) as store:
        frame = load_prices(store)
    return [tuple(r) for r in frame.drop(columns=["updated_at"]).itertuples(index=False)]


def test_import_resolves_part_numbers_and_sku_ids_in_any_case(priced: str) -> None:
    book = {(r[1], r[3], r[5]): (r[2], r[4]) for r in _book(priced)}
    assert book == {
        ("SPE_E3", "USD", "2025-01-01"): (3000, "month"),
        ("SPE_E3", "USD", "2026-01-01"): (3600, "month"),
        ("SPE_E3", "USD", "2026-04-01"): (4000, "month"),
        ("SPE_E5", "USD", "2025-01-01"): (68400, "year"),  # given as a lower-case skuId and "usd"
        ("AAD_PREMIUM", "USD", "2025-01-01"): (600, "month"),  # given as "aad_premium"
        ("VISIOCLIENT", "EUR", "2025-01-01"): (10000, "year"),
        ("SHAREPOINTSTORAGE", "USD", "2025-01-01"): (20, "month"),  # known from the snapshot only
    }
    assert {r[6] for r in _book(priced)} == {"finance_tenant"}


BAD_ROWS = [
    ("unknown SKU", "NOT_A_SKU,1.00,USD,month,2026-01-01\n",
     "prices.csv, row 3: SKU 'NOT_A_SKU' is neither a part number nor a skuId in the latest snapshot or the catalog."),
    ("unknown skuId", "11111111-2222-3333-4444-555555555555,1,USD,month,2026-01-01\n",
     "prices.csv, row 3: SKU '11111111-2222-3333-4444-555555555555' is neither a part number nor a skuId in the latest snapshot or the catalog."),
    ("bad number", "SPE_E5,abc,USD,month,2026-01-01\n", "prices.csv, row 3: unit_price 'abc' is not a number."),
    ("decimal comma", "SPE_E5,\"57,00\",USD,month,2026-01-01\n",
     "prices.csv, row 3: unit_price '57,00' is not a number (use a dot as the decimal separator)."),
    ("negative price", "SPE_E5,-57,USD,month,2026-01-01\n", "prices.csv, row 3: unit_price '-57' is negative."),
    ("too many decimals", "SPE_E5,57.001,USD,month,2026-01-01\n",
     "prices.csv, row 3: unit_price '57.001' has more decimals than USD allows (2)."),
    ("unknown currency", "SPE_E5,57,USX,month,2026-01-01\n",
     "prices.csv, row 3: currency 'USX' is not an ISO 4217 currency code."),
    ("bad period", "SPE_E5,57,USD,weekly,2026-01-01\n", "prices.csv, row 3: period 'weekly' must be month or year."),
    ("bad date", "SPE_E5,57,USD,month,2026-13-01\n",
     "prices.csv, row 3: effective_from '2026-13-01' is not a date written YYYY-MM-DD."),
    ("not ISO date", "SPE_E5,57,USD,month,01/03/2026\n",
     "prices.csv, row 3: effective_from '01/03/2026' is not a date written YYYY-MM-DD."),
    ("empty cell", "SPE_E5,,USD,month,2026-01-01\n", "prices.csv, row 3: unit_price is empty."),
    ("duplicate row", "spe_e3,37.00,usd,month,2026-01-01\n",
     "prices.csv, row 3: repeats row 2 (SPE_E3, USD, effective 2026-01-01); keep one of the two."),
    ("wrong field count", "SPE_E5,57,USD,month\n", "prices.csv, row 3: found 4 fields where the header has 5."),
    ("two problems, one sentence", "SPE_E5,x,XXX,month,2026-01-01\n",
     "prices.csv, row 3: currency 'XXX' is not an ISO 4217 currency code and unit_price 'x' is not a number."),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "row", "message"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_each_bad_row_is_one_sentence_naming_it_and_nothing_changes(
    priced: str, kind: str, row: str, message: str
) -> None:
    before = _book(priced)
    with open_store(priced) as store, pytest.raises(InputError) as err:
        # row 2 is good: it must not be imported either
        import_price_text(store, HEADER + GOOD + row, source="prices.csv", replace=True, builtin=COMMON_SKUS)
    assert str(err.value) == message
    assert _book(priced) == before


def test_several_bad_rows_each_named_then_nothing_imported(priced: str) -> None:
    before = _book(priced)
    text = HEADER + "SPE_E5,abc,USD,month,2026-01-01\n" + GOOD + "\n" + "SPE_E5,57,EUR,fortnight,2026-01-01\n"
    with open_store(priced) as store, pytest.raises(InputError) as err:
        import_price_text(store, text, source="p.csv", replace=False, builtin=COMMON_SKUS)
    assert str(err.value).splitlines() == [
        "p.csv, row 2: unit_price 'abc' is not a number.",
        "p.csv, row 5: period 'fortnight' must be month or year.",
        "Nothing was imported.",
    ]
    assert _book(priced) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "prices.csv is empty; expected the header sku,unit_price,currency,period,effective_from."),
     ("sku,price,currency,period,effective_from\n" + GOOD,
      "prices.csv, row 1: the header lacks unit_price and has unexpected 'price'; expected the header "
      "sku,unit_price,currency,period,effective_from (in any order)."),
     (HEADER, "prices.csv has a header but no data rows.")],
)  # fmt: skip
def test_bad_files(priced: str, text: str, message: str) -> None:
    before = _book(priced)
    with open_store(priced) as store, pytest.raises(InputError) as err:
        import_price_text(store, text, source="prices.csv", replace=True, builtin=COMMON_SKUS)
    assert str(err.value) == message
    assert _book(priced) == before


def test_bom_crlf_and_column_order_are_fine(priced: str) -> None:
    text = "\ufeffcurrency,sku,period,effective_from,unit_price\r\nUSD,SPE_E3,month,2027-01-01,41\r\n\r\n"
    with open_store(priced) as store:
        assert import_price_text(store, text, source="x.csv", replace=False, builtin=COMMON_SKUS) == (1, 0)
    assert len(_book(priced)) == 8


def test_replace_removes_rows_not_in_the_file_and_merge_keeps_them(priced: str) -> None:
    with open_store(priced) as store:
        written = import_price_text(store, HEADER + GOOD, source="a.csv", replace=True, builtin=COMMON_SKUS)
        assert written == (1, 7)
    assert [(r[1], r[2]) for r in _book(priced)] == [("SPE_E3", 3600)]


def test_a_failing_write_leaves_the_book_as_it_was(priced: str) -> None:
    before = _book(priced)
    bad = PriceRow(t.E3, "SPE_E3", -1, "USD", "month", "2030-01-01")  # the CHECK constraint refuses it
    good = PriceRow(t.E5, "SPE_E5", 1, "USD", "month", "2030-01-01")
    with open_store(priced) as store, pytest.raises(INTEGRITY):
        save_prices(store, [good, bad], replace=True, source="test")
    assert _book(priced) == before


def test_export_round_trips(priced: str) -> None:
    with open_store(priced) as store:
        text = price_book_csv(load_prices(store), sku_index(store))
    assert text.splitlines()[:3] == [
        "sku,unit_price,currency,period,effective_from",
        "AAD_PREMIUM,6.00,USD,month,2025-01-01",
        "SHAREPOINTSTORAGE,0.20,USD,month,2025-01-01",
    ]
    before = _book(priced)
    with open_store(priced) as store:
        import_price_text(store, text, source="finance_tenant", replace=True, builtin=COMMON_SKUS)
    assert _book(priced) == before


def test_delete_prices(priced: str) -> None:
    with open_store(priced) as store:
        assert delete_prices(store, [(t.E3, "USD", "2026-04-01"), (t.E3, "USD", "1999-01-01")]) == 1
    assert len(_book(priced)) == 6


def test_sku_index_prefers_the_snapshot(priced: str) -> None:
    with open_store(priced) as store:
        index = sku_index(store)
    assert index.resolve("spe_e3") == (t.E3, "SPE_E3")
    assert index.resolve(t.STORAGE.upper()) == (t.STORAGE, "SHAREPOINTSTORAGE")
    assert index.resolve("EMS")[0] == "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"  # from the built-in catalog


def test_exemptions(store_url: str) -> None:
    with open_store(store_url) as store:
        add_exemption(store, "user", "dan@contoso.com", note="parental leave", label="Dan")
        add_exemption(store, "user", "dan@contoso.com", note="back in June", label="Dan")
        with pytest.raises(InputError, match="the note is empty"):
            add_exemption(store, "sku", "VISIOCLIENT", note=" ")
        with pytest.raises(InputError, match="not 'group'"):
            add_exemption(store, "group", "x", note="n")
        rows = load_exemptions(store)
        assert rows[["kind", "target_id", "label", "note"]].values.tolist() == [
            ["user", "dan@contoso.com", "Dan", "back in June"]
        ]
        assert remove_exemption(store, "user", "dan@contoso.com") is True
        assert remove_exemption(store, "user", "dan@contoso.com") is False


def test_subscription_lifecycles_keep_each_distinct_date(priced: str) -> None:
    with open_store(priced) as store:
        frame = subscription_lifecycles(store)
    assert len(frame) == 10
    assert isinstance(frame, pd.DataFrame)
    assert frame.set_index("subscription_id").loc["sub-e3-a", "next_lifecycle_at"] == "2026-04-10T00:00:00Z"


def test_the_editor_table_is_the_csv_with_its_source(priced: str) -> None:
    with open_store(priced) as store:
        frame = price_book_frame(load_prices(store), sku_index(store))
    assert list(frame.columns) == ["sku", "unit_price", "currency", "period", "effective_from", "source"]
    assert frame.values.tolist()[:4] == [
        ["AAD_PREMIUM", "6.00", "USD", "month", "2025-01-01", "finance_tenant"],
        ["SHAREPOINTSTORAGE", "0.20", "USD", "month", "2025-01-01", "finance_tenant"],
        ["SPE_E3", "30.00", "USD", "month", "2025-01-01", "finance_tenant"],
        ["SPE_E3", "36.00", "USD", "month", "2026-01-01", "finance_tenant"],
    ]
    assert frame.values.tolist()[5] == ["SPE_E5", "684.00", "USD", "year", "2025-01-01", "finance_tenant"]


def test_an_edited_book_saves_only_what_changed_in_one_transaction(priced: str) -> None:
    with open_store(priced) as store:
        index = sku_index(store)
        records = price_book_frame(load_prices(store), index).to_dict(orient="records")
    records[3]["unit_price"] = "40"  # E3 from 2026-01-01: 36.00 -> 40.00
    del records[1]  # storage
    records.append({"sku": "spe_e5", "unit_price": "60", "currency": "usd", "period": "month",
                    "effective_from": "2027-01-01", "source": None})  # fmt: skip
    rows, problems = validate_price_records(records, index, first_row=1)
    assert problems == []
    with open_store(priced) as store:
        save, delete = price_book_changes(load_prices(store), rows)
        assert [(r.sku_part_number, r.unit_price_minor, r.effective_from) for r in save] == [
            ("SPE_E3", 4000, "2026-01-01"),
            ("SPE_E5", 6000, "2027-01-01"),
        ]
        assert delete == [(t.STORAGE, "USD", "2025-01-01")]
        assert edit_prices(store, save, delete, source="dashboard") == (2, 1)
    book = {(r[1], r[3], r[5]): (r[2], r[6]) for r in _book(priced)}
    assert book[("SPE_E3", "USD", "2026-01-01")] == (4000, "dashboard")
    assert book[("SPE_E3", "USD", "2025-01-01")] == (3000, "finance_tenant")  # untouched: keeps its source
    assert ("SHAREPOINTSTORAGE", "USD", "2025-01-01") not in book
    assert len(book) == 7


def test_a_failing_edit_leaves_the_book_as_it_was(priced: str) -> None:
    before = _book(priced)
    bad = PriceRow(t.E5, "SPE_E5", -1, "USD", "month", "2030-01-01")
    with open_store(priced) as store, pytest.raises(INTEGRITY):
        edit_prices(store, [bad], [(t.E3, "USD", "2026-04-01")], source="dashboard")
    assert _book(priced) == before


def test_editor_cells_left_empty_are_named_as_empty(priced: str) -> None:
    with open_store(priced) as store:
        index = sku_index(store)
    record = {"sku": "SPE_E3", "unit_price": float("nan"), "currency": "USD", "period": None,
              "effective_from": "2026-01-01"}  # fmt: skip
    assert validate_price_records([record], index, first_row=1) == (
        [],
        ["Row 1: unit_price is empty and period is empty."],
    )


# A constraint the database enforces, on either engine.
INTEGRITY = (sqlite3.IntegrityError, psycopg.IntegrityError)


def test_thresholds_are_saved_all_or_none(priced: str) -> None:
    good = {"sku_id": t.E3, "sku_part_number": "SPE_E3", "min_free_seats": 5, "max_utilization_percent": None}
    bad = {"sku_id": t.E5, "sku_part_number": "SPE_E5", "min_free_seats": -1, "max_utilization_percent": 120}
    with open_store(priced) as store:
        with pytest.raises(InputError) as err:
            save_thresholds(store, [good, bad])
        assert str(err.value).splitlines() == ["The minimum free seats for SPE_E5 must be 0 or more, not -1."]
        assert load_thresholds(store).empty
        assert save_thresholds(store, [good]) == 1
        assert load_thresholds(store)[["sku_part_number", "min_free_seats"]].values.tolist() == [
            ["SPE_E3", 5]
        ]
        cleared = {**good, "min_free_seats": None}
        assert save_thresholds(store, [cleared]) == 1
        assert load_thresholds(store).empty
