"""Bad input to commands that touch the store: one sentence, and no trace left but the error
(issue 14, points 18 and 19). Each case runs the real command line on real files; the check
after it is that the files are exactly as they were (same names, same bytes)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from store.db import SCHEMA_VERSION, open_store
from store.prices import load_prices

PRICE_HEADER = "sku,unit_price,currency,period,effective_from\n"


def _state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _other_application(folder: Path) -> Path:
    path = folder / "crm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('Contoso')")
    conn.commit()
    conn.close()
    return path


def _older_store(folder: Path) -> Path:
    path = folder / "old.sqlite"
    with open_store(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM schema_migrations WHERE version = ?", (SCHEMA_VERSION,))
    conn.commit()
    conn.execute("PRAGMA journal_mode=DELETE")  # so the file alone is the whole store
    conn.close()
    return path


def _not_sqlite(folder: Path) -> Path:
    path = folder / "notes.txt"
    path.write_text("not a database\n", encoding="utf-8")
    return path


def _price_file(folder: Path, body: str) -> Path:
    path = folder / "prices.csv"
    path.write_text(PRICE_HEADER + body, encoding="utf-8")
    return path


def _bad_certificate(folder: Path) -> Path:
    path = folder / "app.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Case:
    name: str
    prepare: Callable[[Path], Path]  # returns the store path the command is pointed at
    args: Callable[[Path], list[str]]
    message: str  # a regular expression the one sentence must match
    exit_code: int = 1
    env: Callable[[Path], dict[str, str]] = lambda folder: {}


CASES = [
    Case("report on another application's SQLite file", _other_application, lambda f: ["report", "skus"],
         r"crm\.db is an SQLite database of another application, not a License Desk store; License Desk left it untouched"),
    Case("audit on another application's SQLite file", _other_application, lambda f: ["audit"],
         r"another application"),
    Case("check on another application's SQLite file", _other_application, lambda f: ["check"],
         r"another application"),
    Case("prices import into another application's SQLite file", _other_application,
         lambda f: ["prices", "import", str(_price_file(f, "SPE_E3,36.00,USD,month,2024-01-01\n"))],
         r"another application"),
    Case("report on a store of an older schema", _older_store, lambda f: ["report", "skus"],
         rf"has schema version {SCHEMA_VERSION - 1} and this License Desk reads {SCHEMA_VERSION}; run `license-desk collect` once"),
    Case("report on a file that is not SQLite", _not_sqlite, lambda f: ["report", "users"],
         r"notes\.txt is not a License Desk store \(not an SQLite database\)"),
    Case("report where there is no store", lambda f: f / "none.sqlite", lambda f: ["report", "skus"],
         r"There is no store at .*none\.sqlite; run `license-desk collect`"),
    Case("prices export where there is no store", lambda f: f / "none.sqlite", lambda f: ["prices", "export"],
         r"There is no store"),
    Case("a bad price file where there is no store", lambda f: f / "none.sqlite",
         lambda f: ["prices", "import", str(_price_file(f, "SPE_E3,36,USD,fortnight,2024-01-01\n"))],
         r"prices\.csv, row 2: period 'fortnight' must be month or year"),
    Case("a price of 31 digits where there is no store", lambda f: f / "none.sqlite",
         lambda f: ["prices", "import", str(_price_file(f, "SPE_E3,1234567890123456789012345678901.00,USD,month,2024-01-01\n"))],
         r"unit_price '1234567890123456789012345678901\.00' is more than License Desk accepts \(at most 100000000\.00\)"),
    Case("a bad certificate where there is no store", lambda f: f / "none.sqlite", lambda f: ["collect"],
         r"LICENSE_DESK_CLIENT_CERTIFICATE .* holds no readable private key", exit_code=2, env=lambda f: {
             "LICENSE_DESK_TENANT_ID": "contoso.onmicrosoft.com", "LICENSE_DESK_CLIENT_ID": "app",
             "LICENSE_DESK_CLIENT_CERTIFICATE": str(_bad_certificate(f))}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_failed_command_leaves_no_trace_but_its_error(case: Case, tmp_path: Path) -> None:
    store = case.prepare(tmp_path)
    env = {"LICENSE_DESK_STORE": str(store), **case.env(tmp_path)}
    args = case.args(tmp_path)
    before = _state(tmp_path)
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == case.exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("license-desk: error: "), result.stderr
    assert "Traceback" not in result.output and "Unexpected error" not in result.stderr
    assert re.search(case.message, lines[0]), lines[0]
    assert _state(tmp_path) == before


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("1234567890123456789012345678901.00", "more than License Desk accepts"),
        ("90000000000000000.00", "more than License Desk accepts"),
        ("1234567890123.45", "more than License Desk accepts"),
        ("100000000.01", "at most 100000000.00"),
    ],
)
def test_an_out_of_range_price_is_refused_and_the_book_is_unchanged(
    price: str, message: str, tmp_path: Path
) -> None:
    env = {"LICENSE_DESK_STORE": str(tmp_path / "store.sqlite")}
    good = _price_file(tmp_path, "SPE_E3,36.00,USD,month,2024-01-01\n")
    assert CliRunner().invoke(cli, ["prices", "import", str(good)], env=env).exit_code == 0
    bad = _price_file(tmp_path, f"SPE_E3,{price},USD,month,2024-01-01\n")
    result = CliRunner().invoke(cli, ["prices", "import", str(bad)], env=env)
    assert result.exit_code == 1
    assert message in result.stderr and "Unexpected" not in result.stderr
    with open_store(env["LICENSE_DESK_STORE"]) as store:
        assert load_prices(store)["unit_price_minor"].tolist() == [3600]


def test_the_largest_price_costs_exactly(tmp_path: Path) -> None:
    """USD 100,000,000.00 a month, the largest price accepted, round-trips exactly."""
    env = {"LICENSE_DESK_STORE": str(tmp_path / "store.sqlite")}
    top = _price_file(tmp_path, "SPE_E3,100000000.00,USD,month,2024-01-01\n")
    assert CliRunner().invoke(cli, ["prices", "import", str(top)], env=env).exit_code == 0
    exported = CliRunner().invoke(cli, ["prices", "export"], env=env)
    assert exported.stdout.splitlines()[1] == "SPE_E3,100000000.00,USD,month,2024-01-01"


def test_a_bad_file_of_200000_rows_prints_20_problems_and_a_count(tmp_path: Path) -> None:
    env = {"LICENSE_DESK_STORE": str(tmp_path / "store.sqlite")}
    rows = "".join(f"SPE_E3,{i}x,USD,month,2024-01-01\n" for i in range(200_000))
    result = CliRunner().invoke(cli, ["prices", "import", str(_price_file(tmp_path, rows))], env=env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 22, lines[:3]
    assert lines[0] == "license-desk: error: prices.csv, row 2: unit_price '0x' is not a number."
    assert lines[19] == "prices.csv, row 21: unit_price '19x' is not a number."
    assert lines[20] == "... and 199,980 more problem(s)."
    assert lines[21] == "Nothing was imported."
    assert not (tmp_path / "store.sqlite").exists()


def test_a_collection_that_cannot_sign_in_records_nothing(tmp_path: Path) -> None:
    """An expired secret fails before the store is touched: no failed snapshot row, no new store."""
    from cli.demo_tenant import simulator_settings
    from graphsim.server import GraphSimulator

    with GraphSimulator(users=30, seed=2) as sim:
        env = simulator_settings(sim, str(tmp_path / "store.sqlite")).environ()
        assert CliRunner().invoke(cli, ["collect"], env=env).exit_code == 0
        before = _state(tmp_path)
        sim.expire_secret()
        result = CliRunner().invoke(cli, ["collect"], env=env)
        fresh = CliRunner().invoke(
            cli, ["collect"], env={**env, "LICENSE_DESK_STORE": str(tmp_path / "new.sqlite")}
        )
    assert result.exit_code == 1
    assert "client secret for app" in result.stderr and "has expired" in result.stderr
    assert fresh.exit_code == 1
    assert _state(tmp_path) == before
    with open_store(tmp_path / "store.sqlite") as store:
        assert store.conn.execute("SELECT status FROM snapshots").fetchall() == [("complete",)]
