"""Collect benchmark: License Desk's collection against the floor.

The floor is the same data downloaded and parsed with plain ``requests`` and nothing stored (the
user pages with ``json``, the five usage reports with ``csv``, following Graph's redirect): no
collector can be faster than that. Each run times two collections: the first into an
empty store, then the next one into the same store (the daily case). Runs alternate (floor, collect, floor, ...) so
that noise on a shared machine hits both alike; medians and the ratio of each pair are printed.
The server runs in its own process, as Graph is remote: sharing this process's GIL would slow
both sides.

``--server fast`` (the default) serves pre-rendered pages (``benchmarks/fastgraph.py``): serving
costs next to nothing, so the ratio is the collector's own cost. ``--server graphsim`` is the
simulator, which builds each page as asked (~10 s of CPU per 100k users on the same cores): its
ratios flatter the collector. ``--delay 0.2`` adds 0.2 s before each user page (the latency-bound
case: parsing and storing should hide behind the next request), ``--profile`` adds a first and a next collection
under cProfile and prints where its main thread's time goes.

    .venv/bin/python benchmarks/bench_collect.py --users 100000 --runs 3
    .venv/bin/python benchmarks/bench_collect.py --users 100000 --runs 3 --delay 0.2
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.floor import run as floor_run  # noqa: E402
from collectors.runner import run_collection  # noqa: E402
from collectors.usage import PERIOD  # noqa: E402
from collectors.usage_rows import REPORTS  # noqa: E402
from collectors.users import SIGNIN_FIELD, USER_FIELDS  # noqa: E402
from licensedesk.config import Settings  # noqa: E402

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class RemoteSimulator:
    """A Graph server in a child process (the simulator or fastgraph), and its connection details."""

    def __init__(
        self, users: int, seed: int, *, server: str = "fast", delay: float = 0.0, compress: bool = False,
        connect: str | None = None, churn: float = 0.0,
    ) -> None:  # fmt: skip
        self.proc: subprocess.Popen[str] | None = None
        if connect:  # a server someone else started (benchmarks/ab_collect.py): its ready line
            self._load(json.loads(Path(connect).read_text()))
            return
        if server == "fast":
            command = [sys.executable, str(Path(__file__).with_name("fastgraph.py")), "--delay", str(delay)]
            command += ["--gzip"] if compress else []
            command += ["--churn", str(churn)] if churn else []
        else:
            command = [sys.executable, "-m", "licensedesk", "simulator"]
        self.proc = subprocess.Popen(
            [*command, "--users", str(users), "--seed", str(seed)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self._load(json.loads(self.proc.stdout.readline()))

    def _load(self, info: dict[str, Any]) -> None:
        self.graph_url: str = info["graph_url"]
        self.authority_url: str = info["authority_url"]
        self.tenant_id: str = info["tenant_id"]
        self.client_id: str = info["client_id"]
        self.client_secret: str = info["client_secret"]
        self.ca_bundle: str = info["ca_bundle"]

    def settings(self, store: str) -> Settings:
        return Settings(
            store=store, tenant_id=self.tenant_id, client_id=self.client_id, client_secret=self.client_secret,
            graph_url=self.graph_url, authority_url=self.authority_url, ca_bundle=self.ca_bundle,
        )  # fmt: skip

    def set_day(self, day: int) -> None:
        """Which day fastgraph serves (``--churn``: 1 is the next day, with sign-ins moved)."""
        origin = self.graph_url.rsplit("/", 1)[0]
        requests.post(
            f"{origin}/fastgraph/day", data=str(day), verify=self.ca_bundle, timeout=30
        ).raise_for_status()

    def cpu_seconds(self) -> float | None:
        """CPU time the simulator has used so far (Linux's /proc), None where unavailable."""
        if self.proc is None:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def floor_spec(sim: RemoteSimulator) -> dict[str, Any]:
    """What ``floor.run`` fetches: the collector's user sweep and usage reports, as plain URLs."""
    origin = sim.graph_url.rsplit("/", 1)[0]
    return {
        "ca_bundle": sim.ca_bundle,
        "token_url": f"{sim.authority_url}/{sim.tenant_id}/oauth2/v2.0/token",
        "token_form": {
            "grant_type": "client_credentials",
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
            "scope": GRAPH_SCOPE,
        },  # fmt: skip
        "users_url": f"{sim.graph_url}/users",
        "users_params": {"$select": f"{USER_FIELDS},{SIGNIN_FIELD}", "$top": "999"},
        "report_urls": [
            f"{origin}/{'beta' if beta else 'v1.0'}/reports/{function}(period='{PERIOD}')"
            + ("?$format=text/csv" if beta else "")
            for function, beta in REPORTS.values()
        ],
    }


def floor(sim: RemoteSimulator) -> tuple[float, int, int, int]:
    """Seconds, pages (user pages and reports), user pages and bytes to fetch and parse every user
    page and usage report with plain requests (``benchmarks/floor.py``), in this process."""
    return floor_run(floor_spec(sim))


def floor_process(sim: RemoteSimulator) -> tuple[float, int, int, int]:
    """``floor``, as a process of its own timed from its start (``--process``): Python's start and
    the import of requests are counted, as they are for the collection's process."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("floor.py")), json.dumps(floor_spec(sim))],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    _, pages, user_pages, size = json.loads(out.stdout)
    return time.perf_counter() - started, pages, user_pages, size


def collect_process(settings: Settings, code: Path) -> None:
    """``license-desk collect`` as its own process, run from the checkout ``code``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")} | settings.environ()
    subprocess.run(
        [sys.executable, "-m", "licensedesk", "collect"], cwd=code, env=env, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def profile_collection(settings: Settings, kind: str, top: int = 25) -> None:
    """One collection under cProfile: where the main thread's time goes (parsing, staging,
    publishing). The page downloads run on the prefetch threads, which cProfile does not see."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    run_collection(settings)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\nprofile of one {kind} collection, main thread, by own time:")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


def _own_cpu() -> float:
    """CPU seconds of this process and of its children that have ended: the collector's parser
    processes are its own work, done on the same cores."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _add_cpu(
    cpu: dict[str, list[float]], kind: str, sim: RemoteSimulator, sim_before: float | None, own_before: float
) -> None:
    cpu[kind].append(_own_cpu() - own_before)
    sim_now = sim.cpu_seconds()
    if sim_before is not None and sim_now is not None:
        cpu[kind + "_sim"].append(sim_now - sim_before)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", choices=["fast", "graphsim"], default="fast")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each user page (fast only)")
    parser.add_argument("--gzip", action="store_true", help="user pages gzip-compressed (fast only)")
    parser.add_argument(
        "--profile", action="store_true", help="profile one more first and next collection (cProfile)"
    )
    parser.add_argument("--connect", help="a running server's ready-line file, instead of starting one")
    parser.add_argument(
        "--churn", type=float, default=0.0,
        help="the next collection sees the next day: this share of users signed in again (fast only)",
    )  # fmt: skip
    parser.add_argument(
        "--process", action="store_true",
        help="time whole processes: `license-desk collect` and the floor each started as one (imports counted)",
    )  # fmt: skip
    parser.add_argument(
        "--code", type=Path, default=Path(__file__).resolve().parents[1],
        help="with --process: the checkout whose `license-desk collect` runs (benchmarks/ab_collect.py)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = parser.parse_args()
    if args.process and args.profile:
        parser.error("--profile profiles a collection in this process; leave out --process")

    floors: list[float] = []
    # "first": a collection into an empty store (every row is new); "next": the same tenant again
    # into that store, the daily case (rows compared with the history; almost nothing written).
    kinds = ("first", "next")
    collects: dict[str, list[float]] = {kind: [] for kind in kinds}
    publishes: dict[str, list[float]] = {kind: [] for kind in kinds}  # the store's complete()
    cpu: dict[str, list[float]] = {f"{kind}{side}": [] for kind in ("floor", *kinds) for side in ("", "_sim")}
    sizes: list[int] = []
    requests_made: list[int] = []
    saving: list[float] = []  # when the current run reached the "saving" step

    def note_saving(progress: Any) -> None:
        if progress.step == "saving":
            saving.append(time.perf_counter())

    load_before = os.getloadavg()[0]
    sim = RemoteSimulator(
        args.users, args.seed, server=args.server, delay=args.delay, compress=args.gzip, connect=args.connect,
        churn=args.churn,
    )  # fmt: skip
    pages_seen = 0

    def serve_day_for(kind: str) -> None:
        """With --churn, the next collection sees the next day; the floor and the first, this one."""
        if args.churn:
            sim.set_day(int(kind == "next"))

    try:
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                serve_day_for("floor")
                sim_cpu, own_cpu = sim.cpu_seconds(), _own_cpu()
                seconds, pages, user_pages, payload = (floor_process if args.process else floor)(sim)
                pages_seen = user_pages
                floors.append(seconds)
                _add_cpu(cpu, "floor", sim, sim_cpu, own_cpu)
                store = os.path.join(tmp, f"run{run}.sqlite")
                line = f"run {run + 1}: floor {seconds:.2f}s ({pages} pages, {payload / 1e6:.1f} MB)"
                for kind in kinds:
                    serve_day_for(kind)
                    saving.clear()
                    sim_cpu, own_cpu = sim.cpu_seconds(), _own_cpu()
                    started = time.perf_counter()
                    if args.process:
                        collect_process(sim.settings(store), args.code)
                    else:
                        summary = run_collection(sim.settings(store), progress=note_saving)
                    finished = time.perf_counter()
                    _add_cpu(cpu, kind, sim, sim_cpu, own_cpu)
                    collects[kind].append(finished - started)
                    publishes[kind].append(finished - (saving[0] if saving else finished))
                    line += f", {kind} {collects[kind][-1]:.2f}s ({collects[kind][-1] / seconds:.2f}x"
                    line += "" if args.process else f"; publishing {publishes[kind][-1]:.2f}s"
                    line += ")"
                    if kind == "first":
                        sizes.append(sum(os.path.getsize(p) for p in Path(tmp).glob(f"run{run}.sqlite*")))
                        if not args.process:
                            requests_made.append(summary.requests)
                            line += f", {summary.requests} Graph requests, {summary.users:,} users"
                print(f"{line}, store {sizes[-1] / 1e6:.1f} MB", flush=True)
            # Before the server (a child too) is stopped: with --process, the largest process
            # waited for is a collection's.
            children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            if args.profile:
                for kind in kinds:  # the same store twice: a first collection, then the next
                    serve_day_for(kind)
                    profile_collection(sim.settings(os.path.join(tmp, "profiled.sqlite")), kind)
    finally:
        sim.close()
    floor_median = statistics.median(floors)
    peak_mb = children_mb if args.process else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average (1 min) before and after: {load_before:.1f}, {os.getloadavg()[0]:.1f}")
    print(
        f"users: {args.users:,}; runs: {args.runs}; server: {args.server}"
        + (f", {args.delay:.2f}s before each user page" if args.delay else "")
        + (", gzip" if args.gzip else "")
        + (f"; whole processes (`license-desk collect` from {args.code})" if args.process else "")
    )
    print(f"floor   median {floor_median:.2f}s")
    for kind in kinds:
        median = statistics.median(collects[kind])
        sweep = statistics.median(c - p for c, p in zip(collects[kind], publishes[kind], strict=True))
        print(
            f"{kind:5} collection median {median:.2f}s ({median / floor_median:.2f}x the floor)"
            + ("" if args.process else (
                f"; publishing (the store's complete()) {statistics.median(publishes[kind]):.2f}s, "
                f"everything before it {sweep:.2f}s ({sweep / floor_median:.2f}x)"
            ))
        )  # fmt: skip
    if cpu["floor_sim"]:
        # On a busy machine the two sides share fewer cores and the wall-clock ratio drifts
        # towards the ratio of total CPU: these say how much of each run was work, and whose.
        print(
            "CPU seconds per run, medians (this process and its parsers + simulator): "
            + ", ".join(
                f"{kind} {statistics.median(cpu[kind]):.2f} + {statistics.median(cpu[kind + '_sim']):.2f}"
                for kind in ("floor", *kinds)
            )
        )
    for kind in kinds:
        pairs = [c / f for c, f in zip(collects[kind], floors, strict=True)]
        print(f"{kind:5} ratio per pair (collection / its floor): " + ", ".join(f"{r:.2f}x" for r in pairs))
    if args.delay:
        bound = pages_seen * args.delay
        print(
            f"latency bound: {pages_seen} user pages x {args.delay:.2f}s = {bound:.2f}s; first collection "
            f"{statistics.median(collects['first']) / bound:.3f}x of it, next {statistics.median(collects['next']) / bound:.3f}x"
        )
    if requests_made:
        print(f"requests per collection: {statistics.median(requests_made):.0f}")
    print(f"store size after one snapshot: {statistics.median(sizes) / 1e6:.1f} MB")
    print(
        f"peak RSS of the collecting process: {peak_mb:.0f} MB"
        + (" (its parsers apart)" if args.process else "")
    )
    if args.json:
        print(json.dumps({"floor": floors, "first": collects["first"], "next": collects["next"],
                          "publish_first": publishes["first"], "publish_next": publishes["next"],
                          "cpu": cpu, "rss_mb": peak_mb, "pages": pages_seen}))  # fmt: skip


if __name__ == "__main__":
    main()
