"""Store engines side by side: the same collections into SQLite and into PostgreSQL.

Each run collects the same simulated tenant twice into each engine (a first snapshot, which
writes every row, then a second one, which writes only the changes), alternating engines so
that noise on a shared machine hits both alike, and reads the users report back. PostgreSQL is
either the server at ``--postgres URL`` or a throwaway one started from Debian's binaries
(as the tests do).

    .venv/bin/python benchmarks/bench_engines.py --users 10000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_collect import RemoteSimulator  # noqa: E402

from collectors.runner import run_collection  # noqa: E402
from store import queries  # noqa: E402
from store.db import open_store  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402


def _postgres_store(base: str) -> str:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def _one(sim: RemoteSimulator, store: str) -> tuple[float, float, float]:
    started = time.perf_counter()
    run_collection(sim.settings(store))
    first = time.perf_counter() - started
    started = time.perf_counter()
    run_collection(sim.settings(store))
    second = time.perf_counter() - started
    started = time.perf_counter()
    with open_store(store, create=False) as opened:
        rows = len(queries.user_licenses(opened, queries.resolve_snapshot(opened)))
    read = time.perf_counter() - started
    assert rows > 0
    return first, second, read


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="a server URL to use instead of a throwaway one")
    args = parser.parse_args()

    figures: dict[str, list[tuple[float, float, float]]] = {"sqlite": [], "postgresql": []}
    with ExitStack() as stack:
        base = args.postgres or stack.enter_context(PostgresServer()).url
        sim = RemoteSimulator(args.users, 1)
        stack.callback(sim.close)
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        for run in range(args.runs):
            for engine in ("sqlite", "postgresql") if run % 2 == 0 else ("postgresql", "sqlite"):
                store = os.path.join(tmp, f"run{run}.sqlite") if engine == "sqlite" else _postgres_store(base)
                figures[engine].append(_one(sim, store))
                first, second, read = figures[engine][-1]
                print(f"run {run + 1} {engine:10}: first snapshot {first:.2f}s, second {second:.2f}s, "
                      f"licence read {read:.2f}s", flush=True)  # fmt: skip
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"users: {args.users:,}; runs: {args.runs}; medians:")
    base_first = statistics.median(f[0] for f in figures["sqlite"])
    for engine, runs in figures.items():
        first, second, read = (statistics.median(f[i] for f in runs) for i in range(3))
        print(f"  {engine:10} first {first:.2f}s ({first / base_first:.2f}x SQLite), second {second:.2f}s, "
              f"licence read {read:.2f}s")  # fmt: skip


if __name__ == "__main__":
    main()
