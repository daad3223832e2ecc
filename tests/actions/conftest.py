"""Fixtures for applying plans: a simulated tenant with write permissions, collected into a real store.
The helpers the apply tests build plans with are in ``tests/helpers/plans.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from licensedesk.config import Settings
from tests.helpers.plans import WRITE
from tests.helpers.settings import settings_for


@pytest.fixture
def tenant(store_url: str) -> Iterator[tuple[GraphSimulator, Settings]]:
    """A 300-user simulated tenant the app may write to, with one snapshot in ``store_url``."""
    with GraphSimulator(users=300, seed=4) as simulator:
        simulator.set_permissions(WRITE)
        settings = settings_for(simulator, store_url, allow_writes=True)
        run_collection(settings)
        yield simulator, settings
