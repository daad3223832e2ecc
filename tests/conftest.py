"""Shared fixtures: a clean environment, the Graph simulator over real HTTPS, real stores.

Nothing here patches project code. The only stand-in is the simulator, for the Microsoft cloud.
A test that asks for ``store_url`` runs twice: on an SQLite file and on a PostgreSQL schema of
a real server started for the session (``tests/pgserver.py``). Without PostgreSQL installed the
second run skips, unless ``LICENSE_DESK_TEST_POSTGRES=required`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgserver import PostgresServer, bindir

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"

# Variables that could point a test at a real tenant, a proxy, or another CA.
_LEAKY_PREFIXES = ("LICENSE_DESK_", "AZURE_", "MSAL_")
# Read once, before clean_environ strips LICENSE_DESK_* from every test's environment.
POSTGRES_REQUIRED = os.environ.get("LICENSE_DESK_TEST_POSTGRES") == "required"
_LEAKY_NAMES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strip anything that could reach a real tenant. The CA-bundle variables are deliberately
    kept: these machines set REQUESTS_CA_BUNDLE, and our code must win over it explicitly."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    """An SQLite store, for tests about the file itself (kill points, corrupt files, WAL)."""
    return str(tmp_path / "store.sqlite")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_url" in metafunc.fixturenames:
        metafunc.parametrize("store_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the whole session: its superuser URL."""
    if bindir() is None:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if POSTGRES_REQUIRED:
            pytest.fail(message + " and LICENSE_DESK_TEST_POSTGRES=required")
        pytest.skip(message)
    with PostgresServer() as server:
        yield server.url


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store location for each engine: an SQLite path, or a URL to a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
        return
    import psycopg

    base = request.getfixturevalue("postgres_server")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{base}?options=-csearch_path%3D{schema}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def settings_for(sim: object, store: str, **overrides: object) -> object:
    from cli.demo_tenant import simulator_settings

    settings = simulator_settings(sim, store)  # type: ignore[arg-type]
    if overrides:
        from dataclasses import replace

        settings = replace(settings, **overrides)
    return settings


@pytest.fixture
def sim() -> Iterator[object]:
    """A fresh 150-user simulated tenant, served over HTTPS for one test."""
    from graphsim.server import GraphSimulator

    with GraphSimulator(users=150, seed=3) as simulator:
        yield simulator


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[object]:
    """A read-only 400-user tenant shared by tests that neither write nor inject faults."""
    from graphsim.server import GraphSimulator

    with GraphSimulator(users=400, seed=11) as simulator:
        # Dozens of collections of this one tenant in a few minutes: Graph's 14-per-10-minutes
        # report limit (tests/graphsim/test_usage_reports.py) would stall the suite.
        simulator.api.reports.limit = None
        yield simulator


@pytest.fixture
def reference_csv() -> Path:
    path = REFERENCE / "licensing-service-plan-reference.csv"
    if not path.exists():
        pytest.skip("shared/reference/licensing-service-plan-reference.csv is not beside this checkout")
    return path
