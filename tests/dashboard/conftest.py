"""Dashboard fixtures: the hand-written tenants' stores and fresh Streamlit caches. The AppTest
helpers (open_app, table, texts...) are in ``tests/helpers/apptest.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from tests.analysis import finance_tenant
from tests.dashboard.tenant import build_single, build_store


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
