"""Files a person gives License Desk, read by one set of rules (analysis/user_files.py) whatever
they hold: Microsoft's catalog (`catalog import`), a users list (`assign --users-file`, the upload
on Assign & fix) and a price book (`prices import`, the upload on Costs).

Each refused file gets the same sentence for the three kinds, naming the file (and the row), and
nothing is written; each tolerated quirk (a BOM, CRLF, Excel's semicolons and tabs, ...) reads
as the plain file does. Before the one reader the three differed on most rows of this table.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
from click.testing import CliRunner, Result
from streamlit.testing.v1 import AppTest

from cli.main import cli
from tests.analysis import finance_tenant

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
GUID = "c7df2760-2c81-4ef7-b578-5b5392b571df"
PLAN = "efb87545-963c-4e0d-99df-69c6916d9eb0"
USER_COLUMNS = "userPrincipalName, user_principal_name, upn, id, user_id or mail"


@dataclass(frozen=True)
class Kind:
    args: tuple[str, ...]
    """The command; the file's name follows."""
    header: str
    row: str
    """A good data row."""
    accented: str
    """A good data row with an accented letter in column ``column``."""
    column: str
    read: str
    """What the command prints when the file is read (on standard output)."""
    empty: str
    no_rows: str
    wrong_header: str
    """The sentence for the header ``foo,bar``, after the file's name."""
    outcome: str
    """The last line when several rows are bad."""


CATALOG_HEADER = "Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names"
KINDS = {
    "catalog": Kind(
        args=("catalog", "import"),
        header=CATALOG_HEADER,
        row=f"Office 365 E5,ENTERPRISEPREMIUM,{GUID},EXCHANGE_S_ENTERPRISE,{PLAN},Exchange Online (Plan 2)",
        accented=f"Office 365 E5 Édition,ENTERPRISEPREMIUM,{GUID},EXCHANGE_S_ENTERPRISE,{PLAN},Exchange",
        column="Product_Display_Name",
        read="Imported 1 products and 1 service plan rows into",
        empty=f" is empty; expected the header {CATALOG_HEADER}.",
        no_rows=" has a header but no data rows.",
        wrong_header=(
            ", row 1: the header lacks Product_Display_Name, String_Id, GUID, Service_Plan_Name, "
            "Service_Plan_Id, Service_Plans_Included_Friendly_Names and has unexpected 'foo', 'bar'; "
            f"expected the header {CATALOG_HEADER} (in any order)."
        ),
        outcome="Nothing was imported.",
    ),
    "users": Kind(
        args=("assign", "--sku", "VISIOCLIENT", "--users-file"),
        header="userPrincipalName,displayName",
        row="ann@contoso.com,Ann Smith",
        accented="ann@contoso.com,Ann Müller",
        column="displayName",
        read="+ assign VISIOCLIENT to ann@contoso.com",
        empty=" is empty.",
        no_rows=" names no users.",
        wrong_header=(
            " has several columns ('foo', 'bar') and none of them names users; add a header naming "
            f"one column {USER_COLUMNS} (any letter case)."
        ),
        outcome="No plan was made.",
    ),
    "prices": Kind(
        args=("prices", "import"),
        header="sku,unit_price,currency,period,effective_from",
        row="SPE_E3,41.00,USD,month,2027-01-01",
        accented="SPE_E3,41.00,USD,month,2027-01-01 (révisé)",
        column="effective_from",
        read="Replaced the price book with 1 price row(s) from",
        empty=" is empty; expected the header sku,unit_price,currency,period,effective_from.",
        no_rows=" has a header but no data rows.",
        wrong_header=(
            ", row 1: the header lacks sku, unit_price, currency, period, effective_from and has "
            "unexpected 'foo', 'bar'; expected the header sku,unit_price,currency,period,effective_from "
            "(in any order)."
        ),
        outcome="Nothing was imported.",
    ),
}


def _plain(kind: Kind, newline: str = "\n") -> str:
    return f"{kind.header}{newline}{kind.row}{newline}"


def _fields(kind: Kind) -> int:
    return kind.header.count(",") + 1


