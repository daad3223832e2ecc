"""What only a real browser shows: every page renders without an exception box, plotly draws, and
the CSV and Excel downloads arrive with the right content.

Runs the dashboard with ``python -m streamlit run`` on a free port of 127.0.0.1 (datasette's
playwright pattern) against the hand-written tenant, and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.serve import serving_dashboard
from tests.dashboard.tenant import build_store
from tests.helpers.browser import BROWSER_MARKS, CHROMIUM, LAUNCH_ARGS, click_download, open_page, playwright

REPO = Path(__file__).resolve().parents[2]
PAGES = [  # (navigation title, draws a plotly chart)
    ("Overview", True),
    ("SKU detail", True),
    ("Users", False),
    ("Group errors", False),
    ("Trends", True),
    ("Costs", False),
    ("Reclaim", False),
    ("Renewals", False),
    ("Data", False),
]
SKU_HEADER = (
    "name,sku_part_number,purchased,consumed,available,utilization,enabled,warning,suspended,locked_out,"
    "known,counts_as_unused,sku_id"
)

pytestmark = BROWSER_MARKS
sync_api = playwright()


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = build_store(str(tmp_path_factory.mktemp("browser") / "store.sqlite"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    # Two rows per table: Reclaim's candidates are more, so its first rows show and the download has all.
    with serving_dashboard({**env, "LICENSE_DESK_STORE": store, "LICENSE_DESK_TABLE_ROWS": "2"}) as url:
        yield url


@pytest.fixture(scope="module")
def page(dashboard_url: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        tab = context.new_page()
        tab.goto(dashboard_url, wait_until="domcontentloaded")
        yield tab
        browser.close()


@pytest.mark.parametrize(("title", "has_chart"), PAGES)
def test_every_page_renders_without_an_exception(page: Any, title: str, has_chart: bool) -> None:
    open_page(page, title, has_chart)
    assert page.get_by_test_id("stException").count() == 0
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    if has_chart:
        # plotly drew marks (bars or line paths) into its SVG, not just an empty frame
        assert page.locator(".js-plotly-plot g.trace path").count() > 0


def test_utilization_bars_carry_the_seat_labels(page: Any) -> None:
    open_page(page, "Overview", True)
    labels = page.locator(".js-plotly-plot .bartext").all_text_contents()
    assert "6 / 5 (120%)" in labels  # E3: over-assigned
    assert "0 assigned, nothing purchased" in labels  # Power BI Pro


def test_csv_and_excel_downloads_arrive(page: Any, tmp_path: Path) -> None:
    import openpyxl

    open_page(page, "Overview", True)
    csv_download = click_download(page, "Download CSV")
    assert csv_download.suggested_filename == "skus.csv"
    target = tmp_path / "skus.csv"
    csv_download.save_as(target)
    lines = list(csv.reader(target.read_text(encoding="utf-8").splitlines()))
    assert ",".join(lines[0]) == SKU_HEADER
    assert len(lines) == 9  # header + 8 SKUs

    xlsx_download = click_download(page, "Download Excel")
    assert xlsx_download.suggested_filename == "skus.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.path()).read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert ",".join(rows[0]) == SKU_HEADER
    assert len(rows) == 9


def test_chargeback_workbook_download_has_a_sheet_per_view(page: Any) -> None:
    import openpyxl

    open_page(page, "Costs", False)
    workbook = click_download(page, "Download chargeback workbook (Excel, one sheet per view)")
    assert workbook.suggested_filename == "chargeback-per-month.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(workbook.path()).read_bytes()))
    assert book.sheetnames == ["Department", "Company", "Usage location"]
    header = ("bucket", "currency", "users", "seats", "cost per month", "unpriced_seats")
    assert [next(sheet.iter_rows(values_only=True)) for sheet in book.worksheets] == [header] * 3


def test_a_long_table_shows_its_first_rows_and_downloads_all(page: Any, tmp_path: Path) -> None:
    open_page(page, "Reclaim", False)
    # The server shows two rows per table (dashboard_url); the caption says how many there are.
    caption = page.get_by_text(re.compile(r"^Showing the first 2 of \d+ candidates")).first.inner_text()
    match = re.search(r"of (\d+) candidates", caption)
    assert match is not None
    total = int(match.group(1))
    assert total > 2
    download = click_download(page, "Download CSV", key="reclaim_table_csv")
    assert download.suggested_filename == "reclaim-candidates.csv"
    target = tmp_path / "reclaim-candidates.csv"
    download.save_as(target)
    lines = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert "user_principal_name" in lines[0]
    assert len(lines) == 1 + total  # the header and every candidate, not the two shown
