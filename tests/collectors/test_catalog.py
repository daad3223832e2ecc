"""Tests for collectors.catalog: our shipped SKU table and the importer for Microsoft's catalog CSV."""

from __future__ import annotations

import csv
import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from collectors.catalog import (
    KINDS,
    MICROSOFT_COLUMNS,
    Catalog,
    CatalogPlan,
    CatalogProduct,
    builtin_catalog,
    load_common_skus,
    parse_microsoft_catalog,
)
from licensedesk.errors import InputError

REFERENCE = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "licensing-service-plan-reference.csv"
)
COMMON_SKUS = Path(__file__).resolve().parents[2] / "collectors" / "data" / "common_skus.csv"
HEADER = ",".join(MICROSOFT_COLUMNS)

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
O365_E5 = "c7df2760-2c81-4ef7-b578-5b5392b571df"
EXO_FOUNDATION = "113feb6c-3fe4-4440-bddc-54d774bf0318"
EXO_PLAN2 = "efb87545-963c-4e0d-99df-69c6916d9eb0"
TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929"


def write(tmp_path: Path, text: str, name: str = "catalog.csv", bom: bool = True) -> Path:
    """Write ``text`` (lines joined with LF) as a CSV with CRLF line endings and, by default, a BOM."""
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.replace("\n", "\r\n").encode("utf-8"))
    return path


def data_row(guid: str = E3, plan: str = EXO_FOUNDATION, *, name: str = "Microsoft 365 E3") -> str:
    return f"{name},SPE_E3,{guid},EXCHANGE_S_FOUNDATION,{plan},Exchange Foundation"


# --- a small hand-written file: BOM, CRLF, trailing spaces, NBSP, tabs, repeats -------------------------

SMALL = (
    f"{HEADER}\n"
    # trailing space in the part number, NBSP after the GUID (as in Microsoft's file), upper-case GUID
    f"Microsoft 365 E3,SPE_E3 ,{E3.upper()}\u00a0,EXCHANGE_S_FOUNDATION,{EXO_FOUNDATION},"
    "Exchange Foundation\n"
    # a tab and doubled spaces inside the plan name, NBSP inside the friendly name
    f"Microsoft 365 E3,SPE_E3,{E3},EXCHANGE_S_\tENTERPRISE ,{EXO_PLAN2},Exchange Online\u00a0(Plan  2)\n"
    # the same (product, plan) again with identical values: dropped silently
    f"Microsoft 365 E3 ,SPE_E3,{E3},EXCHANGE_S_FOUNDATION,{EXO_FOUNDATION},Exchange Foundation\n"
    "\n"
    # inner spaces that are part of a real id survive (collapsed to one), a quoted name with a comma
    f'"Office 365 E5, the old one",Microsoft_365_\u00a0 Business_ Premium ,{O365_E5},TEAMS1,{TEAMS},'
    "MICROSOFT TEAMS\n"
    # a repeated GUID with a different product name: the first name wins, with a warning
    f"Office 365 E5 (renamed),Microsoft_365_ Business_ Premium,{O365_E5},EXCHANGE_S_FOUNDATION,"
    f"{EXO_FOUNDATION},Exchange Foundation\n"
    # the same product name differing only in case is not a conflict; an empty friendly name falls back
    f'"OFFICE 365 E5, THE OLD ONE",Microsoft_365_ Business_ Premium,{O365_E5},EXCHANGE_S_ENTERPRISE,'
    f"{EXO_PLAN2},\n"
)


def test_small_file_parses_with_whitespace_normalised(tmp_path: Path) -> None:
    catalog = parse_microsoft_catalog(write(tmp_path, SMALL))

    assert catalog.products == (
        CatalogProduct(sku_id=E3, sku_part_number="SPE_E3", name="Microsoft 365 E3", kind=None),
        CatalogProduct(
            sku_id=O365_E5,
            sku_part_number="Microsoft_365_ Business_ Premium",
            name="Office 365 E5, the old one",
            kind=None,
        ),
    )
    assert catalog.plans == (
        CatalogPlan(E3, EXO_FOUNDATION, "EXCHANGE_S_FOUNDATION", "Exchange Foundation"),
        CatalogPlan(E3, EXO_PLAN2, "EXCHANGE_S_ ENTERPRISE", "Exchange Online (Plan 2)"),
        CatalogPlan(O365_E5, TEAMS, "TEAMS1", "MICROSOFT TEAMS"),
        CatalogPlan(O365_E5, EXO_FOUNDATION, "EXCHANGE_S_FOUNDATION", "Exchange Foundation"),
        CatalogPlan(O365_E5, EXO_PLAN2, "EXCHANGE_S_ENTERPRISE", "EXCHANGE_S_ENTERPRISE"),
    )
    assert len(catalog.warnings) == 1
    (warning,) = catalog.warnings
    assert "Row 7" in warning and "row 6" in warning and O365_E5 in warning
    assert "'Office 365 E5 (renamed)'" in warning and "\n" not in warning


