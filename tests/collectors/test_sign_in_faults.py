"""Transient failures of the sign-in endpoints (OpenID discovery, token) are retried like Graph reads.

Real MSAL against the simulator over HTTPS; the faults are the simulator's, on its identity endpoints.
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from cli.demo_tenant import simulator_settings
from cli.main import cli
from collectors.graph import GraphClient, RetryPolicy
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from licensedesk.errors import AuthError
from store import queries
from store.db import open_store

FAST = RetryPolicy(max_attempts=4, max_total_wait=10.0, max_single_wait=0.2, base_backoff=0.01)
ENDPOINTS = ["discovery", "token"]
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("unavailable", {}),  # 503
    ("throttle", {"retry_after": "0.05"}),  # 429 with Retry-After (AADSTS90033)
    ("drop", {}),  # the connection closed before any answer
    ("truncate", {}),  # a 200 whose body stops halfway
]
IDS = [kind for kind, _ in FAULTS]


def _path(sim: GraphSimulator, endpoint: str) -> str:
    return sim.discovery_path if endpoint == "discovery" else sim.token_path


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("kind", "options"), FAULTS, ids=IDS)
def test_one_sign_in_fault_is_retried_and_the_collection_succeeds(
    sim: GraphSimulator, store_path: str, endpoint: str, kind: str, options: dict[str, Any]
) -> None:
    rule = sim.faults.add(kind, path_prefix=_path(sim, endpoint), first=1, **options)
    result = CliRunner().invoke(cli, ["collect"], env=simulator_settings(sim, store_path).environ())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Snapshot 1 complete: {len(sim.tenant.users)} users")
    assert rule.fired == 1
    sent = [r.status for r in sim.requests if r.path == _path(sim, endpoint)]
    assert sent == [0 if kind == "drop" else rule.status, 200]


def test_retry_after_from_the_token_endpoint_is_honoured(sim: GraphSimulator, store_path: str) -> None:
    sim.faults.add("throttle", path_prefix=sim.token_path, first=2, retry_after="0.3")
    waits: list[float] = []
    settings = simulator_settings(sim, store_path)
    run_collection(settings, client=GraphClient(settings, retry=FAST, sleep=waits.append))
    assert waits == [0.2, 0.2]  # Retry-After, clipped to the policy's longest single wait
    assert [r.status for r in sim.requests if r.path == sim.token_path] == [429, 429, 200]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("kind", "options"), FAULTS[:2], ids=IDS[:2])
def test_persistent_sign_in_faults_fail_the_cli_in_one_sentence(
    sim: GraphSimulator, store_path: str, endpoint: str, kind: str, options: dict[str, Any]
) -> None:
    env = simulator_settings(sim, store_path).environ()
    assert CliRunner().invoke(cli, ["collect"], env=env).exit_code == 0
    # Retry-After keeps the CLI's default policy (8 attempts) quick.
    sim.faults.add(kind, path_prefix=_path(sim, endpoint), **{"retry_after": "0.01", **options})
    result = CliRunner().invoke(cli, ["collect"], env=env)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("license-desk: error: The sign-in endpoint 127.0.0.1:")
    assert f"answered {429 if kind == 'throttle' else 503}" in line and "after 7 retries" in line
    assert "Traceback" not in result.stderr and "Unexpected error" not in line
    assert len([r for r in sim.requests if r.path == _path(sim, endpoint) and r.status != 200]) == 8
    with open_store(store_path) as store:
        assert queries.resolve_snapshot(store) == 1


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("kind", "options"), FAULTS[2:], ids=IDS[2:])
def test_persistent_broken_sign_in_answers_fail_in_one_sentence(
    sim: GraphSimulator, store_path: str, endpoint: str, kind: str, options: dict[str, Any]
) -> None:
    # No Retry-After on a broken connection: a fast policy instead of the CLI's minute of back-off.
    settings = simulator_settings(sim, store_path)
    first = run_collection(settings).snapshot_id
    sim.faults.add(kind, path_prefix=_path(sim, endpoint), **options)
    with pytest.raises(AuthError) as err:
        run_collection(settings, client=GraphClient(settings, retry=FAST))
    message = str(err.value)
    assert message.startswith("The sign-in endpoint 127.0.0.1:") and "after 3 retries" in message
    assert "connection lost: " in message and "\n" not in message and err.value.exit_code == 1
    with open_store(store_path) as store:
        assert queries.resolve_snapshot(store) == first
