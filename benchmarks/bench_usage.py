"""Usage-report benchmark: a 100,000-user report set parsed, and fetched over HTTPS.

Two figures per run:

- **parse**: the five report CSVs of a simulated tenant (built once, rendered to bytes once, so
  neither counts) parsed by ``collectors.usage_csv`` from 64 KiB chunks, as they arrive from the
  network, and joined to user ids (``collectors.usage.FetchedUsage`` and ``join_usage``): time, and the peak of Python
  allocations during it (tracemalloc), which is what holding the parsed rows costs.
- **fetch** (``--https``): ``collectors.usage.collect_usage`` against the simulator over TLS on
  127.0.0.1: the six requests, the five redirects followed, downloads streamed and parsed. The
  simulator runs in this process (it renders each CSV when asked, ~seconds per report), so this
  figure includes its work and is an upper bound.

Peak RSS of the process is printed at the end.

    .venv/bin/python benchmarks/bench_usage.py --users 100000 --runs 3
    .venv/bin/python benchmarks/bench_usage.py --users 100000 --runs 1 --https
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.usage import FetchedUsage, collect_usage, join_usage  # noqa: E402
from collectors.usage_csv import text_lines  # noqa: E402
from collectors.usage_rows import REPORTS  # noqa: E402
from graphsim.tenant import build_tenant  # noqa: E402
from graphsim.usage import REPORTS as SIM_REPORTS  # noqa: E402
from graphsim.usage import report_lines  # noqa: E402

CHUNK = 1 << 16


def chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--https", action="store_true", help="also fetch the reports from the simulator over TLS"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    tenant = build_tenant(args.users, args.seed)
    print(f"tenant of {args.users} users built in {time.perf_counter() - started:.1f} s")
    functions = {key: fn.lower() for key, (fn, _beta) in REPORTS.items()}
    started = time.perf_counter()
    bodies = {
        key: chunks("".join(report_lines(tenant, SIM_REPORTS[fn], "D30")).encode())
        for key, fn in functions.items()
    }
    sizes = {key: sum(map(len, body)) for key, body in bodies.items()}
    print(f"reports rendered in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))  # fmt: skip
    ids = {u.upn.lower(): u.id for u in tenant.users}

    times, peaks, rows = [], [], 0
    # Timed runs without tracemalloc (it slows allocation-heavy code several times over), then
    # one more under it for the peak.
    for traced in [False] * args.runs + [True]:
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        fetched = FetchedUsage()
        for key, body in bodies.items():
            fetched.add(key, text_lines(body), key)
        merged = join_usage(fetched, ids).rows
        if traced:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        else:
            times.append(time.perf_counter() - started)
        rows = len(merged)
        del fetched, merged
    total_mb = sum(sizes.values()) / 1e6
    print(f"parse {total_mb:.0f} MB of CSV into {rows} user rows: median {statistics.median(times):.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in times)}), {total_mb / statistics.median(times):.0f} MB/s; "
          f"peak Python allocations {max(peaks) / 1e6:.0f} MB")  # fmt: skip

    if args.https:
        from cli.demo_tenant import simulator_settings
        from collectors.graph import GraphClient
        from graphsim.server import GraphSimulator

        with GraphSimulator(tenant) as sim:
            settings = simulator_settings(sim, str(Path("/tmp/bench-usage.sqlite")))
            client = GraphClient(settings)
            client.sign_in()
            for _ in range(args.runs):
                sim.api.reports.clock = lambda: 0.0  # keep clear of the 14-per-10-minutes limit
                sim.api.reports._calls.clear()
                started = time.perf_counter()
                result = collect_usage(client, ids)
                elapsed = time.perf_counter() - started
                print(f"fetch over HTTPS (simulator rendering included): {elapsed:.2f} s, {len(result.rows)} rows, "
                      f"{client.stats.requests} requests so far")  # fmt: skip
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
