"""Reclaim shows the usage evidence (AppTest on a store the real collectors filled from the
simulator over HTTPS), and says so when the usage reports conceal names.

Everyone's usage is pinned to "everything used on the report date" except three E3 holders who
sign in and used nothing: the page lists exactly those three as "licensed, not used"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.demo_tenant import simulator_settings
from cli.main import cli
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from graphsim.usage import UsageProfile, refresh_date
from tests.helpers.apptest import open_app, rows, table, texts


def _store(tmp: Path, *, concealed: bool = False) -> tuple[str, list[str], str]:
    with GraphSimulator(users=150, seed=3) as sim:
        t = sim.tenant
        t.now += timedelta(days=40)  # every licence past the 30-day guardrail; sign-ins still recent
        t.concealed_names = concealed
        day = refresh_date(t)
        for user in t.users:
            t.usage_overrides[user.id] = UsageProfile(
                exchange=day, onedrive=day, sharepoint=day, teams=day, yammer=day, apps=day, desktop=True,
                copilot=day, mailbox_bytes=1, onedrive_bytes=1,
            )  # fmt: skip
        e3 = t.sku_id("SPE_E3")
        chosen = [u for u in t.users if u.held_skus() == {e3} and u.activity == "active" and u.account_enabled
                  and not u.is_guest][:3]  # fmt: skip
        for user in chosen:
            t.usage_overrides[user.id] = UsageProfile()
        path = str(tmp / "s.sqlite")
        run_collection(simulator_settings(sim, path), clock=lambda: t.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    prices = tmp / "prices.csv"
    prices.write_text("sku,unit_price,currency,period,effective_from\nSPE_E3,36.00,USD,month,2020-01-01\n")
    result = CliRunner().invoke(cli, ["prices", "import", str(prices)], env={"LICENSE_DESK_STORE": path})
    assert result.exit_code == 0, result.output
    return path, sorted(u.upn for u in chosen), day.isoformat()


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
