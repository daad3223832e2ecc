"""``license-desk tenants`` and ``collect --all``, on both engines, against a simulator serving
three tenants (one multi-tenant app consented in each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.demo_tenant import simulator_settings
from cli.main import cli
from graphsim.server import GraphSimulator
from licensedesk.tenants import TenantEntry, in_shard, shard_of
from store.db import open_store
from store.tenants import tenant_store

UNKNOWN_TENANT = "0b0b0b0b-0000-4000-8000-000000000009"  # served by no simulator: its sign-in fails
NO_SUCH_TENANT = "double check your tenant name or GUID"  # MSAL's words on Entra's AADSTS90002


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def three() -> object:
    with GraphSimulator(users=40, seed=4, tenants=3) as sim:
        yield sim


def _env(sim: GraphSimulator, store_url: str) -> dict[str, str]:
    return simulator_settings(sim, store_url).environ()


def _register(env: dict[str, str], sim: GraphSimulator) -> None:
    for n, tenant in enumerate(sim.tenants, start=1):
        assert (
            _run(
                env, "tenants", "add", tenant.tenant_id, "--name", f"Customer {n}", "--tag", "pilot"
            ).exit_code
            == 0
        )


def test_add_list_update_and_remove(store_url: str, three: GraphSimulator) -> None:
    env = _env(three, store_url)
    first = three.tenants[0]
    added = _run(env, "tenants", "add", first.tenant_id.upper(), "--name", "Contoso", "--domain", first.domain,
                 "--tag", "gold", "--tag", "eu")  # fmt: skip
    assert added.exit_code == 0 and added.output.strip() == f"Added tenant Contoso ({first.tenant_id})."
    own_app = _run(env, "tenants", "add", "fabrikam.onmicrosoft.com", "--name", "Fabrikam",
                   "--client-id", "11111111-2222-4333-8444-555555555555", "--credential", "env:FABRIKAM_SECRET",
                   "--disabled")  # fmt: skip
    assert own_app.exit_code == 0
    again = _run(env, "tenants", "add", first.tenant_id, "--name", "Contoso Group")
    assert again.output.strip() == f"Updated tenant Contoso Group ({first.tenant_id})."
    rows = json.loads(_run(env, "tenants", "list", "--format", "json").output)
    assert [(r["display_name"], r["enabled"]) for r in rows] == [("Contoso Group", True), ("Fabrikam", False)]
    assert rows[0]["tenant_id"] == first.tenant_id and rows[0]["tags"] == []  # the update replaced them
    assert rows[1]["credential"] == "env:FABRIKAM_SECRET" and rows[1]["last_status"] is None
    assert set(rows[0]) >= {
        "tenant_id",
        "display_name",
        "domain",
        "client_id",
        "credential",
        "enabled",
        "tags",
    }
    table = _run(env, "tenants", "list").output
    assert "Contoso Group" in table and first.tenant_id in table  # the id is what a table is for here
    removed = _run(env, "tenants", "remove", "FABRIKAM.onmicrosoft.com")
    assert removed.exit_code == 0
    gone = _run(env, "tenants", "remove", "fabrikam.onmicrosoft.com")
    assert gone.exit_code == 1 and gone.output.count("\n") == 1 and "No tenant fabrikam" in gone.output


def test_a_secret_is_never_stored_as_a_reference(store_url: str, three: GraphSimulator) -> None:
    env = _env(three, store_url)
    secret = "Zq48Q~a-real-looking-client-secret-value-123"
    answer = _run(env, "tenants", "add", "fabrikam.onmicrosoft.com", "--name", "Fabrikam",
                  "--client-id", "11111111-2222-4333-8444-555555555555", "--credential", secret)  # fmt: skip
    assert answer.exit_code == 2  # a configuration mistake
    assert secret not in answer.output and "env:NAME, file:PATH or secret:NAME" in answer.output
    with open_store(store_url) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM tenants").fetchone()[0] == 0


def test_the_toml_form_adds_all_or_none(store_url: str, three: GraphSimulator, tmp_path: Path) -> None:
    env = _env(three, store_url)
    good = tmp_path / "tenants.toml"
    good.write_text(
        '[[tenants]]\ntenant_id = "contoso.onmicrosoft.com"\ndisplay_name = "Contoso"\ntags = ["gold"]\n\n'
        '[[tenants]]\ntenant_id = "fabrikam.onmicrosoft.com"\ndisplay_name = "Fabrikam"\nenabled = false\n'
        'client_id = "11111111-2222-4333-8444-555555555555"\ncredential = "secret:fabrikam-app"\n',
        encoding="utf-8",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text() + '\n[[tenants]]\ntenant_id = "not a tenant"\ndisplay_name = "X"\n')
    refused = _run(env, "tenants", "add", "--file", str(bad))
    assert refused.exit_code == 2 and "[[tenants]] number 3" in refused.output
    # Nothing was written, not even a new store.
    assert "There is no store" in _run(env, "tenants", "list", "--format", "json").output
    assert _run(env, "tenants", "add", "--file", str(good)).exit_code == 0
    rows = json.loads(_run(env, "tenants", "list", "--format", "json").output)
    assert [(r["tenant_id"], r["tags"], r["enabled"]) for r in rows] == [
        ("contoso.onmicrosoft.com", ["gold"], True), ("fabrikam.onmicrosoft.com", [], False),
    ]  # fmt: skip


def test_tenants_test_signs_in_to_each(store_url: str, three: GraphSimulator) -> None:
    env = _env(three, store_url)
    _register(env, three)
    _run(env, "tenants", "add", UNKNOWN_TENANT, "--name", "Gone Ltd")
    answer = _run(env, "tenants", "test", "--format", "json")
    assert answer.exit_code == 1
    rows = {r["display_name"]: r for r in json.loads(answer.stdout)}
    assert [rows[f"Customer {n}"]["ok"] for n in (1, 2, 3)] == [True, True, True]
    # Every simulated tenant subscribes to the 20 SKUs listed in graphsim/skus.py's SKUS.
    assert rows["Customer 2"]["skus"] == 20
    assert rows["Gone Ltd"]["ok"] is False and NO_SUCH_TENANT in rows["Gone Ltd"]["error"]


def test_collect_all_in_parallel_one_failure_stops_no_other(store_url: str, three: GraphSimulator) -> None:
    env = _env(three, store_url)
    _register(env, three)
    _run(env, "tenants", "add", UNKNOWN_TENANT, "--name", "Gone Ltd")
    answer = _run(env, "collect", "--all", "--workers", "4", "--format", "json")
    assert answer.exit_code == 1  # one tenant failed
    outcomes = {o["display_name"]: o for o in json.loads(answer.stdout)}
    assert sorted(outcomes) == ["Customer 1", "Customer 2", "Customer 3", "Gone Ltd"]
    for n in (1, 2, 3):
        done = outcomes[f"Customer {n}"]
        assert done["status"] == "complete" and done["users"] == 40 and done["error"] is None
        assert done["snapshot_id"] == 1  # each tenant's own store, so each its first snapshot
    failed = outcomes["Gone Ltd"]
    assert failed["status"] == "failed" and failed["snapshot_id"] is None
    assert NO_SUCH_TENANT in failed["error"] and "\n" not in failed["error"]
    assert "Collected 3 of 4 tenants (1 failed)." in answer.stderr
    # Each store holds its own tenant's users only (their names end in its domain).
    for tenant in three.tenants:
        with open_store(tenant_store(store_url, tenant.tenant_id)) as own:
            upns = [r[0] for r in own.conn.execute("SELECT user_principal_name FROM users").fetchall()]
        assert len(upns) == 40 and all(u.endswith(tenant.domain) for u in upns)
    rows = {r["display_name"]: r for r in json.loads(_run(env, "tenants", "list", "--format", "json").stdout)}
    assert rows["Customer 2"]["last_status"] == "complete" and rows["Customer 2"]["last_snapshot_id"] == 1
    assert rows["Gone Ltd"]["last_status"] == "failed" and NO_SUCH_TENANT in rows["Gone Ltd"]["last_error"]
    again = json.loads(_run(env, "collect", "--all", "--format", "json").stdout)
    assert {o["display_name"]: o["snapshot_id"] for o in again}["Customer 1"] == 2


def test_shards_collect_every_tenant_exactly_once(store_url: str, three: GraphSimulator) -> None:
    env = _env(three, store_url)
    _register(env, three)
    collected = []
    for k in (1, 2):
        answer = _run(env, "collect", "--all", "--shard", f"{k}/2", "--format", "json")
        assert answer.exit_code == 0
        collected += [o["tenant_id"] for o in json.loads(answer.stdout)]
    assert sorted(collected) == sorted(t.tenant_id for t in three.tenants)
    bad = _run(env, "collect", "--all", "--shard", "3/2")
    assert bad.exit_code == 2 and "1 <= K <= N" in bad.output


def test_the_shard_split_is_a_partition_and_stable() -> None:
    entries = [TenantEntry(f"customer{n}.onmicrosoft.com", f"C{n}") for n in range(200)]
    for shards in (1, 2, 3, 7):
        parts = [in_shard(entries, (k, shards)) for k in range(1, shards + 1)]
        ids = [e.tenant_id for part in parts for e in part]
        assert sorted(ids) == sorted(e.tenant_id for e in entries)  # each exactly once
    # sha256 of the id, not Python's salted hash: the same answer in every process (worked out once
    # by hand with hashlib: the first 8 bytes of sha256("customer0.onmicrosoft.com") modulo 3, plus 1).
    import hashlib

    digest = hashlib.sha256(b"customer0.onmicrosoft.com").digest()
    assert shard_of("Customer0.onmicrosoft.com", 3) == int.from_bytes(digest[:8], "big") % 3 + 1
