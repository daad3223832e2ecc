"""Dashboard benchmark: every page rendered cold and warm on a store, with AppTest.

Cold = the first render after clearing Streamlit's caches (what the first visitor after a
collection waits); warm = the median of the next renders (every later visitor). Also prints
the query plans of the heaviest reads, to check they use indexes.

    .venv/bin/python benchmarks/bench_history.py --users 100000 --days 365 --store /tmp/year.sqlite
    .venv/bin/python benchmarks/bench_dashboard.py --store /tmp/year.sqlite
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from store import queries  # noqa: E402
from store.db import open_store  # noqa: E402

PAGES = [
    "overview",
    "sku_detail",
    "users",
    "group_errors",
    "trends",
    "costs",
    "reclaim",
    "renewals",
    "data",
    "audit",
]
APP = str(REPO / "dashboard" / "app.py")


def render(page: str) -> float:
    started = time.perf_counter()
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"{page}: {at.exception[0].value}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", required=True)
    parser.add_argument("--warm-runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["LICENSE_DESK_STORE"] = args.store
    with open_store(args.store, create=False) as store:
        ids = queries.complete_snapshot_ids(store)
        sid = ids[-1]
        users = store.conn.execute("SELECT COUNT(*) FROM users WHERE valid_to IS NULL").fetchone()[0]
        print(f"store {args.store}: {len(ids)} snapshots, {users:,} current users")
        for name, sql in (
            ("licences as of a snapshot",
             "SELECT * FROM user_licenses l WHERE l.valid_from <= ? AND (l.valid_to IS NULL OR l.valid_to > ?)"),
            ("changes between two snapshots",
             "SELECT * FROM user_licenses WHERE (valid_from > ? AND valid_from <= ?) OR (valid_to > ? AND valid_to <= ?)"),
        ):  # fmt: skip
            params = (sid, sid) if sql.count("?") == 2 else (sid - 1, sid, sid - 1, sid)
            plan = store.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            print(f"plan, {name}: " + "; ".join(str(row[-1]) for row in plan))
    print(f"{'page':14} {'cold s':>7} {'warm s':>7}")
    for page in PAGES:
        st.cache_data.clear()
        cold = render(page)
        warm = statistics.median(render(page) for _ in range(args.warm_runs))
        print(f"{page:14} {cold:7.2f} {warm:7.2f}", flush=True)


if __name__ == "__main__":
    main()
