"""Dashboard fixtures: the hand-written tenants' stores, fresh Streamlit caches, and AppTest helpers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.analysis import finance_tenant
from tests.dashboard.tenant import build_single, build_store

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    # st.cache_data is process-wide: without this a test could read another test's store.
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def tenant_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The hand-written tenant (tests/dashboard/tenant.py); read-only, shared by the session."""
    return build_store(str(tmp_path_factory.mktemp("tenant") / "store.sqlite"))


@pytest.fixture(scope="session")
def no_signin_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The same tenant whose latest snapshot could not read sign-in activity."""
    return build_store(str(tmp_path_factory.mktemp("nosignin") / "store.sqlite"), signin_available=False)


@pytest.fixture(scope="session")
def single_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Only the latest snapshot of the tenant: no history."""
    return build_single(str(tmp_path_factory.mktemp("single") / "store.sqlite"))


@pytest.fixture(scope="session")
def finance_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The finance tenant (tests/analysis/finance_tenant.py) with its price book; read-only, shared."""
    path = str(tmp_path_factory.mktemp("finance") / "store.sqlite")
    finance_tenant.build(path)
    return path


@pytest.fixture
def finance_copy(tmp_path: Path) -> str:
    """The finance tenant in a store of its own, for tests that edit the price book or exemptions."""
    path = str(tmp_path / "finance.sqlite")
    finance_tenant.build(path)
    return path


@pytest.fixture(scope="session")
def unpriced_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The finance tenant without a price book."""
    path = str(tmp_path_factory.mktemp("unpriced") / "store.sqlite")
    finance_tenant.build(path, prices=False)
    return path


def open_app(monkeypatch: pytest.MonkeyPatch, store: str, page: str | None = None) -> AppTest:
    """Run the dashboard on ``store`` and switch to ``app_pages/<page>.py``; fail on any exception."""
    monkeypatch.setenv("LICENSE_DESK_STORE", store)
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page is not None:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """Every metric shown, label -> value text."""
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, first_column: str, *others: str) -> pd.DataFrame:
    """The first table shown whose columns start with the given ones."""
    wanted = [first_column, *others]
    for frame in at.dataframe:
        value = frame.value
        if list(value.columns[: len(wanted)]) == wanted:
            return value
    raise AssertionError(
        f"no table starts with {wanted}: {[list(f.value.columns[:3]) for f in at.dataframe]}"
    )


def texts(at: AppTest) -> list[str]:
    """Markdown, captions, info, warning, error and success texts, in page order by kind."""
    out: list[str] = []
    for kind in (at.markdown, at.caption, at.info, at.warning, at.error, at.success):
        out.extend(str(e.value) for e in kind)
    return out


def metric_list(at: AppTest) -> list[tuple[str, str]]:
    """Every metric shown as (label, value), in page order (labels repeat across currencies)."""
    return [(m.label, m.value) for m in at.metric]


def rows(frame: pd.DataFrame, *columns: str) -> list[list[object]]:
    """Some columns of a shown table as lists, missing values as None."""
    part = frame[list(columns)]
    return part.astype(object).where(part.notna(), None).values.tolist()  # type: ignore[no-any-return]
