"""A store without a snapshot gets a first-run page on every page, never an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.apptest import open_app, texts

PAGES = ["overview", "sku_detail", "users", "group_errors", "trends", "costs", "reclaim", "renewals", "data"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_explains_how_to_start(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = str(tmp_path / "empty.sqlite")
    at = open_app(monkeypatch, missing, None if page == "overview" else page)
    assert not at.error
    first = [i.value for i in at.info if i.value.startswith("No snapshot yet")]
    assert first == [
        f"No snapshot yet in {missing}. Run `license-desk collect` for your tenant, "
        "or `license-desk demo` for the simulated demo tenant."
    ]
    assert not at.metric and not at.dataframe


def test_data_page_without_a_tenant_says_how_to_configure_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, str(tmp_path / "empty.sqlite"), "data")
    notice = next(t for t in texts(at) if t.startswith("No tenant is configured"))
    assert "LICENSE_DESK_TENANT_ID" in notice and "LICENSE_DESK_CLIENT_SECRET" in notice
    assert not at.button  # nothing to collect from


def test_invalid_configuration_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSE_DESK_INACTIVE_DAYS", "abc")
    at = open_app(monkeypatch, str(tmp_path / "empty.sqlite"), "data")
    assert [e.value for e in at.error] == ["LICENSE_DESK_INACTIVE_DAYS must be a whole number, not 'abc'."]


def test_a_file_that_is_not_a_store_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("not a database\n" * 100)
    at = open_app(monkeypatch, str(bogus))
    assert [e.value for e in at.error] == [f"{bogus} is not a License Desk store (not an SQLite database)."]
