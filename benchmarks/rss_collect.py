"""Peak memory of one ``license-desk collect``, per process: the collector and its two parsers.

``bench_collect.py`` runs collections inside its own process, so its peak RSS covers several
collections and misses the parsers (``collectors/usage_process.py`` for the usage reports,
``collectors/page_process.py`` for the user pages), which run beside the collector. This runs each collection as its own ``python -m licensedesk collect`` against
``fastgraph.py`` and samples the RSS of it and of its children (``ps``, every 50 ms) until it exits.

    .venv/bin/python benchmarks/rss_collect.py --users 100000 --runs 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect import RemoteSimulator  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _sample(pid: int, peaks: dict[str, int]) -> None:
    listing = subprocess.run(
        ["ps", "-o", "pid=,rss=,args=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True
    ).stdout
    for line in listing.splitlines():
        if not line.strip():
            continue
        found, rss, args = line.split(None, 2)
        if "<defunct>" in args or int(rss) == 0:
            continue  # a parser between its exit and the collector's wait for it, or not yet running
        if int(found) == pid:
            name = "collector"
        elif "usage_process" in args:
            name = "report parser"
        elif "page_process" in args:
            name = "page parser"
        else:
            name = args[:40]
        peaks[name] = max(peaks.get(name, 0), int(rss))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sim = RemoteSimulator(args.users, args.seed)
    try:
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                own = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
                env = {**own, **sim.settings(os.path.join(tmp, "store.sqlite")).environ()}
                for kind in ("first", "next"):
                    started = time.perf_counter()
                    collect = subprocess.Popen([sys.executable, "-m", "licensedesk", "collect"], cwd=REPO, env=env,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
                    peaks: dict[str, int] = {}
                    while collect.poll() is None:
                        _sample(collect.pid, peaks)
                        time.sleep(0.05)
                    assert collect.stderr is not None
                    error = collect.stderr.read().decode().strip()
                    collect.stderr.close()
                    figures = ", ".join(f"{name} {kib / 1024:.0f} MB" for name, kib in sorted(peaks.items()))
                    print(
                        f"run {run + 1} {kind}: {time.perf_counter() - started:.2f} s, exit {collect.returncode}, "
                        f"peak RSS {figures}"
                        + (f"\n  {error.splitlines()[-1]}" if collect.returncode else ""),
                        flush=True,
                    )
    finally:
        sim.close()


if __name__ == "__main__":
    main()