def test_small_file_lookups(tmp_path: Path) -> None:
    catalog = parse_microsoft_catalog(str(write(tmp_path, SMALL)))

    assert catalog.name_for(E3) == "Microsoft 365 E3"
    assert catalog.name_for(f" {E3.upper()} ") == "Microsoft 365 E3"
    assert catalog.name_for("00000000-0000-0000-0000-000000000000") is None
    assert catalog.name_for("SPE_E3") is None  # never joined on the part number
    product = catalog.product_for(O365_E5)
    assert product is not None and product.sku_part_number == "Microsoft_365_ Business_ Premium"
    assert [plan.service_plan_id for plan in catalog.plans_for(E3)] == [EXO_FOUNDATION, EXO_PLAN2]
    assert catalog.plans_for("00000000-0000-0000-0000-000000000000") == ()


def test_columns_may_come_in_any_order_and_without_bom_or_crlf(tmp_path: Path) -> None:
    order = list(reversed(MICROSOFT_COLUMNS))
    row = dict(zip(MICROSOFT_COLUMNS, data_row().split(","), strict=True))
    path = tmp_path / "reordered.csv"
    path.write_text(",".join(order) + "\n" + ",".join(row[name] for name in order) + "\n", encoding="utf-8")

    catalog = parse_microsoft_catalog(path)

    assert catalog.products == (CatalogProduct(E3, "SPE_E3", "Microsoft 365 E3"),)
    assert catalog.plans == (CatalogPlan(E3, EXO_FOUNDATION, "EXCHANGE_S_FOUNDATION", "Exchange Foundation"),)
    assert catalog.warnings == ()


def test_conflicting_plan_names_keep_the_first_and_warn_once(tmp_path: Path) -> None:
    renamed = data_row().replace("Exchange Foundation", "Exchange Foundation v2")
    shouting = data_row().upper()  # differs only in case: not a conflict
    text = "\n".join([HEADER, data_row(), renamed, renamed, shouting])
    catalog = parse_microsoft_catalog(write(tmp_path, text))

    assert catalog.plans == (CatalogPlan(E3, EXO_FOUNDATION, "EXCHANGE_S_FOUNDATION", "Exchange Foundation"),)
    assert len(catalog.warnings) == 1
    assert "Row 3" in catalog.warnings[0] and "'Exchange Foundation v2'" in catalog.warnings[0]


