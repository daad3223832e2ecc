"""Shared fixtures: a clean environment, the Graph simulator over real HTTPS, real stores.

Nothing here patches project code. The only stand-in is the simulator, for the Microsoft cloud.
A test that asks for ``store_url`` runs twice: on an SQLite file and on a PostgreSQL schema of
a real server started for the session (``tests/helpers/pgserver.py``; one per pytest-xdist
worker). Without PostgreSQL installed the second run skips, unless
``LICENSE_DESK_TEST_POSTGRES=required`` (CI) makes that a failure. The helpers these fixtures
use, and tests import, are in ``tests/helpers/``.
"""

from __future__ import annotations

import faulthandler
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphsim.server import GraphSimulator
from tests.helpers.environ import POSTGRES_REQUIRED, leaky
from tests.helpers.paths import REFERENCE
from tests.helpers.pgserver import PostgresServer, bindir


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strip anything that could reach a real tenant. The CA-bundle variables are deliberately
    kept: these machines set REQUESTS_CA_BUNDLE, and our code must win over it explicitly."""
    for name in list(os.environ):
        if leaky(name):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    """An SQLite store, for tests about the file itself (kill points, corrupt files, WAL)."""
    return str(tmp_path / "store.sqlite")


# Groups kept whole per store engine rather than across both: the kill points of one engine run
# one after another on one worker, and the two engines' runs (independent stores, simulators and
# processes) side by side, which takes the suite's longest group (~65 s) off one worker's tail.
_PER_ENGINE_GROUPS = frozenset({"kill_points"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # The browser tests wait on Chromium with timeouts: under pytest-xdist they run one after
        # another on one worker rather than two Chromiums at once on two cores.
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
        group = item.get_closest_marker("xdist_group")
        callspec = getattr(item, "callspec", None)
        if group is not None and group.args and group.args[0] in _PER_ENGINE_GROUPS and callspec is not None:
            engine = callspec.params.get("store_url")
            if engine is not None:  # closest marker first: pytest-xdist reads the group from it
                item.add_marker(pytest.mark.xdist_group(f"{group.args[0]}-{engine}"), append=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    # A thread left running (a server, a collection's report reader) would keep this process, and
    # with it CI, waiting at exit with no word of why: after two minutes print every thread's stack
    # and exit. A process that ends normally never reaches the timer.
    faulthandler.dump_traceback_later(120, exit=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_url" in metafunc.fixturenames:
        metafunc.parametrize("store_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the whole session (of this worker): its superuser URL."""
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


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    """A fresh 150-user simulated tenant, served over HTTPS for one test."""
    with GraphSimulator(users=150, seed=3) as simulator:
        yield simulator


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[GraphSimulator]:
    """A read-only 400-user tenant shared by tests that neither write nor inject faults."""
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
