"""History benchmark: a year of daily snapshots of a large tenant, through the real store writer.

Rows are generated (the HTTP side is what ``bench_collect.py`` measures), then staged and
published exactly as a collection does. Each day about ``--churn`` of the users change a
licence (gain, lose, or an error appears/clears), a few join or leave, and ``--signins`` of them
sign in (so their sign-in activity gets a new interval). Prints the store
size as it grows, the rows each snapshot wrote, and the publish time.

    .venv/bin/python benchmarks/bench_history.py --users 100000 --days 365
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store.db import open_store  # noqa: E402
from store.snapshots import SnapshotWriter  # noqa: E402

SKUS = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, 16)]
GROUPS = [f"{i:08x}-1111-4000-8000-{i:012x}" for i in range(1, 9)]


def _user(i: int) -> tuple[object, ...]:
    return (
        f"{i:08x}-2222-4000-8000-{i:012x}", f"user{i}@contoso.onmicrosoft.com", f"User {i}", 1, "Member",
        random.choice(["US", "GB", "DE", "FR", "IN", None]), random.choice(["Sales", "IT", "Finance", "HR"]),
        "Contoso", "Clerk", "2023-01-01T00:00:00Z",
    )  # fmt: skip


def _licences(rng: random.Random) -> dict[tuple[str, str], tuple[str, str]]:
    """(sku, group or '') -> (state, error) for one user: a suite plus 0-2 add-ons."""
    held = {(SKUS[0] if rng.random() < 0.7 else SKUS[1], rng.choice(["", *GROUPS[:3]])): ("Active", "")}
    for _ in range(rng.randint(0, 2)):
        held[(rng.choice(SKUS[2:]), rng.choice(["", *GROUPS[3:]]))] = ("Active", "")
    return held


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--churn", type=float, default=0.005, help="share of users changing a licence per day"
    )
    parser.add_argument(
        "--signins",
        type=float,
        default=0.7,
        help="share of users whose sign-in activity moves each day (0: sign-ins not collected)",
    )
    parser.add_argument("--store", help="keep the store at this path (default: a temporary file)")
    args = parser.parse_args()
    rng = random.Random(1)
    random.seed(1)
    users = {i: _user(i) for i in range(args.users)}
    licences = {i: _licences(rng) for i in range(args.users)}
    signed_in: dict[int, str] = {}  # user -> last sign-in, as Graph's signInActivity gives it
    next_id = args.users
    path = args.store or os.path.join(tempfile.mkdtemp(), "history.sqlite")
    publish: list[float] = []
    staging: list[float] = []  # staging the pages, with their comparison against the history
    written: list[int] = []
    started = time.perf_counter()
    for day in range(args.days):
        if day:
            for i in rng.sample(sorted(licences), int(len(licences) * args.churn)):
                held = licences[i]
                kind = rng.random()
                if kind < 0.4 or not held:
                    held[(rng.choice(SKUS), rng.choice(["", *GROUPS]))] = ("Active", "")
                elif kind < 0.7:
                    held.pop(rng.choice(sorted(held)))
                else:
                    key = rng.choice(sorted(held))
                    held[key] = ("Error", "CountViolation") if held[key][0] == "Active" else ("Active", "")
            for _ in range(max(1, args.users // 2000)):  # hires and leavers
                users[next_id], licences[next_id] = _user(next_id), _licences(rng)
                next_id += 1
                gone = rng.choice(sorted(users))
                del users[gone], licences[gone]
                signed_in.pop(gone, None)
        if args.signins:
            for i in rng.sample(sorted(users), int(len(users) * args.signins)):
                signed_in[i] = (
                    f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
                )
        with (
            open_store(path) as store,
            SnapshotWriter(store, "bench", f"2026-01-01T00:00:{day % 60:02d}Z") as w,
        ):
            ids = sorted(users)
            staged = time.perf_counter()
            for k in range(0, len(ids), 999):
                page = ids[k : k + 999]
                lic_rows = [
                    (users[i][0], sku, group, state, error, "", None)
                    for i in page
                    for (sku, group), (state, error) in licences[i].items()
                ]
                # As the collector stages a page: compared with the history as it arrives.
                w.stage_user_page(
                    [users[i] for i in page],
                    lic_rows,
                    sorted({(r[0], r[1]) for r in lic_rows if r[3] == "Active"}),
                    [(users[i][0], signed_in.get(i), signed_in.get(i), signed_in.get(i)) for i in page]
                    if args.signins
                    else [],
                )
            staging.append(time.perf_counter() - staged)
            # What the pages need beside the user rows: SKU counts, licensed groups, subscriptions.
            held: dict[str, int] = {}
            for i in ids:
                for sku in {s for (s, _g), (state, _e) in licences[i].items() if state == "Active"}:
                    held[sku] = held.get(sku, 0) + 1
            w.stage("stage_skus", [
                (sku, f"SKU_{n:02d}", "User", "Enabled", int(held.get(sku, 0) * 1.04) + 5, 0, 0, 0, held.get(sku, 0))
                for n, sku in enumerate(SKUS)
            ])  # fmt: skip
            w.stage(
                "stage_groups",
                [(g, f"Licensing group {n}", "ProcessingComplete", 1) for n, g in enumerate(GROUPS)],
            )
            w.stage("stage_group_licenses", [(g, SKUS[n % len(SKUS)], "") for n, g in enumerate(GROUPS)])
            w.stage("stage_subscriptions", [
                (f"sub-{n}", f"commerce-{n}", sku, f"SKU_{n:02d}", "Enabled", int(held.get(sku, 0) * 1.04) + 5, 0,
                 "2025-01-01T00:00:00Z", f"2027-{1 + n % 12:02d}-01T00:00:00Z")
                for n, sku in enumerate(SKUS)
            ])  # fmt: skip
            t = time.perf_counter()
            summary = w.complete(signin_available=bool(args.signins))
            publish.append(time.perf_counter() - t)
            written.append(summary.licenses_changed + summary.users_changed)
        if day in (0, 1, 6, 29) or (day + 1) % 30 == 0 or day == args.days - 1:
            size = sum(os.path.getsize(p) for p in Path(path).parent.glob(Path(path).name + "*"))
            print(
                f"day {day + 1:3d}: store {size / 1e6:7.1f} MB, rows written today {written[-1]:7,}, "
                f"publish {publish[-1]:.2f}s, elapsed {time.perf_counter() - started:6.0f}s",
                flush=True,
            )
    with open_store(path) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = store.conn.execute("SELECT COUNT(*) FROM user_licenses").fetchone()[0]
        signin_rows = store.conn.execute("SELECT COUNT(*) FROM user_signins").fetchone()[0]
    size = os.path.getsize(path)
    print()
    print(
        f"users {args.users:,}, days {args.days}, churn {args.churn:.1%}, sign-ins moving daily {args.signins:.0%}"
    )
    print(
        f"store after {args.days} snapshots: {size / 1e6:.1f} MB ({counts:,} licence interval rows, "
        f"{signin_rows:,} sign-in interval rows)"
    )
    print(f"rows written per snapshot after day 1: median {statistics.median(written[1:] or [0]):,.0f}")
    print(
        f"per snapshot, medians: staging the pages {statistics.median(staging):.2f}s (compared with the "
        f"history as they arrive), publish {statistics.median(publish):.2f}s"
    )


if __name__ == "__main__":
    main()
