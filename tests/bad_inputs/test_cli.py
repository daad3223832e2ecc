"""Bad command-line input gets one clear sentence (exit 2 for usage, 1 for a failure), never a
traceback or "Unexpected error", and leaves nothing behind: out-of-range snapshot ids and ports,
a port already taken, a store another process is writing to."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.db import open_store
from store.prices import load_prices
from tests.analysis import finance_tenant as t


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("bad_cli") / "store.sqlite")
    t.build(path)
    return path


@pytest.fixture(scope="module")
def taken() -> Iterator[int]:
    """A port something listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _run(args: list[str], store: str, tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    env.update(LICENSE_DESK_STORE=store, TMPDIR=str(tmp), HOME=str(tmp))
    return subprocess.run(
        [sys.executable, "-m", "licensedesk", *args], env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


TAKEN = "{taken}"
CASES: list[tuple[str, list[str], int, str]] = [
    ("snapshot negative", ["report", "skus", "--snapshot", "-1"], 2, "-1 is not a snapshot id: ids are whole numbers from 1."),
    ("snapshot zero", ["report", "costs", "--snapshot", "0"], 2, "0 is not a snapshot id"),
    ("snapshot 2**70", ["report", "users", "--snapshot", str(2**70)], 2, f"{2**70} is not a snapshot id"),
    ("snapshot not a number", ["report", "skus", "--snapshot", "latest"], 2, "latest is not a snapshot id"),
    ("snapshot huge but storable", ["report", "skus", "--snapshot", str(2**62)], 1,
     f"Snapshot {2**62} is not a complete snapshot in"),
    ("simulator port 99999", ["simulator", "--port", "99999"], 2,
     "99999 is not a TCP port: give a number from 1 to 65535 (0 picks a free one)."),
    ("simulator port taken", ["simulator", "--users", "20", "--port", TAKEN], 1,
     "The simulator cannot listen on 127.0.0.1:{taken} (Address already in use)."),
    ("simulator ready file in a missing folder", ["simulator", "--users", "20", "--ready-file", "/no/such/dir/r.json"], 1,
     "Cannot write the ready file /no/such/dir/r.json (No such file or directory)."),
    ("dashboard port 99999", ["dashboard", "--port", "99999"], 2, "99999 is not a TCP port: give a number from 1 to 65535."),
    ("dashboard port 0", ["dashboard", "--port", "0"], 2, "0 is not a TCP port"),
    ("dashboard port negative", ["dashboard", "--port", "-80"], 2, "-80 is not a TCP port"),
    ("dashboard port taken", ["dashboard", "--port", TAKEN], 1,
     "Port {taken} on 127.0.0.1 is already in use: stop what is using it, or pick another with --port."),
    ("demo port 70000", ["demo", "--port", "70000"], 2, "70000 is not a TCP port"),
    ("group name unknown", ["reprocess", "--group", "No Such Group"], 1,
     "There is no group named 'No Such Group' among the licensed groups of the latest snapshot"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "args", "code", "sentence"), CASES, ids=[c[0] for c in CASES])
def test_bad_command_line_input_is_one_sentence(
    case: str, args: list[str], code: int, sentence: str, store: str, taken: int, tmp_path: Path
) -> None:
    result = _run([a.format(taken=taken) for a in args], store, tmp_path)
    assert result.returncode == code, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert sentence.format(taken=taken) in last
    assert "Traceback" not in result.stderr and "Unexpected error" not in result.stderr
    if code == 1:  # a failure is exactly one line; usage errors carry click's usage hint above it
        assert result.stderr.strip().startswith("license-desk: error: ") and "\n" not in result.stderr.strip()
    assert not list(tmp_path.glob("graphsim-*")), "a temporary CA directory was left behind"
    assert not (tmp_path / ".streamlit").exists()


def test_a_simulator_that_cannot_start_leaves_no_temporary_directory(
    taken: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from graphsim.server import GraphSimulator

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the environment: where mkdtemp writes
    for port, error in ((99999, OverflowError), (taken, OSError)):
        with pytest.raises(error):
            GraphSimulator(users=20, port=port).start()
        assert list(tmp_path.iterdir()) == []


def test_a_store_locked_by_another_writer_is_one_sentence(store: str, tmp_path: Path) -> None:
    with open_store(store) as opened:
        before = load_prices(opened)
    prices = tmp_path / "prices.csv"
    prices.write_text("sku,unit_price,currency,period,effective_from\nSPE_E3,1.00,USD,month,2026-01-01\n")
    writer = sqlite3.connect(store, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # what a collection holds while it publishes
    started = time.monotonic()
    try:
        result = _run(["prices", "import", str(prices)], store, tmp_path)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert time.monotonic() - started >= 25  # it waited out the busy timeout first
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"license-desk: error: The store at {store} is locked: another License Desk process (a collection, an "
        "import or applied changes) is writing to it; try again when it has finished."
    )
    with open_store(store) as opened:
        assert load_prices(opened).equals(before)  # nothing half-written
