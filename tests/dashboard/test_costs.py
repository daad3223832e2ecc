"""Costs page on the finance tenant (tests/analysis/finance_tenant.py): every figure worked out by hand.

Prices in force on 2026-03-01: E3 USD 36.00/month (30.00 is older, 40.00 not yet in force), E5 USD
684.00/year (57.00 a month), Entra ID P1 (AAD) USD 6.00/month, storage USD 0.20/month, Visio EUR
100.00/year; the partner add-on has no price and Flow is free.

Paid seats: E3 10, E5 3 (4 purchased less 1 trial seat), AAD 5, storage 50, Visio 4. Held: E3 7 (bob
disabled, cat inactive for 106 days, dan never signed in, created 273 days ago), E5 2, AAD 3, Visio 2
(bob disabled, gus a guest).

Per month:
    USD purchased 360.00 + 171.00 + 30.00 + 10.00 = 571.00
        unassigned E3 3 x 36.00 + E5 1 x 57.00 + AAD 2 x 6.00 = 177.00; assigned 571.00 - 177.00 = 394.00
        disabled (bob) 36.00, inactive (cat) 36.00, never (dan) 36.00; waste 177.00 + 108.00 = 285.00
        guests 0.00
    EUR purchased 400.00 / 12 = 33.33; unassigned 200.00 / 12 = 16.67; assigned 33.33 - 16.67 = 16.66
        disabled (bob) 100.00 / 12 = 8.33; waste 16.67 + 8.33 = 25.00; guests (gus) 8.33
Per year: USD 4,320.00 + 2,052.00 + 360.00 + 120.00 = 6,852.00; unassigned 1,296.00 + 684.00 + 144.00 =
    2,124.00; assigned 4,728.00; disabled, inactive, never 432.00 each; waste 2,124.00 + 1,296.00 = 3,420.00.
    EUR 400.00; unassigned 200.00; assigned 200.00; disabled 100.00; waste 300.00; guests 100.00.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from analysis.chargeback import chargeback_workbook
from dashboard import loaders
from store.db import open_store
from store.prices import load_prices, load_thresholds
from tests.analysis import finance_tenant as t
from tests.helpers.apptest import download_labels, metric_list, open_app, rows, table, texts

MONTHLY = [
    ("Purchased", "EUR 33.33"), ("Assigned", "EUR 16.66"), ("Waste", "EUR 25.00"), ("Licensed guests", "EUR 8.33"),
    ("Unassigned", "EUR 16.67"), ("Disabled accounts", "EUR 8.33"), ("Inactive 90+ days", "EUR 0.00"),
    ("Never signed in", "EUR 0.00"), ("Unused", "unknown"),
    ("Purchased", "USD 571.00"), ("Assigned", "USD 394.00"), ("Waste", "USD 285.00"), ("Licensed guests", "USD 0.00"),
    ("Unassigned", "USD 177.00"), ("Disabled accounts", "USD 36.00"), ("Inactive 90+ days", "USD 36.00"),
    ("Never signed in", "USD 36.00"), ("Unused", "unknown"),
]  # fmt: skip
YEARLY = [
    ("Purchased", "EUR 400.00"), ("Assigned", "EUR 200.00"), ("Waste", "EUR 300.00"),
    ("Licensed guests", "EUR 100.00"), ("Unassigned", "EUR 200.00"), ("Disabled accounts", "EUR 100.00"),
    ("Inactive 90+ days", "EUR 0.00"), ("Never signed in", "EUR 0.00"), ("Unused", "unknown"),
    ("Purchased", "USD 6,852.00"), ("Assigned", "USD 4,728.00"), ("Waste", "USD 3,420.00"),
    ("Licensed guests", "USD 0.00"), ("Unassigned", "USD 2,124.00"), ("Disabled accounts", "USD 432.00"),
    ("Inactive 90+ days", "USD 432.00"), ("Never signed in", "USD 432.00"), ("Unused", "unknown"),
]  # fmt: skip
NOTHING_SAVED = "Nothing was saved: correct the rows named above, then save again."


def _book(path: str) -> list[tuple[object, ...]]:
    with open_store(path) as store:
        return [tuple(r) for r in load_prices(store).itertuples(index=False)]


def test_totals_per_currency_per_month(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "costs")
    assert metric_list(at) == MONTHLY
    assert [t for t in texts(at) if t.startswith("####")] == ["#### EUR per month", "#### USD per month"]
    assert at.caption[0].value == "Snapshot 1 of tenant contoso, taken 2026-03-01 06:00 UTC"
    waste = next(m for m in at.metric if m.label == "Waste")
    assert waste.proto.help == "Unassigned + disabled + inactive + never signed in + unused."
    # The finance tenant has no usage reports: unused is unknown, not zero.


def test_per_year_is_twelve_months_exactly(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "costs")
    at.radio(key="costs_basis").set_value("Per year").run()
    assert not at.exception
    assert metric_list(at) == YEARLY
    e3 = table(at, "name", "sku_part_number", "status").set_index("sku_part_number").loc["SPE_E3"]
    assert (e3["purchased_cost"], e3["waste_cost"]) == ("USD 4,320.00", "USD 2,592.00")  # 10 x 432; 6 x 432


def test_per_sku_table(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "costs")
    skus = table(at, "name", "sku_part_number", "status")
    assert rows(skus, "sku_part_number", "status", "unit_price", "effective_from", "paid_seats", "trial_seats",
                "assigned_seats", "unassigned_seats") == [
        ["SPE_E3", "priced", "USD 36.00 / month", "2026-01-01", 10, 0, 7, 3],
        ["SPE_E5", "priced", "USD 684.00 / year", "2025-01-01", 3, 1, 2, 1],
        ["AAD_PREMIUM", "priced", "USD 6.00 / month", "2025-01-01", 5, 0, 3, 2],
        ["SHAREPOINTSTORAGE", "priced", "USD 0.20 / month", "2025-01-01", 50, 0, 50, 0],  # company-wide
        ["VISIOCLIENT", "priced", "EUR 100.00 / year", "2025-01-01", 4, 0, 2, 2],
        ["CONTOSO_PARTNER_ADDON", "no price", "—", None, 2, 0, 1, 1],
        ["FLOW_FREE", "free", "—", None, 10000, 0, 10000, 0],
    ]  # fmt: skip
    money = ["purchased_cost", "assigned_cost", "waste_cost", "unassigned_cost", "disabled_cost", "inactive_cost",
             "never_signed_in_cost", "guest_cost"]  # fmt: skip
    assert rows(skus, "sku_part_number", *money) == [
        ["SPE_E3", "USD 360.00", "USD 252.00", "USD 216.00", "USD 108.00", "USD 36.00", "USD 36.00", "USD 36.00",
         "USD 0.00"],
        # 3 paid x 57.00; 1 unassigned; nobody idle holds E5
        ["SPE_E5", "USD 171.00", "USD 114.00", "USD 57.00", "USD 57.00", "USD 0.00", "USD 0.00", "USD 0.00",
         "USD 0.00"],
        ["AAD_PREMIUM", "USD 30.00", "USD 18.00", "USD 12.00", "USD 12.00", "USD 0.00", "USD 0.00", "USD 0.00",
         "USD 0.00"],
        # 50 x 0.20: spend, never waste
        ["SHAREPOINTSTORAGE", "USD 10.00", "USD 10.00", "USD 0.00", "USD 0.00", "USD 0.00", "USD 0.00", "USD 0.00",
         "USD 0.00"],
        ["VISIOCLIENT", "EUR 33.33", "EUR 16.66", "EUR 25.00", "EUR 16.67", "EUR 8.33", "EUR 0.00", "EUR 0.00",
         "EUR 8.33"],
        ["CONTOSO_PARTNER_ADDON", "—", "—", "—", "—", "—", "—", "—", "—"],  # unknown, never 0
        ["FLOW_FREE", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]  # fmt: skip


def test_a_sku_without_a_price_is_flagged_never_free(
    finance_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, finance_store, "costs")
    assert [w.value for w in at.warning] == [
        "1 SKU(s) have no price, so no total includes them (never counted as free): CONTOSO_PARTNER_ADDON "
        "(2 paid seats). Add their prices in the price book below."
    ]


def test_chargeback_views(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "costs")
    assert [tab.label for tab in at.tabs] == ["Department", "Company", "Usage location"]
    views = [f.value for f in at.dataframe if list(f.value.columns[:2]) == ["bucket", "currency"]]
    columns = ("bucket", "currency", "users", "seats", "cost", "unpriced_seats")
    # Sales: ann bob ivy E3 (3 x 36.00) + ivy AAD 6.00 = 114.00, bob's Visio 8.33 EUR; IT: fay E3 36.00 +
    # fay hal E5 (2 x 57.00) + fay hal AAD (2 x 6.00) = 162.00, and hal's unpriced add-on; Finance: cat dan E3.
    assert rows(views[0], *columns) == [
        ["Sales", "EUR", 1, 1, "EUR 8.33", 0],
        ["IT", "USD", 2, 5, "USD 162.00", 1],
        ["Sales", "USD", 3, 4, "USD 114.00", 0],
        ["Finance", "USD", 2, 2, "USD 72.00", 0],
        ["unattributed", "EUR", 1, 1, "EUR 8.33", 0],  # gus: no department
        ["unattributed", "USD", 1, 1, "USD 36.00", 0],  # eve: no department
        ["unassigned seats", "EUR", 0, 2, "EUR 16.67", 0],
        ["unassigned seats", "USD", 0, 6, "USD 177.00", 0],
        ["tenant-wide", "USD", 0, 50, "USD 10.00", 0],
    ]
    # Contoso: E3 ann bob cat fay ivy (5 x 36.00) + E5 fay hal (114.00) + AAD fay hal ivy (18.00) = 312.00
    assert rows(views[1], *columns)[:3] == [
        ["Contoso", "EUR", 1, 1, "EUR 8.33", 0],
        ["Contoso", "USD", 6, 10, "USD 312.00", 1],
        ["Fabrikam", "USD", 2, 2, "USD 72.00", 0],
    ]
    # US: ann bob fay ivy E3 (144.00) + fay hal E5 (114.00) + fay hal ivy AAD (18.00) = 276.00
    assert rows(views[2], *columns)[:5] == [
        ["GB", "EUR", 1, 1, "EUR 8.33", 0],
        ["US", "EUR", 1, 1, "EUR 8.33", 0],
        ["US", "USD", 5, 9, "USD 276.00", 1],
        ["DE", "USD", 2, 2, "USD 72.00", 0],
        ["unattributed", "USD", 1, 1, "USD 36.00", 0],
    ]
    # Every view adds up to the purchased cost: USD 571.00 for 12 held seats (E3 7, E5 2, AAD 3) + 6 unassigned
    # + 50 storage units = 68; EUR 33.33 for 2 held + 2 unassigned Visio seats.
    totals = [c for c in texts(at) if c.startswith("Totals: ")]
    assert (
        totals
        == [
            "Totals: EUR 33.33 for 4 seats · USD 571.00 for 68 seats. 1 held seat(s) of SKUs without a price are "
            "not costed."
        ]
        * 3
    )
    labels = download_labels(at)
    assert labels.count("Download chargeback workbook (Excel, one sheet per view)") == 1
    assert labels.count("Download CSV") == 1 + 3  # the SKU table, then one per view


def test_chargeback_workbook_has_one_sheet_per_view_with_totals(finance_store: str) -> None:
    # The bytes the page's workbook button sends: the same loader and the same function.
    views = loaders.chargeback(
        finance_store, 1, 90, "month", loaders.version(loaders.price_book(finance_store))
    )
    book = load_workbook(io.BytesIO(chargeback_workbook(views, basis="month")))
    assert book.sheetnames == ["Department", "Company", "Usage location"]
    for sheet in book.worksheets:
        got = list(sheet.iter_rows(values_only=True))
        assert got[0] == ("bucket", "currency", "users", "seats", "cost per month", "unpriced_seats")
        assert got[-3:] == [
            ("Total (EUR)", "EUR", None, 4, 33.33, None),
            ("Total (USD)", "USD", None, 68, 571, None),
            ("Total without a price", None, None, None, None, 1),  # once, not once per currency
        ]
    company = list(book["Company"].iter_rows(values_only=True))
    assert company[1:8] == [
        ("Contoso", "EUR", 1, 1, 8.33, 0),
        ("Contoso", "USD", 6, 10, 312, 1),
        ("Fabrikam", "USD", 2, 2, 72, 0),
        ("unattributed", "EUR", 1, 1, 8.33, 0),
        ("unassigned seats", "EUR", 0, 2, 16.67, 0),
        ("unassigned seats", "USD", 0, 6, 177, 0),
        ("tenant-wide", "USD", 0, 50, 10, 0),
    ]


def test_the_price_editor_refuses_bad_rows_and_saves_nothing(
    finance_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, finance_copy, "costs")
    editor = at.data_editor[0].value
    assert editor["sku"].tolist() == [
        "AAD_PREMIUM", "SHAREPOINTSTORAGE", "SPE_E3", "SPE_E3", "SPE_E3", "SPE_E5", "VISIOCLIENT",
    ]  # fmt: skip
    before = _book(finance_copy)
    at.session_state["price_editor_0"] = {
        "edited_rows": {3: {"currency": "XYZ"}, 5: {"unit_price": "57,00"}},
        "added_rows": [{"sku": "NOT_A_SKU", "unit_price": "1", "currency": "USD", "period": "month",
                        "effective_from": "2026-01-01"}],
        "deleted_rows": [],
    }  # fmt: skip
    at.button(key="price_save").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Row 4: currency 'XYZ' is not an ISO 4217 currency code.",
        "Row 6: unit_price '57,00' is not a number (use a dot as the decimal separator).",
        "Row 8: SKU 'NOT_A_SKU' is neither a part number nor a skuId in the latest snapshot or the catalog.",
    ]
    assert NOTHING_SAVED in [w.value for w in at.warning]
    assert _book(finance_copy) == before
    assert metric_list(at) == MONTHLY


def test_a_saved_edit_changes_the_costs_at_once(finance_copy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_copy, "costs")
    at.session_state["price_editor_0"] = {
        "edited_rows": {3: {"unit_price": "40.00"}},  # E3 from 2026-01-01: 36.00 -> 40.00
        "added_rows": [],
        "deleted_rows": [1],  # storage: now without a price
    }
    at.button(key="price_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["Saved the price book: 1 row(s) written, 1 removed."]
    shown = dict(metric_list(at)[9:])
    # USD purchased 10 x 40.00 + 171.00 + 30.00 = 601.00; unassigned 3 x 40.00 + 57.00 + 12.00 = 189.00;
    # waste 189.00 + 3 x 40.00 = 309.00
    assert (shown["Purchased"], shown["Unassigned"], shown["Waste"]) == (
        "USD 601.00",
        "USD 189.00",
        "USD 309.00",
    )
    assert "SHAREPOINTSTORAGE (50 paid seats)" in at.warning[0].value
    with open_store(finance_copy) as store:
        book = load_prices(store).set_index(["sku_part_number", "effective_from"])
    assert (
        book.loc[("SPE_E3", "2026-01-01"), "unit_price_minor"],
        book.loc[("SPE_E3", "2026-01-01"), "source"],
    ) == (
        4000,
        "dashboard",
    )
    assert book.loc[("SPE_E3", "2025-01-01"), "source"] == "finance_tenant"  # untouched rows keep theirs
    # a fresh editor on the saved book: the edit is not applied twice, the deleted row is gone
    assert at.data_editor[0].value["unit_price"].tolist() == [
        "6.00",
        "30.00",
        "40.00",
        "40.00",
        "684.00",
        "100.00",
    ]


def test_a_bad_price_csv_is_refused_whole(finance_copy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_copy, "costs")
    before = _book(finance_copy)
    text = b"sku,unit_price,currency,period,effective_from\nSPE_E3,41,USD,month,2027-01-01\nSPE_E5,-1,USD,year,2027-01-01\n"
    at.file_uploader(key="price_upload_0").set_value(("prices.csv", text, "text/csv")).run()
    at.button(key="price_import").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["prices.csv, row 3: unit_price '-1' is negative."]
    assert "Nothing was imported: the price book is as it was." in [w.value for w in at.warning]
    assert _book(finance_copy) == before


def test_a_good_price_csv_is_merged(finance_copy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_copy, "costs")
    text = b"sku,unit_price,currency,period,effective_from\nCONTOSO_PARTNER_ADDON,5,USD,month,2026-01-01\n"
    at.checkbox(key="price_merge").check()
    at.file_uploader(key="price_upload_0").set_value(("partner.csv", text, "text/csv")).run()
    at.button(key="price_import").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [
        "Imported 1 price row(s) from partner.csv; 0 old row(s) removed."
    ]
    assert not at.warning  # every SKU has a price now
    assert dict(metric_list(at)[9:])["Purchased"] == "USD 581.00"  # 571.00 + 2 x 5.00
    assert len(_book(finance_copy)) == 8


def test_thresholds_are_edited_here(finance_copy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_copy, "costs")
    limits = at.data_editor[1].value
    assert limits["sku_part_number"].tolist()[:3] == ["CONTOSO_PARTNER_ADDON", "SPE_E3", "SPE_E5"]
    at.session_state["threshold_editor_0"] = {
        "edited_rows": {1: {"min_free_seats": 5}, 2: {"max_utilization_percent": 40}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="threshold_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["Saved the thresholds of 2 SKU(s)."]
    # E3: 10 - 7 = 3 free; E5: 2 of 4 used
    assert [w.value for w in at.warning][-2:] == [
        "SPE_E3 has 3 free seats, below the minimum of 5.",
        "SPE_E5 is 50.0% used (2 of 4), above the limit of 40%.",
    ]
    with open_store(finance_copy) as store:
        saved = load_thresholds(store)
    assert rows(saved, "sku_part_number", "min_free_seats", "max_utilization_percent") == [
        ["SPE_E3", 5, None],
        ["SPE_E5", None, 40],
    ]


def test_a_store_without_prices_says_what_to_do(unpriced_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, unpriced_store, "costs")
    assert [i.value for i in at.info] == [
        "The price book is empty, so every SKU shows as no price and no cost is counted. Microsoft's APIs give no "
        "prices: add rows in the price book below, import a price-book CSV there, or run "
        "`license-desk prices import FILE`."
    ]
    assert not at.metric
    assert at.warning[0].value.startswith(
        "6 SKU(s) have no price, so no total includes them (never counted as free)"
    )
    assert at.data_editor[0].value.empty


def test_without_sign_in_data_inactivity_is_unknown(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    path = str(Path(str(tmp_path)) / "nosignin.sqlite")
    t.build(path)
    with open_store(path) as store:
        store.conn.execute("UPDATE snapshots SET signin_available = 0")
    at = open_app(monkeypatch, path, "costs")
    usd = dict(metric_list(at)[9:])
    # known: unassigned 177.00 and bob's disabled E3 36.00
    assert (usd["Inactive 90+ days"], usd["Never signed in"], usd["Waste"]) == (
        "unknown",
        "unknown",
        "USD 213.00",
    )


def test_a_price_imported_elsewhere_shows_without_a_restart(
    finance_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The costs are cached under the price book's content, so `license-desk prices import` while the
    # dashboard runs is a new cache key: no stale totals, no cache to clear by hand.
    from collectors.catalog import load_common_skus
    from store.prices import import_price_text

    at = open_app(monkeypatch, finance_copy, "costs")
    assert dict(metric_list(at)[9:])["Purchased"] == "USD 571.00"
    with open_store(finance_copy) as store:
        import_price_text(
            store, "sku,unit_price,currency,period,effective_from\nSPE_E3,37,USD,month,2026-02-01\n",
            source="cli.csv", replace=False, builtin=load_common_skus()
        )  # fmt: skip
    at.run()
    assert dict(metric_list(at)[9:])["Purchased"] == "USD 581.00"  # E3 now 37.00 from 2026-02-01: +10 x 1.00
