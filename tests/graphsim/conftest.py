"""Fixtures for the simulator's own tests: clients holding one token (``tests/helpers/graph_client.py``)
on a per-test tenant and on a 300-user one per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graphsim.server import GraphSimulator
from tests.helpers.graph_client import WRITE, Graph, close_open_sessions


@pytest.fixture(autouse=True)
def close_sessions() -> Iterator[None]:
    yield
    close_open_sessions()


@pytest.fixture
def graph(sim: GraphSimulator) -> Iterator[Graph]:
    """Read-only client on the per-test `sim` (150 users)."""
    client = Graph(sim)
    yield client
    client.close()


@pytest.fixture
def writer(sim: GraphSimulator) -> Iterator[Graph]:
    """A client whose token carries the write permissions."""
    client = Graph(sim, WRITE)
    yield client
    client.close()


@pytest.fixture(scope="module")
def sim300() -> Iterator[GraphSimulator]:
    """A 300-user tenant (the size from which every license error type is guaranteed)."""
    with GraphSimulator(users=300, seed=21) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def graph300(sim300: GraphSimulator) -> Iterator[Graph]:
    client = Graph(sim300)
    yield client
    client.close()