def test_catalog_is_frozen() -> None:
    catalog = Catalog(products=(CatalogProduct(E3, "SPE_E3", "Microsoft 365 E3", "suite"),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.products = ()  # type: ignore[misc]
    assert catalog == Catalog(products=(CatalogProduct(E3, "SPE_E3", "Microsoft 365 E3", "suite"),))
    assert hash(catalog) == hash(Catalog(products=catalog.products))


# --- bad input: one sentence, naming the file and the row -----------------------------------------------

BAD_ROWS = [
    pytest.param(
        f"{HEADER}\n{data_row()}\n{data_row(guid='abc')}\n",
        3,
        "GUID 'abc' is not a GUID.",
        id="invalid-guid",
    ),
    pytest.param(
        f"{HEADER}\n{data_row(plan='{' + EXO_FOUNDATION + '}')}\n",
        2,
        "Service_Plan_Id '{113feb6c-3fe4-4440-bddc-54d774bf0318}' is not a GUID.",
        id="invalid-plan-guid",
    ),
    pytest.param(
        f"{HEADER}\n{data_row()}\n"
        f'Microsoft 365 E3,SPE_E3,"{E3}\nabc",EXCHANGE_S_FOUNDATION,{EXO_FOUNDATION},x\n',
        3,
        "is not a GUID.",
        id="guid-with-newline-stays-one-line",
    ),
    pytest.param(
        f"{HEADER}\n{data_row()}\n{data_row()},extra\n",
        3,
        "found 7 fields where the header has 6.",
        id="too-many-fields",
    ),
    pytest.param(
        f"{HEADER}\n{data_row()}\n{data_row()}\nMicrosoft 365 E3,SPE_E3,{E3}\n",
        4,
        "found 3 fields where the header has 6.",
        id="too-few-fields",
    ),
    pytest.param(
        HEADER + "\n" + data_row(name=" \u00a0 ") + "\n",
        2,
        "Product_Display_Name is empty.",
        id="empty-name",
    ),
    pytest.param(
        f"{HEADER}\n{data_row().replace(E3, '')}\n",
        2,
        "GUID is empty.",
        id="empty-guid",
    ),
    pytest.param(
        "Product_Display_Name,String_Id,GUID,Service_Plan_Name\nMicrosoft 365 E3,SPE_E3,{E3},X\n",
        1,
        "the header lacks Service_Plan_Id, Service_Plans_Included_Friendly_Names;",
        id="missing-columns",
    ),
    pytest.param(
        f"{HEADER},Price\n{data_row()},10\n",
        1,
        "the header has unexpected 'Price';",
        id="unexpected-column",
    ),
    pytest.param(
        f"{HEADER},GUID\n{data_row()},{E3}\n",
        1,
        "the header repeats GUID;",
        id="repeated-column",
    ),
    pytest.param(
        "sku,unit_price,currency,period,effective_from\nSPE_E3,36,USD,month,2025-01-01\n",
        1,
        "the header lacks Product_Display_Name, String_Id, GUID,",
        id="wrong-file",
    ),
    pytest.param(
        f'{HEADER}\n{data_row()}\n"Microsoft 365 E3"x,SPE_E3,{E3},A,{EXO_FOUNDATION},B\n',
        3,
        "the CSV is malformed",
        id="bad-quoting",
    ),
    pytest.param(
        f'{HEADER}\n{data_row()}\n"Microsoft 365 E3,SPE_E3,{E3},A,{EXO_FOUNDATION},B\n',
        3,
        "the CSV is malformed",
        id="unterminated-quote",
    ),
]


@pytest.mark.parametrize(("text", "row", "what"), BAD_ROWS)
def test_bad_rows_raise_one_sentence_naming_file_and_row(
    tmp_path: Path, text: str, row: int, what: str
) -> None:
    path = write(tmp_path, text, name="licenses.csv")

    with pytest.raises(InputError) as caught:
        parse_microsoft_catalog(path)

    message = str(caught.value)
    assert message.startswith(f"{path}, row {row}: ")
    assert what in message
    assert "\n" not in message and "\r" not in message
    assert message.endswith(".") and message.count(". ") == 0


def test_invalid_guid_message_is_exactly_one_sentence(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{data_row()}\n{data_row(guid='abc')}\n", name="licenses.csv")
    with pytest.raises(InputError, match=r"licenses\.csv, row 3: GUID 'abc' is not a GUID\.$"):
        parse_microsoft_catalog(path)


def test_not_utf8_names_the_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    # NBSP and an accented letter saved as Windows-1252, as Excel's plain "CSV" does
    path.write_bytes(
        (f"{HEADER}\r\n{data_row()}\r\n" + data_row(name="Microsoft\xa0365 E3 caf\xe9") + "\r\n").encode(
            "cp1252"
        )
    )

    with pytest.raises(InputError) as caught:
        parse_microsoft_catalog(path)

    message = str(caught.value)
    assert message == (
        f"{path}, row 3: the Product_Display_Name cell is not UTF-8 text; save the file as CSV UTF-8."
    )


def test_utf16_file_is_refused_as_such(tmp_path: Path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes(f"{HEADER}\r\n{data_row()}\r\n".encode("utf-16"))

    with pytest.raises(
        InputError,
        match=r'unicode\.csv is UTF-16 text \(Excel\'s "Unicode text"\); save the file as CSV UTF-8\.$',
    ):
        parse_microsoft_catalog(path)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="zero-bytes"),
        pytest.param(b"\xef\xbb\xbf", id="bom-only"),
        pytest.param(b"\r\n \r\n", id="blank"),
    ],
)
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(
        InputError, match=r"^.*empty\.csv is empty; expected the header Product_Display_Name,.*\.$"
    ):
        parse_microsoft_catalog(path)


def test_header_without_data_rows(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n\n")
    with pytest.raises(InputError, match=r"catalog\.csv has a header but no data rows\.$"):
        parse_microsoft_catalog(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(InputError, match=r"nowhere\.csv does not exist\.$"):
        parse_microsoft_catalog(path)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"is a directory, not a file\.$"):
        parse_microsoft_catalog(tmp_path)


# --- our shipped table --------------------------------------------------------------------------------

REQUIRED_PART_NUMBERS = {
    "SPE_E3", "SPE_E5", "SPE_F1", "ENTERPRISEPACK", "ENTERPRISEPREMIUM", "STANDARDPACK", "DESKLESSPACK",
    "SPB", "O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM", "POWER_BI_PRO", "PBI_PREMIUM_PER_USER",
    "POWER_BI_STANDARD", "VISIOCLIENT", "PROJECTPROFESSIONAL", "PROJECTPREMIUM", "AAD_PREMIUM",
    "AAD_PREMIUM_P2", "EMS", "EMSPREMIUM", "Microsoft_365_Copilot", "WORKPLACE_ANALYTICS",
    "EXCHANGESTANDARD", "EXCHANGEENTERPRISE", "FLOW_FREE", "POWERAPPS_VIRAL", "TEAMS_EXPLORATORY",
    "MCOMEETADV", "MCOEV", "Microsoft_Teams_Premium", "INTUNE_A", "ATP_ENTERPRISE",
    "IDENTITY_THREAT_PROTECTION", "WIN10_VDA_E3", "DYN365_ENTERPRISE_SALES", "RIGHTSMANAGEMENT", "STREAM",
}  # fmt: skip
FREE_PART_NUMBERS = {
    "FLOW_FREE", "POWER_BI_STANDARD", "TEAMS_EXPLORATORY", "STREAM", "CCIBOTS_PRIVPREV_VIRAL",
    "POWERAPPS_VIRAL", "POWERAPPS_DEV", "RIGHTSMANAGEMENT_ADHOC", "WINDOWS_STORE", "MCOPSTNC",
}  # fmt: skip


def test_common_skus_table_is_well_formed() -> None:
    with COMMON_SKUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["sku_id", "sku_part_number", "name", "kind"]
    assert 35 <= len(rows) <= 60
    ids = [row["sku_id"] for row in rows]
    assert len(set(ids)) == len(ids), "duplicate sku_id"
    assert len({row["sku_part_number"] for row in rows}) == len(rows), "duplicate part number"
    assert len({row["name"] for row in rows}) == len(rows), "duplicate name"
    assert {row["kind"] for row in rows} <= KINDS
    for row in rows:
        assert all(value == value.strip() and value for value in row.values()), row


def test_load_common_skus() -> None:
    products = load_common_skus()

    assert products is load_common_skus()  # cached, immutable
    by_part = {product.sku_part_number: product for product in products}
    assert REQUIRED_PART_NUMBERS <= set(by_part)
    assert all(by_part[part].kind == "free" for part in FREE_PART_NUMBERS)
    assert by_part["SPE_E3"] == CatalogProduct(E3, "SPE_E3", "Microsoft 365 E3", "suite")
    assert by_part["ENTERPRISEPREMIUM"].sku_id == O365_E5
    assert by_part["SPE_F1"].name == "Microsoft 365 F3"
    assert by_part["Microsoft_365_Copilot"].kind == "addon"
    assert all(product.kind in KINDS for product in products)
    assert all(product.sku_id == product.sku_id.lower() for product in products)
    assert len({product.sku_id for product in products}) == len(products)


def test_builtin_catalog() -> None:
    catalog = builtin_catalog()
    assert catalog.name_for(E3.upper()) == "Microsoft 365 E3"
    assert catalog.plans == () and catalog.warnings == ()
    assert len(catalog.products) == len(load_common_skus())


# --- Microsoft's real catalog (shared/reference), when present ---------------------------------------

needs_reference = pytest.mark.skipif(
    not REFERENCE.is_file(), reason=f"Microsoft's catalog CSV is not at {REFERENCE}"
)


@pytest.fixture(scope="module")
def reference() -> Catalog:
    return parse_microsoft_catalog(REFERENCE)


# The figures below were counted independently with pandas 3.1
# (pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)):
# 5,457 rows, 569 distinct GUID, 568 distinct String_Id, 723 distinct Service_Plan_Id,
# 5,448 distinct (GUID, Service_Plan_Id) pairs, 56 rows for GUID c7df2760-... (Office 365 E5).


@needs_reference
def test_reference_counts(reference: Catalog) -> None:
    assert len(reference.products) == 569
    assert len(reference.plans) == 5448
    assert len({plan.service_plan_id for plan in reference.plans}) == 723
    assert len({product.sku_part_number for product in reference.products}) == 568
    assert len({(plan.sku_id, plan.service_plan_id) for plan in reference.plans}) == 5448


@needs_reference
def test_reference_office_365_e5(reference: Catalog) -> None:
    product = reference.product_for(O365_E5)
    assert product == CatalogProduct(O365_E5, "ENTERPRISEPREMIUM", "Office 365 E5", None)
    assert len(reference.plans_for(O365_E5)) == 56
    assert len({plan.service_plan_id for plan in reference.plans_for(O365_E5)}) == 56


@needs_reference
def test_reference_whitespace_is_normalised(reference: Catalog) -> None:
    parts = {product.sku_part_number for product in reference.products}
    # 13 rows carry a trailing space (or NBSP) in String_Id; they come out stripped
    for part in (
        "AAD_PREMIUM_USGOV_GCCHIGH",
        "ATP_ENTERPRISE_USGOV_GCCHIGH",
        "PHONESYSTEM_VIRTUALUSER_USGOV_GCCHIGH",
        "MCOCAP_FACULTY",
    ):
        assert part in parts
    # inner spaces that are part of real ids are kept; inner NBSPs become spaces
    assert "Microsoft_365_ Business_ Premium_(no Teams)" in parts
    assert "O365_w/o Teams Bundle_M3" in parts
    # the GUID with a trailing NBSP (7 rows) is accepted
    mcocap = reference.product_for("420c7602-7f70-4895-9394-d3d679ea36fb")
    assert mcocap is not None and mcocap.sku_part_number == "MCOCAP_FACULTY"
    # a plan name with tabs between its words
    assert "Virtualization Rights for Windows 10 (E3/E5+VDA)" in {
        plan.service_plan_name for plan in reference.plans
    }
    for product in reference.products:
        for value in (product.sku_part_number, product.name):
            assert (
                value == value.strip() and "\u00a0" not in value and "  " not in value and "\t" not in value
            )
    for plan in reference.plans:
        for value in (plan.service_plan_name, plan.friendly_name):
            assert (
                value == value.strip() and "\u00a0" not in value and "  " not in value and "\t" not in value
            )


@needs_reference
def test_reference_part_number_shared_by_two_guids(reference: Catalog) -> None:
    counts = Counter(product.sku_part_number for product in reference.products)
    assert [part for part, count in counts.items() if count > 1] == ["MCOPSTN5"]
    assert {product.sku_id for product in reference.products if product.sku_part_number == "MCOPSTN5"} == {
        "d43177b5-475b-4880-92d4-d54c27b5efbd",
        "54a152dc-90de-4996-93d2-bc47e670fc06",
    }


@needs_reference
def test_reference_warnings_are_the_known_conflicting_repeats(reference: Catalog) -> None:
    # Two products list the same service plan twice under different names
    # (MCOMEETADV_GOV once, PROJECTPREMIUM_FACULTY four times); no GUID has two product names.
    assert len(reference.warnings) == 5
    assert sum("MCOMEETADV_GOV" in warning for warning in reference.warnings) == 1
    assert sum("PROJECTPREMIUM_FACULTY" in warning for warning in reference.warnings) == 4
    assert all("\n" not in warning for warning in reference.warnings)


@needs_reference
def test_common_skus_agree_with_reference(reference: Catalog) -> None:
    for product in load_common_skus():
        official = reference.product_for(product.sku_id)
        assert official is not None, f"{product.sku_part_number} {product.sku_id} is not in Microsoft's CSV"
        assert official.sku_part_number == product.sku_part_number, product
