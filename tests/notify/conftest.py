"""Fixtures for the notification tests: a throwaway CA, the finance tenant's store with a threshold
breached, and a helper that writes the ``[notify]`` configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from store.db import open_store
from store.prices import save_threshold
from tests.analysis import finance_tenant as t


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "notify-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def breach_e3(store_location: str, minimum: int = 5) -> None:
    """SPE_E3 has 3 free seats: a minimum above that is a threshold finding."""
    with open_store(store_location) as store:
        save_threshold(store, t.E3, "SPE_E3", min_free_seats=minimum, max_utilization_percent=None)


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[str]:
    """The finance tenant (SQLite) with SPE_E3 below its minimum of 5 free seats: five findings."""
    path = str(tmp_path / "tenant.sqlite")
    t.build(path)
    breach_e3(path)
    yield path
