"""Least privilege: collections sign in as the read app, applying a plan as the write app only.

Driven through the CLI against the simulator over HTTPS, with the environment a script would
export from `license-desk simulator`'s ready line; the simulator records which app's token each
call carried.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from click.testing import CliRunner

from cli.demo_tenant import serve_demo_simulator, simulator_settings
from cli.main import cli
from collectors.graph import GraphClient
from graphsim.model import User
from graphsim.server import GraphSimulator
from licensedesk.config import Settings, load_settings
from store.audit import audit_entries
from store.db import open_store
from tests.helpers.certs import self_signed

WRITE_VARS = ("LICENSE_DESK_WRITE_CLIENT_ID", "LICENSE_DESK_WRITE_CLIENT_SECRET")


def _ready_env(sim: GraphSimulator, store: str) -> dict[str, str]:
    """What a script exports from the simulator's ready line, plus a store and writes switched on."""
    return {
        **{f"LICENSE_DESK_{key.upper()}": value for key, value in sim.ready_info().items()},
        "LICENSE_DESK_STORE": store,
        "LICENSE_DESK_ALLOW_WRITES": "true",
    }


def _without_write_app(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in WRITE_VARS}


def _user(sim: GraphSimulator, upn: str) -> User:
    user = sim.tenant.user(upn)
    assert user is not None, upn
    return user


def _target(sim: GraphSimulator) -> tuple[str, str]:
    """A member with a usage location and no Visio, and Visio's part number (seats are free)."""
    visio = sim.tenant.sku_id("VISIOCLIENT")
    assert sim.tenant.free_seats(visio) > 0
    user = next(
        u
        for u in sim.tenant.users
        if u.usage_location and not u.is_guest and u.account_enabled and visio not in u.held_skus()
    )
    return user.upn, visio


def _graph_calls(sim: GraphSimulator) -> list[tuple[str, str, str | None]]:
    return [(r.method, r.path, r.client_id) for r in sim.requests if r.path.startswith("/v1.0/")]


def test_assign_apply_from_the_cli_uses_the_write_app(sim: GraphSimulator, store_path: str) -> None:
    env = _ready_env(sim, store_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["collect"], env=env).exit_code == 0
    upn, visio = _target(sim)
    sim.clear_log()
    applied = runner.invoke(cli, ["assign", "--sku", "VISIOCLIENT", "--user", upn, "--apply"], env=env)
    assert applied.exit_code == 0, applied.output
    assert "1 succeeded, 0 failed" in applied.stderr
    assert visio in _user(sim, upn).held_skus()
    # The live seat re-check and the write carried the write app's token; the snapshot taken
    # afterwards, the read app's.
    by_write_app = [(m, p) for m, p, app in _graph_calls(sim) if app == sim.write_client_id]
    user_id = _user(sim, upn).id
    assert by_write_app == [
        ("GET", "/v1.0/subscribedSkus"),
        ("POST", "/v1.0/$batch"),
        ("POST", f"/v1.0/users/{user_id}/assignLicense"),
    ]
    others = {app for _m, _p, app in _graph_calls(sim) if app != sim.write_client_id}
    assert others == {sim.client_id}
    output = applied.output + applied.stderr
    assert sim.write_client_secret not in output and sim.client_secret not in output


def test_a_collection_never_presents_the_write_apps_token(sim: GraphSimulator, store_path: str) -> None:
    result = CliRunner().invoke(cli, ["collect"], env=_ready_env(sim, store_path))
    assert result.exit_code == 0, result.output
    calls = _graph_calls(sim)
    assert len(calls) > 5 and {app for _m, _p, app in calls} == {sim.client_id}
    assert [r.client_id for r in sim.requests if r.path == sim.token_path] == [sim.client_id]


