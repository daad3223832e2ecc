"""A recognisable secret never reaches any output, log, store or exported file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphsim.server import GraphSimulator

# Kept whole on one pytest-xdist worker: it scans everything the commands wrote for the canary.
pytestmark = pytest.mark.xdist_group("secrets")


SECRET = "S3CRET~canary.7f3a9e-DoNotLeak"


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "licensedesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.stdout + done.stderr


def test_secret_never_leaks(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    with GraphSimulator(users=150, seed=6) as sim:
        sim.client_secret = SECRET  # the registered secret is now the canary
        base = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
        env = {
            **base,
            **{f"LICENSE_DESK_{k.upper()}": v for k, v in sim.ready_info().items()},
            "LICENSE_DESK_STORE": str(store),
            "LICENSE_DESK_ALLOW_WRITES": "true",
        }
        assert env["LICENSE_DESK_CLIENT_SECRET"] == SECRET
        outputs = [
            _run(["collect"], env),
            # A traceback after the sign-in, with the secret in the process (a Graph path that
            # answers 404: an unreachable Graph is the same traceback after 63 s of retries).
            _run(
                ["--debug", "collect"],
                {**env, "LICENSE_DESK_GRAPH_URL": sim.graph_url.replace("/v1.0", "/nowhere/v1.0")},
            ),
            _run(["report", "users", "--format", "json"], env),
            _run(["report", "skus", "--format", "csv"], env),
            _run(["reprocess", "--group", "Licensing - Power BI Pro", "--format", "json"], env),
            _run(["assign", "--sku", "VISIOCLIENT", "--user", "nobody@contoso.com"], env),
            _run(["audit", "--format", "json"], env),
            _run(["prices", "export", str(tmp_path / "prices.csv")], env),
        ]
        sim.expire_secret()
        outputs.append(_run(["--debug", "collect"], env))
    assert outputs[0].startswith("Snapshot 1 complete")  # the flow really ran with the canary secret
    assert "Traceback" in outputs[1] and "Graph answered 404" in outputs[1]
    assert '"user_principal_name"' in outputs[2]
    assert "AADSTS7000222" in outputs[-1]  # the expired-secret path ran, traceback included
    for text in outputs:
        assert SECRET not in text
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert store in written
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path


def test_the_store_password_never_leaks(postgres_server: str, tmp_path: Path) -> None:
    """A PostgreSQL URL's password: in no output, no error and no row. The test server trusts
    127.0.0.1, so the canary password is carried everywhere but never needed."""
    import psycopg

    schema = "secrets_canary"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = postgres_server.replace("postgres@", f"postgres:{SECRET}@") + f"?options=-csearch_path%3D{schema}"
    unreachable = f"postgresql://ld:{SECRET}@127.0.0.1:1/licenses"
    with GraphSimulator(users=60, seed=6) as sim:
        base = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
        env = {
            **base,
            **{f"LICENSE_DESK_{k.upper()}": v for k, v in sim.ready_info().items()},
            "LICENSE_DESK_STORE": url,
        }
        outputs = [
            _run(["collect"], env),
            _run(["report", "skus", "--format", "csv"], env),
            _run(["catalog", "import", str(tmp_path / "missing.csv")], env),
            _run(["--debug", "report", "skus"], {**env, "LICENSE_DESK_STORE": unreachable}),
            _run(["collect"], {**env, "LICENSE_DESK_STORE": unreachable}),
        ]
    assert outputs[0].startswith("Snapshot 1 complete")
    assert "Cannot connect to the PostgreSQL store at postgresql://ld:***@127.0.0.1:1/licenses" in outputs[3]
    for text in outputs:
        assert SECRET not in text
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        )]  # fmt: skip
        assert "snapshots" in tables
        for table in tables:
            for (row,) in conn.execute(f"SELECT t::text FROM {schema}.{table} t"):
                assert SECRET not in row, table
