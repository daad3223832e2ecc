"""Fixtures for the notification tests: a throwaway CA, and the finance tenant's store with a
threshold breached (``tests/helpers/thresholds.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.analysis import finance_tenant as t
from tests.helpers.thresholds import breach_e3


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "notify-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[str]:
    """The finance tenant (SQLite) with SPE_E3 below its minimum of 5 free seats: five findings."""
    path = str(tmp_path / "tenant.sqlite")
    t.build(path)
    breach_e3(path)
    yield path