def test_a_collection_needs_no_write_app(sim: GraphSimulator, store_path: str) -> None:
    env = _without_write_app(_ready_env(sim, store_path))
    result = CliRunner().invoke(cli, ["collect"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Snapshot 1 complete: {len(sim.tenant.users)} users")


def test_writes_with_only_the_read_app_are_refused_in_one_sentence(
    sim: GraphSimulator, store_path: str
) -> None:
    env = _without_write_app(_ready_env(sim, store_path))
    runner = CliRunner()
    assert runner.invoke(cli, ["collect"], env=env).exit_code == 0
    upn, visio = _target(sim)
    sim.clear_log()
    refused = runner.invoke(cli, ["assign", "--sku", "VISIOCLIENT", "--user", upn, "--apply"], env=env)
    assert refused.exit_code == 1
    (line,) = [x for x in refused.stderr.splitlines() if x.startswith("license-desk: error:")]
    assert "LICENSE_DESK_WRITE_CLIENT_ID" in line and "LICENSE_DESK_WRITE_CLIENT_SECRET" in line
    assert "nothing was sent" in line and "Traceback" not in refused.stderr
    assert _graph_calls(sim) == [] and sim.write_requests() == []  # not even the seat re-check
    assert visio not in _user(sim, upn).held_skus()
    with open_store(store_path) as store:
        log = audit_entries(store)
    assert log["status"].tolist() == ["refused"]
    assert "LICENSE_DESK_WRITE_CLIENT_ID" in log.iloc[0]["error"]


def test_the_demo_writes_through_its_write_app_and_its_read_app_cannot_write(tmp_path: Any) -> None:
    with serve_demo_simulator(users=60, days=1, seed=3) as env:
        assert {"LICENSE_DESK_WRITE_CLIENT_ID", "LICENSE_DESK_WRITE_CLIENT_SECRET"} <= set(env)
        settings = load_settings({**env, "LICENSE_DESK_STORE": str(tmp_path / "demo.sqlite")})
        assert settings.write_client_id != settings.client_id
        user_id = _demo_user(settings)
        change = [("PATCH", f"/users/{user_id}", {"usageLocation": "DE"})]
        (as_reader,) = GraphClient(settings).batch_write(change)
        assert as_reader.status == 403
        (as_writer,) = GraphClient(settings, identity="write").batch_write(change)
        assert as_writer.status == 204, as_writer.error


def _demo_user(settings: Settings) -> str:
    page = GraphClient(settings).get_json("/users", {"$select": "id", "$top": "1"})
    return str(page["value"][0]["id"])


def test_a_wrong_write_secret_names_the_write_variable(sim: GraphSimulator, store_path: str) -> None:
    env = _ready_env(sim, store_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["collect"], env=env).exit_code == 0
    upn, _visio = _target(sim)
    wrong = {**env, "LICENSE_DESK_WRITE_CLIENT_SECRET": "Wr0ng~Write-Secret.42"}
    result = runner.invoke(cli, ["assign", "--sku", "VISIOCLIENT", "--user", upn, "--apply"], env=wrong)
    assert result.exit_code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("license-desk: error:")]
    assert "AADSTS7000215" in line and f"app {sim.write_client_id}" in line
    assert "LICENSE_DESK_WRITE_CLIENT_SECRET" in line and "Wr0ng~Write-Secret.42" not in result.stderr
    assert sim.write_requests() == []


def test_the_write_app_can_sign_in_with_a_certificate(sim: GraphSimulator, tmp_path: Any) -> None:
    key_pem, cert_pem, _thumbprint = self_signed()
    pem = tmp_path / "write.pem"
    pem.write_text(key_pem + cert_pem)
    sim.register_certificate(cert_pem, app="write")
    settings = replace(
        simulator_settings(sim, str(tmp_path / "s.sqlite")),
        write_client_secret=None,
        write_client_certificate=str(pem),
    )
    assert GraphClient(settings, identity="write").get_json("/subscribedSkus")["value"]
    assert [r.client_id for r in sim.requests if r.path == sim.token_path] == [sim.write_client_id]
