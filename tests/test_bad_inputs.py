"""The bad-input catalogue: each malformed input gets one clear sentence or a documented tolerant
behaviour; never a traceback, never a partial write. (The price-book CSV has its own table of
bad rows in tests/cli/test_finance_cli.py and tests/store/test_prices.py.)"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from actions.plan import parse_user_list
from collectors.catalog import parse_microsoft_catalog
from collectors.groups import group_rows
from collectors.skus import sku_rows
from collectors.subscriptions import subscription_rows
from collectors.users import user_page_rows
from licensedesk.config import load_settings
from licensedesk.errors import ConfigError, InputError, StoreError
from store.db import open_store

GUID = "c7df2760-2c81-4ef7-b578-5b5392b571df"
HEADER = "Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names"
ROW = f"Office 365 E5,ENTERPRISEPREMIUM,{GUID},EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange"


def _users(page: list[Any]) -> tuple[int, int, list[tuple[Any, ...]]]:
    rows = user_page_rows(page, with_signins=True)
    return len(rows.users), rows.skipped, [tuple(r) for r in rows.licenses]


# -- Graph payloads: tolerated, with the documented outcome --------------------------------------
PAYLOADS: list[tuple[str, Callable[[], Any], Any]] = [
    ("empty user page", lambda: _users([]), (0, 0, [])),
    ("user without id", lambda: _users([{"displayName": "x"}]), (0, 1, [])),
    ("user id null", lambda: _users([{"id": None}]), (0, 1, [])),
    ("user id a number", lambda: _users([{"id": 42}]), (0, 1, [])),
    ("user is a string", lambda: _users(["oops"]), (0, 1, [])),
    ("user is null", lambda: _users([None]), (0, 1, [])),
    ("licence states null", lambda: _users([{"id": "u", "licenseAssignmentStates": None}]), (1, 0, [])),
    ("licence states a dict", lambda: _users([{"id": "u", "licenseAssignmentStates": {}}]), (1, 0, [])),
    (
        "licence state without skuId",
        lambda: _users([{"id": "u", "licenseAssignmentStates": [{"state": "Active"}]}]),
        (1, 0, []),
    ),
    (
        "licence state not an object",
        lambda: _users([{"id": "u", "licenseAssignmentStates": ["x"]}]),
        (1, 0, []),
    ),
    (
        "unknown state and error kept",
        lambda: _users(
            [
                {
                    "id": "u",
                    "licenseAssignmentStates": [{"skuId": GUID, "state": "Frozen", "error": "NewError"}],
                }
            ]
        ),
        (1, 0, [("u", GUID, "", "Frozen", "NewError", "", None)]),
    ),
    (
        "error 'None' means none",
        lambda: _users(
            [{"id": "u", "licenseAssignmentStates": [{"skuId": GUID, "state": "Active", "error": "None"}]}]
        ),
        (1, 0, [("u", GUID, "", "Active", "", "", None)]),
    ),
    (
        "disabledPlans not a list",
        lambda: _users(
            [
                {
                    "id": "u",
                    "licenseAssignmentStates": [{"skuId": GUID, "state": "Active", "disabledPlans": "x"}],
                }
            ]
        ),
        (1, 0, [("u", GUID, "", "Active", "", "", None)]),
    ),
    (
        "assignedLicenses entry not an object",
        lambda: _users([{"id": "u", "assignedLicenses": ["x", None]}]),
        (1, 0, []),
    ),
    ("repeated user across one page", lambda: _users([{"id": "u"}, {"id": "U"}]), (1, 0, [])),
    (
        "signInActivity a string",
        lambda: (
            user_page_rows([{"id": "u", "signInActivity": "x"}], with_signins=True).signins[0].last_sign_in_at
        ),
        None,
    ),
    (
        "year-1 sign-in means never",
        lambda: (
            user_page_rows(
                [{"id": "u", "signInActivity": {"lastSignInDateTime": "0001-01-01T00:00:00Z"}}],
                with_signins=True,
            )
            .signins[0]
            .last_sign_in_at
        ),
        None,
    ),
    (
        "sign-in date a number",
        lambda: (
            user_page_rows([{"id": "u", "signInActivity": {"lastSignInDateTime": 5}}], with_signins=True)
            .signins[0]
            .last_sign_in_at
        ),
        None,
    ),
    (
        "accountEnabled a string",
        lambda: (
            user_page_rows([{"id": "u", "accountEnabled": "true"}], with_signins=False)
            .users[0]
            .account_enabled
        ),
        None,
    ),
    ("sku without skuId dropped", lambda: len(sku_rows([{"skuPartNumber": "X"}])[0]), 0),
    (
        "prepaidUnits null counts 0",
        lambda: sku_rows([{"skuId": GUID, "prepaidUnits": None}])[0][0].enabled,
        0,
    ),
    (
        "negative units clipped to 0",
        lambda: sku_rows([{"skuId": GUID, "prepaidUnits": {"enabled": -5}}])[0][0].enabled,
        0,
    ),
    (
        "consumedUnits a string counts 0",
        lambda: sku_rows([{"skuId": GUID, "consumedUnits": "7"}])[0][0].consumed,
        0,
    ),
    ("boolean unit counts 0", lambda: sku_rows([{"skuId": GUID, "consumedUnits": True}])[0][0].consumed, 0),
    ("servicePlans not objects", lambda: sku_rows([{"skuId": GUID, "servicePlans": ["x", None]}])[1], []),
    ("subscription without id dropped", lambda: subscription_rows([{"skuId": GUID}]), []),
    (
        "isTrial a string is unknown",
        lambda: subscription_rows([{"id": "s", "isTrial": "no"}])[0].is_trial,
        None,
    ),
    (
        "group without id dropped",
        lambda: group_rows([{"displayName": "g", "assignedLicenses": [{"skuId": GUID}]}], set()),
        ([], []),
    ),
    ("unlicensed group skipped", lambda: len(group_rows([{"id": "g", "assignedLicenses": []}], set())[0]), 0),
    (
        "processing state not an object",
        lambda: (
            group_rows(
                [{"id": "g", "assignedLicenses": [{"skuId": GUID}], "licenseProcessingState": "x"}], set()
            )[0][0].processing_state
        ),
        None,
    ),
]


@pytest.mark.parametrize(("case", "call", "expected"), PAYLOADS, ids=[c[0] for c in PAYLOADS])
def test_graph_payloads_are_tolerated_as_documented(
    case: str, call: Callable[[], Any], expected: Any
) -> None:
    assert call() == expected


# -- Configuration: one sentence naming the setting ---------------------------------------------
CONFIG: list[tuple[str, dict[str, str], str]] = [
    (
        "http graph url",
        {"LICENSE_DESK_GRAPH_URL": "http://graph.microsoft.com/v1.0"},
        "LICENSE_DESK_GRAPH_URL must be an https URL",
    ),
    (
        "graph url without host",
        {"LICENSE_DESK_GRAPH_URL": "https:///v1.0"},
        "LICENSE_DESK_GRAPH_URL must be an https URL",
    ),
    (
        "authority not a url",
        {"LICENSE_DESK_AUTHORITY_URL": "login"},
        "LICENSE_DESK_AUTHORITY_URL must be an https URL",
    ),
    (
        "writes flag not boolean",
        {"LICENSE_DESK_ALLOW_WRITES": "sure"},
        "LICENSE_DESK_ALLOW_WRITES must be true or false",
    ),
    (
        "inactive days not a number",
        {"LICENSE_DESK_INACTIVE_DAYS": "3 months"},
        "LICENSE_DESK_INACTIVE_DAYS must be a whole number",
    ),
    (
        "inactive days zero",
        {"LICENSE_DESK_INACTIVE_DAYS": "0"},
        "LICENSE_DESK_INACTIVE_DAYS must be positive",
    ),
    (
        "tenant with a slash",
        {"LICENSE_DESK_TENANT_ID": "contoso/evil"},
        "LICENSE_DESK_TENANT_ID must be a tenant id",
    ),
    ("store URL of another database", {"LICENSE_DESK_STORE": "mysql://db/x"}, "not a mysql:// URL"),
    (
        "SQLite URL with two slashes",
        {"LICENSE_DESK_STORE": "sqlite://x.sqlite"},
        "sqlite:///PATH (three slashes)",
    ),
]


@pytest.mark.parametrize(("case", "environ", "fragment"), CONFIG, ids=[c[0] for c in CONFIG])
def test_bad_configuration_is_one_sentence(case: str, environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ)
    assert fragment in str(err.value) and "\n" not in str(err.value)


CONNECT: list[tuple[str, dict[str, str], str]] = [
    ("missing tenant", {"LICENSE_DESK_CLIENT_ID": "c", "LICENSE_DESK_CLIENT_SECRET": "s"}, "set LICENSE_DESK_TENANT_ID"),
    ("missing client", {"LICENSE_DESK_TENANT_ID": "t", "LICENSE_DESK_CLIENT_SECRET": "s"}, "set LICENSE_DESK_CLIENT_ID"),
    ("missing credential", {"LICENSE_DESK_TENANT_ID": "t", "LICENSE_DESK_CLIENT_ID": "c"}, "LICENSE_DESK_CLIENT_SECRET or LICENSE_DESK_CLIENT_CERTIFICATE"),
    ("CA file missing", {"LICENSE_DESK_TENANT_ID": "t", "LICENSE_DESK_CLIENT_ID": "c", "LICENSE_DESK_CLIENT_SECRET": "s",
                         "LICENSE_DESK_CA_BUNDLE": "/no/ca.pem"}, "LICENSE_DESK_CA_BUNDLE points to /no/ca.pem"),
    ("certificate missing", {"LICENSE_DESK_TENANT_ID": "t", "LICENSE_DESK_CLIENT_ID": "c",
                             "LICENSE_DESK_CLIENT_CERTIFICATE": "/no/cert.pem"}, "LICENSE_DESK_CLIENT_CERTIFICATE points to /no/cert.pem"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "environ", "fragment"), CONNECT, ids=[c[0] for c in CONNECT])
def test_incomplete_tenant_configuration_is_one_sentence(
    case: str, environ: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ).require_tenant()
    assert fragment in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("case", "text", "fragment"),
    [
        ("toml syntax", "tenant_id = ", "is not valid TOML"),
        ("unknown key", 'tennant_id = "x"\n', "unknown setting(s) tennant_id"),
        ("section not a table", "license_desk = 3\n", "not a table"),
        ("wrong type for a flag", "allow_writes = 3\n", "must be true or false"),
    ],
)
def test_bad_config_files(case: str, text: str, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "ld.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_settings({}, config_file=path)


# -- Microsoft's catalog CSV: one sentence naming the file and row -------------------------------
CATALOGS: list[tuple[str, bytes, str]] = [
    ("empty file", b"", "catalog.csv"),
    ("header only", HEADER.encode(), "catalog.csv"),
    ("missing GUID column", b"Product_Display_Name,String_Id\nx,y\n", "GUID"),
    (
        "bad GUID",
        f"{HEADER}\nE5,ENTERPRISEPREMIUM,not-a-guid,P,efb87545-963c-4e0d-99df-69c6916d9eb0,F\n".encode(),
        "row 2",
    ),
    ("short row", f"{HEADER}\nE5,ENTERPRISEPREMIUM\n".encode(), "row 2"),
    (
        "empty part number",
        f"{HEADER}\nE5,,{GUID},P,efb87545-963c-4e0d-99df-69c6916d9eb0,F\n".encode(),
        "row 2",
    ),
    ("not UTF-8", f"{HEADER}\n{ROW}\n".encode().replace(b"Office", b"Off\xe9ce"), "UTF-8"),
    ("semicolon separated", HEADER.replace(",", ";").encode() + b"\n", "catalog.csv"),
]


@pytest.mark.parametrize(("case", "content", "fragment"), CATALOGS, ids=[c[0] for c in CATALOGS])
def test_bad_catalog_files(case: str, content: bytes, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        parse_microsoft_catalog(path)
    assert fragment in str(err.value) and "\n" not in str(err.value)


# -- User lists for plans: tolerant parsing ------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("blank lines and spaces", "\n  a@x.com  \n\n", ["a@x.com"]),
        ("quoted CSV cells", 'upn\n"a@x.com"\n', ["a@x.com"]),
        ("header only", "userPrincipalName\n", []),
        ("BOM and CRLF", "\ufeffid\r\nu1\r\nu2\r\n", ["u1", "u2"]),
        ("duplicates kept once", "a\nb\na\n", ["a", "b"]),
    ],
)
def test_user_lists(case: str, text: str, expected: list[str]) -> None:
    assert parse_user_list(text) == expected


# -- Store files ----------------------------------------------------------------------------------
def _newer(path: Path) -> None:
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("case", "prepare", "fragment"),
    [
        ("text file", lambda p: p.write_text("hello\n" * 200), "is not a License Desk store"),
        ("random bytes", lambda p: p.write_bytes(bytes(range(256)) * 40), "is not a License Desk store"),
        ("newer schema", _newer, "newer than this License Desk understands"),
        ("a directory", lambda p: p.mkdir(), "Cannot open the store"),
        ("a PostgreSQL server that is not there", None, "Cannot connect to the PostgreSQL store"),
    ],
)
def test_bad_store_files(
    case: str, prepare: Callable[[Path], Any] | None, fragment: str, tmp_path: Path
) -> None:
    path = tmp_path / "store.sqlite"
    location: str | Path = path
    if prepare is None:
        location = "postgresql://ld@127.0.0.1:1/licenses"  # nothing listens on port 1
    else:
        prepare(path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StoreError) as err:
        open_store(location)
    assert fragment in str(err.value) and "\n" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written beside it
