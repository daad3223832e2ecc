"""Shared fixtures: a clean environment, the Graph simulator over real HTTPS, real SQLite stores.

Nothing here patches project code. The only stand-in is the simulator, for the Microsoft cloud.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"

# Variables that could point a test at a real tenant, a proxy, or another CA.
_LEAKY_PREFIXES = ("LICENSE_DESK_", "AZURE_", "MSAL_")
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
    return str(tmp_path / "store.sqlite")


def settings_for(sim: object, store: str, **overrides: object) -> object:
    from licensedesk.demo import simulator_settings

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
        yield simulator


@pytest.fixture
def reference_csv() -> Path:
    path = REFERENCE / "licensing-service-plan-reference.csv"
    if not path.exists():
        pytest.skip("shared/reference/licensing-service-plan-reference.csv is not beside this checkout")
    return path
