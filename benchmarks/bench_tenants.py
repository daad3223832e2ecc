"""Portfolio benchmark: ``license-desk collect --all`` over many simulated tenants.

The simulator (``license-desk simulator --tenants N --throttling``) and the collection each run in
their own process, as Graph is remote. Three runs, each into a fresh registry and fresh stores:

1. Graph's own budgets, pacing on: wall time, tenants per minute, requests per tenant, the
   collection's peak RSS, the stores' size on disk, 429s.
2. and 3. a low app budget (``--app-budget``, the same for the simulator and the collector), with
   pacing off and then on: how many 429s each sees, and what pacing costs in time.

    .venv/bin/python benchmarks/bench_tenants.py --tenants 200 --users 500
    .venv/bin/python benchmarks/bench_tenants.py --tenants 200 --users 500 --only-low --low-budget 300/20
    .venv/bin/python benchmarks/bench_tenants.py --tenants 20 --users 20000 --skip-low

The low budget has to be below what the collection spends unpaced on this machine (about 30
units a second for 500-user tenants on 2 shared cores) for unpaced runs to meet any 429.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / ".venv" / "bin" / "license-desk")


def start_simulator(
    tenants: int, users: int, app_budget: str | None, work: Path
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    ready = work / f"sim-{time.monotonic_ns()}.json"
    args = [
        CLI,
        "simulator",
        "--tenants",
        str(tenants),
        "--users",
        str(users),
        "--throttling",
        "--ready-file",
        str(ready),
    ]
    if app_budget:
        args += ["--app-budget", app_budget]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    while not ready.exists():
        if proc.poll() is not None:
            raise SystemExit("the simulator exited before it was ready")
        time.sleep(0.2)
    return proc, json.loads(ready.read_text())


def collect_all(
    info: dict[str, Any], work: Path, *, workers: int, pacing: bool, app_budget: str | None
) -> dict[str, Any]:
    store = work / f"registry-{time.monotonic_ns()}.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    env.update({f"LICENSE_DESK_{k.upper()}": str(v) for k, v in info.items() if k != "tenants"})
    env["LICENSE_DESK_STORE"] = str(store)
    env["LICENSE_DESK_PACING"] = "true" if pacing else "false"
    if app_budget:
        env["LICENSE_DESK_APP_BUDGET"] = app_budget
    toml = work / f"tenants-{time.monotonic_ns()}.toml"
    toml.write_text(
        "".join(
            f'[[tenants]]\ntenant_id = "{t["tenant_id"]}"\ndisplay_name = "Tenant {n}"\ndomain = "{t["domain"]}"\n\n'
            for n, t in enumerate(info["tenants"], start=1)
        )
    )
    subprocess.run(
        [CLI, "tenants", "add", "--file", str(toml)], env=env, check=True, stdout=subprocess.DEVNULL
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [CLI, "collect", "--all", "--workers", str(workers), "--format", "json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    outcomes = json.loads(out)
    stores = [store, *(store.parent / (store.name + ".tenants")).glob("*.sqlite*")]
    n = len(outcomes)
    return {
        "pacing": pacing,
        "app_budget": app_budget or "150000/20",
        "tenants": n,
        "failed": sum(o["status"] != "complete" for o in outcomes),
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_seconds": round(wall, 1),
        "tenants_per_minute": round(n / wall * 60, 1),
        "requests_per_tenant": round(sum(o["requests"] for o in outcomes) / max(n, 1), 1),
        "throttled_429": sum(o["throttled"] for o in outcomes),
        "paced_seconds_summed": round(sum(o["paced_seconds"] for o in outcomes), 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "stores_mb": round(sum(p.stat().st_size for p in stores if p.exists()) / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--low-budget", default="600/20", help="The low app budget (units/seconds).")
    parser.add_argument("--skip-low", action="store_true", help="Only the run under Graph's budgets.")
    parser.add_argument("--only-low", action="store_true", help="Only the two runs under the low budget.")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-tenants-") as tmp:
        work = Path(tmp)
        runs: list[tuple[str | None, bool]] = [] if args.only_low else [(None, True)]
        if not args.skip_low:
            runs += [(args.low_budget, False), (args.low_budget, True)]
        for budget, pacing in runs:
            started = time.monotonic()
            sim, info = start_simulator(args.tenants, args.users, budget, work)
            print(
                f"simulator ready: {args.tenants} tenants of {args.users} users in {time.monotonic() - started:.1f} s",
                file=sys.stderr,
            )
            try:
                result = collect_all(info, work, workers=args.workers, pacing=pacing, app_budget=budget)
            finally:
                sim.terminate()
                sim.wait(timeout=30)
            print(json.dumps(result), file=sys.stderr)
            results.append(result)
    print(
        json.dumps(
            {"tenants": args.tenants, "users": args.users, "workers": args.workers, "runs": results}, indent=1
        )
    )


if __name__ == "__main__":
    main()
