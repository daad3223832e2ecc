"""Tables are for people: on every page, headers in words (no snake_case keys), no GUID columns
unless "Show ids" is on, and missing values as empty cells (never None, NaN or <NA>).

What a person sees above a column is the column's label in the table's column settings (or its
key when it has none), so that is what these tests read from each table Streamlit received.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from store.audit import record_intent, record_outcome
from store.db import open_store
from store.prices import add_exemption
from tests.helpers.apptest import APP, open_app

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
MISSING_TEXT = {"None", "none", "nan", "NaN", "<NA>", "NaT", "null"}
REQUEST_ID = "5f0c8c39-1d2e-4a43-9d8e-0b7d2c1e9a01"


def shown(element: Any) -> tuple[list[str], pd.DataFrame]:
    """The headers a person reads and the visible columns of one table, as Streamlit got them."""
    config = json.loads(element.proto.columns or "{}")
    frame: pd.DataFrame = element.value
    visible = [str(c) for c in frame.columns if not (config.get(str(c)) or {}).get("hidden")]
    headers = [(config.get(c) or {}).get("label") or c for c in visible]
    return headers, frame[visible]


def problems(at: AppTest) -> list[str]:
    """Everything a person should not see in the page's tables, one line each."""
    found: list[str] = []
    assert at.dataframe, "the page shows no table"
    for element in at.dataframe:
        headers, frame = shown(element)
        name = element.proto.id.rsplit("-", 1)[-1] or ",".join(headers[:2])
        found += [f"{name}: header {h!r} is a key" for h in headers if "_" in h or h != h[:1].upper() + h[1:]]
        for header, column in zip(headers, frame.columns, strict=True):
            values = frame[column].dropna().tolist()
            if values and all(isinstance(v, str) and GUID.match(v) for v in values):
                found.append(f"{name}: {header!r} shows ids")
            if any(isinstance(v, str) and v.strip() in MISSING_TEXT for v in values):
                found.append(f"{name}: {header!r} has a cell reading None/NaN")
        if frame.isna().any().any() and not (
            element.proto.HasField("placeholder") and element.proto.placeholder == ""
        ):
            found.append(f"{name}: missing values are not shown as empty cells")
    return found


@pytest.fixture
def audited_store(tenant_store: str, tmp_path: Path) -> Iterator[str]:
    """The hand-written tenant with two audited changes, one sent, one refused."""
    path = str(tmp_path / "audited.sqlite")
    shutil.copy(tenant_store, path)
    with open_store(path) as store:
        sent = record_intent(
            store, plan_id="a1b2c3d4e5f6", actor="dashboard:local", tenant_id="contoso", action="assign",
            user_id="3c1e7a52-8f0b-4d6e-9a21-5b4c3d2e1f00", user_principal_name="ada@contoso.com",
            sku_id="05e9a617-0261-4cee-bb44-138d3ef5d965", sku_part_number="SPE_E3",
        )  # fmt: skip
        record_outcome(store, sent, status="succeeded", http_status=200, request_id=REQUEST_ID)
        record_intent(
            store, plan_id="a1b2c3d4e5f6", actor="dashboard:local", tenant_id="contoso", action="plan",
            status="refused", error="SPE_E3 has 0 free seats.",
        )  # fmt: skip
    yield path


PAGES = [  # (store fixture, page)
    ("tenant_store", "overview"),
    ("tenant_store", "sku_detail"),
    ("finance_store", "sku_detail"),  # with subscriptions
    ("tenant_store", "users"),
    ("tenant_store", "group_errors"),
    ("tenant_store", "trends"),
    ("tenant_store", "data"),
    ("finance_store", "costs"),
    ("finance_store", "reclaim"),
    ("finance_store", "renewals"),
    ("audited_store", "audit"),
]


@pytest.mark.parametrize(("store", "page"), PAGES, ids=[f"{p}-{s.split('_')[0]}" for s, p in PAGES])
def test_tables_have_headers_in_words_no_ids_and_empty_missing_cells(
    store: str, page: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, request.getfixturevalue(store), page)
    if page == "users":  # one user's licences too
        at.session_state["users_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
        at.run()
    assert problems(at) == []


def test_the_exemptions_table_too(finance_copy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(finance_copy) as store:
        add_exemption(store, "sku", "SPE_E3", note="Board members keep it", label="Microsoft 365 E3")
    at = open_app(monkeypatch, finance_copy, "reclaim")
    assert problems(at) == []


def test_show_ids_brings_the_ids_back(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSE_DESK_STORE", tenant_store)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/users.py").run()
    headers, frame = shown(at.dataframe[0])
    assert "User ID" not in headers and "User" in headers
    at.toggle(key="show_ids").set_value(True).run()
    headers, frame = shown(at.dataframe[0])
    assert headers[-1] == "User ID"
    assert frame["user_id"].notna().all()
    at.switch_page("app_pages/data.py").run()  # the choice holds on every page
    unknown = [shown(t) for t in at.dataframe if "Part number" in shown(t)[0]]
    assert unknown[0][0] == ["Part number", "SKU ID", "Purchased", "Consumed"]


def test_audit_shows_the_request_id_only_when_asked(
    audited_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, audited_store, "audit")
    headers, frame = shown(at.dataframe[0])
    assert "Request ID" not in headers
    assert headers == ["Created", "Who", "Action", "User", "Part number", "Status", "HTTP status",
                       "Error", "Plan"]  # fmt: skip
    at.toggle(key="show_ids").set_value(True).run()
    headers, frame = shown(at.dataframe[0])
    assert "Request ID" in headers and REQUEST_ID in frame["request_id"].tolist()


def test_labels_and_id_columns() -> None:
    from analysis.labels import id_columns, table_labels

    assert table_labels(["sku_part_number", "seats_short", "sku_id", "http_status", "last_sign_in", "name"]) == {
        "sku_part_number": "Part number", "seats_short": "Seats short", "sku_id": "SKU ID",
        "http_status": "HTTP status", "last_sign_in": "Last sign-in", "name": "Name",
    }  # fmt: skip
    frame = pd.DataFrame(
        {
            "id": [1, 2],  # a snapshot number, not an object id
            "user_id": ["u1", "u2"],  # an id by its key, whatever the values look like
            "group": ["9f1c2a9e-0000-4000-8000-00000000f1a4", None],  # GUIDs by their values
            "target_id": [
                "ada@contoso.com",
                "3c1e7a52-8f0b-4d6e-9a21-5b4c3d2e1f00",
            ],  # labelled "Exempt": shown
            "name": ["Ada", "Bo"],
        }
    )
    assert id_columns(frame) == ["user_id", "group"]