Make = Callable[[Kind], bytes | None]
# (case, the file's bytes for a kind (None: no file), the sentence; {file}, {column}, {n} and the
# Kind's fields are filled in)
REFUSED: list[tuple[str, Make, str]] = [
    ("missing file", lambda k: None, "{file} does not exist."),
    ("not UTF-8 (Excel's plain CSV, Windows-1252)",
     lambda k: f"{k.header}\r\n{k.accented}\r\n".encode("cp1252"),
     "{file}, row 2: the {column} cell is not UTF-8 text; save the file as CSV UTF-8."),
    ("UTF-16 (Excel's Unicode text)", lambda k: _plain(k, "\r\n").replace(",", "\t").encode("utf-16"),
     "{file} is UTF-16 text (Excel's \"Unicode text\"); save the file as CSV UTF-8."),
    ("empty", lambda k: b"", "{file}{empty}"),
    ("a BOM and blank lines", lambda k: b"\xef\xbb\xbf\r\n \r\n\r\n", "{file}{empty}"),
    ("header only", lambda k: f"{k.header}\r\n\r\n".encode(), "{file}{no_rows}"),
    ("wrong header", lambda k: b"foo,bar\n1,2\n", "{file}{wrong_header}"),
    ("a field too many (an unquoted comma)", lambda k: f"{_plain(k)}{k.row},x\n".encode(),
     "{file}, row 3: found {more} fields where the header has {n}."),
    ("a field too few", lambda k: f"{_plain(k)}{k.row.rsplit(',', 1)[0]}\n".encode(),
     "{file}, row 3: found {fewer} fields where the header has {n}."),
    ("a quote left open", lambda k: f'{_plain(k)}"{k.row}\n{k.row}\n'.encode(),
     "{file}, row 3: the CSV is malformed (unexpected end of data)."),
    ("text after a closing quote", lambda k: f'{k.header}\n"x"y{k.row}\n'.encode(),
     "{file}, row 2: the CSV is malformed (',' expected after '\"')."),
]  # fmt: skip

# (case, the file's bytes for a kind): each reads as the plain comma-separated UTF-8 file does.
ACCEPTED: list[tuple[str, Make]] = [
    ("plain", lambda k: _plain(k).encode()),
    ("a UTF-8 BOM (Excel's CSV UTF-8)", lambda k: b"\xef\xbb\xbf" + _plain(k).encode()),
    ("CRLF", lambda k: _plain(k, "\r\n").encode()),
    ("semicolons (Excel where the decimal separator is a comma)", lambda k: _plain(k).replace(",", ";").encode()),
    ("tabs", lambda k: _plain(k).replace(",", "\t").encode()),
    ("blank lines before the header", lambda k: b"\r\n\r\n" + _plain(k, "\r\n").encode()),
    ("the header in capitals", lambda k: f"{k.header.upper()}\n{k.row}\n".encode()),
]  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "store.sqlite"
    finance_tenant.build(str(path))
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the finance tenant's store in a folder of its own; the files go in the
    working directory, so sentences name them as a person typed them."""
    folder = tmp_path / "store"
    folder.mkdir()
    path = folder / "store.sqlite"
    shutil.copy(template, path)
    monkeypatch.setenv("LICENSE_DESK_STORE", str(path))
    monkeypatch.chdir(tmp_path)
    return path


def _state(store: Path) -> tuple[list[str], list[str]]:
    """Everything a command could have written: the store's content and the files beside it."""
    conn = sqlite3.connect(store)
    try:
        dump = list(conn.iterdump())
    finally:
        conn.close()
    return dump, sorted(p.name for p in store.parent.iterdir())


def _run(kind: Kind, name: str) -> Result:
    return CliRunner().invoke(cli, [*kind.args, name])


def _expected(sentence: str, kind: Kind, file: str) -> str:
    n = _fields(kind)
    return sentence.format(file=file, column=kind.column, n=n, more=n + 1, fewer=n - 1, empty=kind.empty,
                           no_rows=kind.no_rows, wrong_header=kind.wrong_header)  # fmt: skip


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("case", "make", "sentence"), REFUSED, ids=[c[0] for c in REFUSED])
def test_a_refused_file_is_one_sentence_naming_it_and_nothing_is_written(
    kind: str, case: str, make: Make, sentence: str, store: Path
) -> None:
    content = make(KINDS[kind])
    if content is not None:
        Path(f"{kind}.csv").write_bytes(content)
    before = _state(store)
    result = _run(KINDS[kind], f"{kind}.csv")
    assert result.exit_code == 1, result.output
    assert result.stderr == f"license-desk: error: {_expected(sentence, KINDS[kind], f'{kind}.csv')}\n"
    assert result.stdout == ""
    assert _state(store) == before


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_file_that_cannot_be_read_is_one_sentence(kind: str, store: Path) -> None:
    Path("notes.txt").write_text("not a folder\n")
    before = _state(store)
    result = _run(KINDS[kind], "notes.txt/list.csv")  # a path through a file: ENOTDIR
    assert result.exit_code == 1, result.output
    assert result.stderr == "license-desk: error: notes.txt/list.csv cannot be read (Not a directory).\n"
    assert _state(store) == before


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_directory_is_refused_before_anything_is_read(kind: str, store: Path) -> None:
    Path("folder.csv").mkdir()
    before = _state(store)
    result = _run(KINDS[kind], "folder.csv")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith("File 'folder.csv' is a directory.")
    assert _state(store) == before


