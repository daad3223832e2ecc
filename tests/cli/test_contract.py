"""The command-line contract (DESIGN §8) exercised as separate processes, as scripts use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

READY_KEYS = {
    "graph_url", "authority_url", "tenant_id", "client_id", "client_secret", "write_client_id",
    "write_client_secret", "ca_bundle",
}  # fmt: skip


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "licensedesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def simulator_process() -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "licensedesk", "simulator", "--users", "1200", "--seed", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()


def test_simulator_collect_report_as_processes(simulator_process: dict[str, Any], store_url: str) -> None:
    info = simulator_process
    assert set(info) == READY_KEYS
    assert info["graph_url"].startswith("https://127.0.0.1:") and info["graph_url"].endswith("/v1.0")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    env.update({f"LICENSE_DESK_{k.upper()}": v for k, v in info.items()})
    env["LICENSE_DESK_STORE"] = store_url

    collected = _run("collect", env=env)
    assert collected.returncode == 0, collected.stderr
    assert collected.stdout.startswith("Snapshot 1 complete: 1,200 users")
    assert info["client_secret"] not in collected.stdout + collected.stderr

    skus = json.loads(_run("report", "skus", "--format", "json", env=env).stdout)
    keys = {"sku_id", "sku_part_number", "name", "applies_to", "enabled", "warning", "suspended", "locked_out",
            "consumed", "purchased", "available"}  # fmt: skip
    assert keys <= set(skus[0])
    for row in skus:
        assert row["purchased"] == row["enabled"] + row["warning"]
        assert row["available"] == row["purchased"] - row["consumed"]
    csv = _run("report", "users", "--format", "csv", env=env).stdout.splitlines()
    assert csv[0].startswith("id,user_principal_name,display_name") and len(csv) == 1 + 1200
    errors = json.loads(_run("report", "errors", "--format", "json", env=env).stdout)
    assert {"group_id", "group_name", "user_id", "user_principal_name", "sku_id", "error"} <= set(errors[0])
    subs = json.loads(_run("report", "subscriptions", "--format", "json", env=env).stdout)
    assert all(isinstance(s["is_trial"], bool) for s in subs)


def test_usage_and_configuration_errors_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    env["LICENSE_DESK_STORE"] = str(tmp_path / "s.sqlite")
    unconfigured = _run("collect", env=env)
    assert unconfigured.returncode == 2
    assert unconfigured.stderr.startswith(
        "license-desk: error: No tenant is configured: set LICENSE_DESK_TENANT_ID"
    )
    bad_url = _run("collect", env={**env, "LICENSE_DESK_GRAPH_URL": "http://graph"})
    assert bad_url.returncode == 2 and "must be an https URL" in bad_url.stderr
    no_store = _run("report", "skus", env=env)
    assert no_store.returncode == 1
    assert no_store.stderr.strip() == (
        f"license-desk: error: There is no store at {tmp_path / 's.sqlite'}; run `license-desk collect` "
        "or `license-desk demo` first."
    )
    assert "Traceback" not in unconfigured.stderr + bad_url.stderr + no_store.stderr


def test_catalog_import_of_microsofts_csv_names_skus(reference_csv: Path, tmp_path: Path) -> None:
    from cli.demo_tenant import simulator_settings
    from collectors.runner import run_collection
    from graphsim.server import GraphSimulator

    store = str(tmp_path / "s.sqlite")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    env["LICENSE_DESK_STORE"] = store
    with GraphSimulator(users=60, seed=1) as sim:
        run_collection(simulator_settings(sim, store))
    before = {
        r["sku_part_number"]: r["name"]
        for r in json.loads(_run("report", "skus", "--format", "json", env=env).stdout)
    }
    assert before["CRMSTANDARD"] == "CRMSTANDARD"  # not in our short table
    imported = _run("catalog", "import", str(reference_csv), env=env)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("Imported 569 products")
    after = {
        r["sku_part_number"]: r
        for r in json.loads(_run("report", "skus", "--format", "json", env=env).stdout)
    }
    assert after["CRMSTANDARD"]["name"] == "Microsoft Dynamics CRM Online"
    assert after["CRMSTANDARD"]["known"] is True
    assert not after["CONTOSO_PARTNER_ADDON"]["known"]  # genuinely unknown stays unknown


def test_catalog_import_rejects_a_bad_file_in_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Product_Display_Name,String_Id\nx,y\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    env["LICENSE_DESK_STORE"] = str(tmp_path / "s.sqlite")
    result = _run("catalog", "import", str(bad), env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("license-desk: error: ") and "bad.csv" in lines[0]


def test_simulator_ready_file_is_whole_once_listening_and_removed_on_exit(tmp_path: Path) -> None:
    import socket
    import stat
    import time
    from urllib.parse import urlsplit

    ready = tmp_path / "sim.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "licensedesk", "simulator", "--users", "50", "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "no ready file"
            time.sleep(0.01)
        info = json.loads(ready.read_text())  # never half a line: it appears whole
        assert set(info) >= READY_KEYS
        assert stat.S_IMODE(ready.stat().st_mode) == 0o600  # it holds the app's secret
        url = urlsplit(info["graph_url"])
        with socket.create_connection((url.hostname, url.port), timeout=5):
            pass  # already listening when the file appears
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline()) == info
        assert [p.name for p in tmp_path.iterdir()] == ["sim.json"]  # no temporary file left beside it
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == 0
    assert not ready.exists()
