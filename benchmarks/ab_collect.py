"""A/B collection benchmark: two checkouts of License Desk collect from ONE server, alternately.

A change to the collector is measured against the code before it in the same run, so the shared
machine's noise hits both alike. Each run of each side is a fresh process running that checkout's
``benchmarks/bench_collect.py --connect`` (floor, first collection, next collection); the server
(``fastgraph.py`` by default) is started once and serves both.

    git worktree add --detach /tmp/base main      # the code before the change
    .venv/bin/python benchmarks/ab_collect.py --base /tmp/base --users 100000 --runs 5
    .venv/bin/python benchmarks/ab_collect.py --base /tmp/base --users 100000 --runs 5 --process
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="checkout to compare against (a git worktree)")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument(
        "--churn", type=float, default=0.0, help="as bench_collect.py's (bases from e37ecd0 on)"
    )
    parser.add_argument(
        "--process", action="store_true",
        help="whole processes: this checkout's bench_collect.py --process runs each side's `license-desk collect`",
    )  # fmt: skip
    args = parser.parse_args()
    command = [sys.executable, str(HERE / "benchmarks" / "fastgraph.py"), "--users", str(args.users),
               "--delay", str(args.delay), *(["--gzip"] if args.gzip else []),
               *(["--churn", str(args.churn)] if args.churn else [])]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    ready = server.stdout.readline()
    results: dict[str, list[dict[str, object]]] = {"base": [], "new": []}
    load = [os.getloadavg()[0]]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            info = Path(tmp, "ready.json")
            info.write_text(ready)
            for run in range(args.runs):
                for side, root in (("base", Path(args.base)), ("new", HERE)):
                    # With --process only `license-desk collect` is the side's own code, so a base
                    # from before --process existed is measured by this checkout's benchmark.
                    bench = (HERE if args.process else root) / "benchmarks" / "bench_collect.py"
                    out = subprocess.run(
                        [sys.executable, str(bench), "--connect", str(info), "--runs", "1",
                         "--users", str(args.users), "--json",
                         *(["--process", "--code", str(root)] if args.process else []),
                         *(["--churn", str(args.churn)] if args.churn else [])],
                        capture_output=True, text=True, check=True, cwd=root,
                    )  # fmt: skip
                    figures = json.loads(out.stdout.strip().splitlines()[-1])
                    results[side].append(figures)
                    print(
                        f"run {run + 1} {side:4}: floor {figures['floor'][0]:.2f}s first {figures['first'][0]:.2f}s "
                        f"next {figures['next'][0]:.2f}s rss {figures['rss_mb']:.0f} MB",
                        flush=True,
                    )
                load.append(os.getloadavg()[0])
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"\nusers {args.users:,}, runs {args.runs}, delay {args.delay}s, load (1 min) {min(load):.1f}-{max(load):.1f}"
    )
    for kind in ("first", "next"):
        for side in ("base", "new"):
            ratios = [r[kind][0] / r["floor"][0] for r in results[side]]  # type: ignore[index]
            walls = [r[kind][0] for r in results[side]]  # type: ignore[index]
            print(
                f"{kind:5} {side:4}: median {statistics.median(walls):.2f}s, {statistics.median(ratios):.2f}x "
                f"its floor (per run: {', '.join(f'{x:.2f}' for x in ratios)})"
            )
        pairs = [n[kind][0] / b[kind][0] for b, n in zip(results["base"], results["new"], strict=True)]  # type: ignore[index]
        print(
            f"{kind:5} new/base per pair: {', '.join(f'{x:.2f}' for x in pairs)}; median {statistics.median(pairs):.2f}"
        )
    floors = [r["floor"][0] for side in results.values() for r in side]  # type: ignore[index]
    print(
        f"floor median {statistics.median(floors):.2f}s; peak RSS new {max(r['rss_mb'] for r in results['new']):.0f} MB"
    )  # type: ignore[type-var]


if __name__ == "__main__":
    main()