@pytest.mark.parametrize("kind", list(KINDS))
def test_many_bad_rows_print_the_first_20_and_a_count(kind: str, store: Path) -> None:
    spec = KINDS[kind]
    Path("big.csv").write_text(spec.header + "\n" + f"{spec.row},x\n" * 25)
    before = _state(store)
    result = _run(spec, "big.csv")
    assert result.exit_code == 1
    n = _fields(spec)
    assert result.stderr.splitlines() == [
        f"license-desk: error: big.csv, row 2: found {n + 1} fields where the header has {n}.",
        *(f"big.csv, row {row}: found {n + 1} fields where the header has {n}." for row in range(3, 22)),
        "... and 5 more problem(s).",
        spec.outcome,
    ]
    assert _state(store) == before


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("case", "make"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_a_tolerated_quirk_reads_as_the_plain_file(kind: str, case: str, make: Make, store: Path) -> None:
    content = make(KINDS[kind])
    assert content is not None
    Path(f"{kind}.csv").write_bytes(content)
    result = _run(KINDS[kind], f"{kind}.csv")
    assert result.exit_code == 0, result.output
    assert KINDS[kind].read in result.stdout


def test_an_unquoted_comma_in_a_name_does_not_give_the_licence_to_the_next_column(store: Path) -> None:
    # Before, the row was read as four fields and the third, the manager's, taken as the user.
    Path("users.csv").write_text(
        "displayName,manager,userPrincipalName\nMüller, Ann,cat@contoso.com,ann@contoso.com\n"
    )
    result = _run(KINDS["users"], "users.csv")
    assert result.exit_code == 1
    assert result.stderr == "license-desk: error: users.csv, row 2: found 4 fields where the header has 3.\n"
    assert "cat@contoso.com" not in result.stdout


# -- the dashboard's uploads ---------------------------------------------------------------------
@pytest.fixture
def app(store: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    yield AppTest.from_file(APP, default_timeout=60).run()
    st.cache_data.clear()
    st.cache_resource.clear()


def _upload_users(at: AppTest, content: bytes) -> AppTest:
    at.switch_page("app_pages/fix.py").run()
    at.radio(key="fix_source").set_value("A list of users").run()
    at.selectbox(key="fix_sku").set_value("VISIOCLIENT").run()
    at.file_uploader(key="fix_file").set_value(("users.csv", content, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


UPLOADS: list[tuple[str, Make, str]] = [
    REFUSED[1], REFUSED[2], REFUSED[7], REFUSED[9],
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "sentence"), UPLOADS, ids=[c[0] for c in UPLOADS])
def test_a_users_upload_is_read_as_the_users_file(
    case: str, make: Make, sentence: str, app: AppTest, store: Path
) -> None:
    content = make(KINDS["users"])
    assert content is not None
    before = _state(store)
    at = _upload_users(app, content)
    assert [e.value for e in at.error] == [_expected(sentence, KINDS["users"], "users.csv")]
    assert not at.dataframe  # no plan previewed, nothing to apply
    assert _state(store) == before


def test_a_good_users_upload_plans_the_users(app: AppTest) -> None:
    at = _upload_users(app, b"\xef\xbb\xbf" + _plain(KINDS["users"]).replace(",", ";").encode())
    assert not at.error, [e.value for e in at.error]
    assert at.dataframe[0].value["user_principal_name"].tolist() == ["ann@contoso.com"]


def test_a_price_upload_with_many_bad_rows_shows_the_first_20_and_a_count(app: AppTest, store: Path) -> None:
    spec = KINDS["prices"]
    before = _state(store)
    at = _upload_prices(app, (spec.header + "\n" + f"{spec.row},x\n" * 25).encode())
    errors = [e.value for e in at.error]
    assert len(errors) == 21
    assert errors[0] == "prices.csv, row 2: found 6 fields where the header has 5."
    assert errors[-1] == "... and 5 more problem(s)."
    assert _state(store) == before


def _upload_prices(at: AppTest, content: bytes) -> AppTest:
    at.switch_page("app_pages/costs.py").run()
    at.file_uploader(key="price_upload_0").set_value(("prices.csv", content, "text/csv")).run()
    at.button(key="price_import").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(("case", "make", "sentence"), UPLOADS, ids=[c[0] for c in UPLOADS])
def test_a_price_upload_is_read_as_the_price_file(
    case: str, make: Make, sentence: str, app: AppTest, store: Path
) -> None:
    # The sentence `license-desk prices import prices.csv` prints for the same bytes (REFUSED).
    content = make(KINDS["prices"])
    assert content is not None
    before = _state(store)
    at = _upload_prices(app, content)
    assert [e.value for e in at.error] == [_expected(sentence, KINDS["prices"], "prices.csv")]
    assert _state(store) == before


def test_a_price_upload_with_a_bom_and_semicolons_is_imported(app: AppTest, store: Path) -> None:
    at = _upload_prices(app, b"\xef\xbb\xbf" + _plain(KINDS["prices"]).replace(",", ";").encode())
    assert not at.error, [e.value for e in at.error]
    # KINDS["prices"].row: one price, replacing the finance tenant's 7 (finance_tenant.PRICE_CSV).
    assert [s.value for s in at.success] == ["Imported 1 price row(s) from prices.csv; 7 old row(s) removed."]
