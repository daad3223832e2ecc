"""Reclaim shows the usage evidence (AppTest on a store the real collectors filled from the
simulator over HTTPS), and says so when the usage reports conceal names.

Everyone's usage is pinned to "everything used on the report date" except three E3 holders who
sign in and used nothing: the page lists exactly those three as "licensed, not used"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.apptest import open_app, rows, table, texts
from tests.helpers.usage_tenant import build_unused_tenant


def _store(tmp: Path, *, concealed: bool = False) -> tuple[str, list[str], str]:
    tenant = build_unused_tenant(tmp, concealed=concealed)
    return tenant.store, tenant.upns, tenant.report_date


@pytest.fixture(scope="module")
def usage_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str], str]]:
    yield _store(tmp_path_factory.mktemp("usage"))


def test_reclaim_lists_unused_licences_with_the_report_date(
    usage_store: tuple[str, list[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, upns, day = usage_store
    at = open_app(monkeypatch, path, "reclaim")
    shown = table(at, "user_principal_name", "display_name", "sku")
    unused = [
        r for r in rows(shown, "user_principal_name", "reason", "evidence") if r[1] == "licensed, not used"
    ]
    assert sorted(r[0] for r in unused) == upns
    assert all(f"(usage report of {day})." in str(r[2]) for r in unused)
    assert not any("conceal" in text for text in texts(at))
    at = open_app(monkeypatch, path, "costs")
    # 3 unused E3 seats x USD 36.00 a month.
    assert ("Unused", "USD 108.00") in [(m.label, m.value) for m in at.metric]


def test_concealed_names_are_said_and_nothing_is_joined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _upns, _day = _store(tmp_path, concealed=True)
    at = open_app(monkeypatch, path, "reclaim")
    assert any("conceal user names" in str(w.value) for w in at.warning)
    shown = table(at, "user_principal_name", "display_name", "sku")
    assert "licensed, not used" not in set(shown["reason"])
