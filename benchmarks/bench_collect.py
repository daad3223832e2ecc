"""Collect benchmark: License Desk's collection against the floor, on the simulator.

The floor is the same user pages downloaded and parsed with plain ``requests`` and nothing
stored: no collector can be faster than that. Each run times two collections: the first into an
empty store, then the next one into the same store (the daily case). Runs alternate (floor, collect, floor, ...) so
that noise on a shared machine hits both alike; medians and the ratio are printed. The
simulator runs in its own process (``license-desk simulator``), as Graph is remote: sharing
this process's GIL would slow both sides.

    .venv/bin/python benchmarks/bench_collect.py --users 10000 --runs 5
"""

from __future__ import annotations

import argparse
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

from collectors.users import SIGNIN_FIELD, USER_FIELDS  # noqa: E402
from licensedesk.config import Settings  # noqa: E402
from licensedesk.runner import run_collection  # noqa: E402


class RemoteSimulator:
    """``license-desk simulator`` in a child process, and its connection details."""

    def __init__(self, users: int, seed: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "licensedesk", "simulator", "--users", str(users), "--seed", str(seed)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
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

    def cpu_seconds(self) -> float | None:
        """CPU time the simulator has used so far (Linux's /proc), None where unavailable."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def floor(sim: RemoteSimulator) -> tuple[float, int, int]:
    """Seconds, pages and bytes to fetch and parse every user page with plain requests."""
    session = requests.Session()
    session.trust_env = False
    token = session.post(
        f"{sim.authority_url}/{sim.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
            "scope": "https://graph.microsoft.com/.default",
        },
        verify=sim.ca_bundle,
        timeout=30,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    url: str | None = f"{sim.graph_url}/users"
    params: dict[str, str] | None = {"$select": f"{USER_FIELDS},{SIGNIN_FIELD}", "$top": "999"}
    pages = size = 0
    while url:
        response = session.get(url, params=params, headers=headers, verify=sim.ca_bundle, timeout=120)
        body = response.json()
        pages += 1
        size += len(response.content)
        url, params = body.get("@odata.nextLink"), None
    return time.perf_counter() - started, pages, size


def _add_cpu(
    cpu: dict[str, list[float]], kind: str, sim: RemoteSimulator, sim_before: float | None, own_before: float
) -> None:
    cpu[kind].append(time.process_time() - own_before)
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
    args = parser.parse_args()

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
    sim = RemoteSimulator(args.users, args.seed)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                sim_cpu, own_cpu = sim.cpu_seconds(), time.process_time()
                seconds, pages, payload = floor(sim)
                floors.append(seconds)
                _add_cpu(cpu, "floor", sim, sim_cpu, own_cpu)
                store = os.path.join(tmp, f"run{run}.sqlite")
                line = f"run {run + 1}: floor {seconds:.2f}s ({pages} pages, {payload / 1e6:.1f} MB)"
                for kind in kinds:
                    saving.clear()
                    sim_cpu, own_cpu = sim.cpu_seconds(), time.process_time()
                    started = time.perf_counter()
                    summary = run_collection(sim.settings(store), progress=note_saving)
                    finished = time.perf_counter()
                    _add_cpu(cpu, kind, sim, sim_cpu, own_cpu)
                    collects[kind].append(finished - started)
                    publishes[kind].append(finished - saving[0])
                    line += f", {kind} {collects[kind][-1]:.2f}s (publishing {publishes[kind][-1]:.2f}s)"
                    if kind == "first":
                        requests_made.append(summary.requests)
                        sizes.append(sum(os.path.getsize(p) for p in Path(tmp).glob(f"run{run}.sqlite*")))
                print(
                    f"{line}, {requests_made[-1]} Graph requests, {summary.users:,} users, "
                    f"store {sizes[-1] / 1e6:.1f} MB",
                    flush=True,
                )
    finally:
        sim.close()
    floor_median = statistics.median(floors)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average (1 min) before and after: {load_before:.1f}, {os.getloadavg()[0]:.1f}")
    print(f"users: {args.users:,}; runs: {args.runs}")
    print(f"floor   median {floor_median:.2f}s")
    for kind in kinds:
        median = statistics.median(collects[kind])
        sweep = statistics.median(c - p for c, p in zip(collects[kind], publishes[kind], strict=True))
        print(
            f"{kind:5} collection median {median:.2f}s ({median / floor_median:.2f}x the floor); "
            f"publishing (the store's complete()) {statistics.median(publishes[kind]):.2f}s, "
            f"everything before it {sweep:.2f}s ({sweep / floor_median:.2f}x)"
        )
    if cpu["floor_sim"]:
        # On a busy machine the two sides share fewer cores and the wall-clock ratio drifts
        # towards the ratio of total CPU: these say how much of each run was work, and whose.
        print(
            "CPU seconds per run, medians (this process + simulator): "
            + ", ".join(
                f"{kind} {statistics.median(cpu[kind]):.2f} + {statistics.median(cpu[kind + '_sim']):.2f}"
                for kind in ("floor", *kinds)
            )
        )
    print(f"requests per collection: {statistics.median(requests_made):.0f}")
    print(f"store size after one snapshot: {statistics.median(sizes) / 1e6:.1f} MB")
    print(f"peak RSS of the collecting process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
