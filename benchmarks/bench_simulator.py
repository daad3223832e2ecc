"""How long the simulator takes to build a tenant (the set-up cost of every large test and demo).

    .venv/bin/python benchmarks/bench_simulator.py --users 100000 --runs 3

Prints each run's wall and CPU seconds and their medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphsim.tenant import build_tenant  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    walls, cpus = [], []
    for run in range(1, args.runs + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        tenant = build_tenant(args.users, 1, start)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        print(f"run {run}: {len(tenant.users):,} users in {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU")
    print(f"median: {statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU")


if __name__ == "__main__":
    main()
