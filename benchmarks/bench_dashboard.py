"""Dashboard benchmark: every page rendered cold and warm on a store, with AppTest.

Cold = a render right after clearing Streamlit's caches (what the first visitor after a collection
or a restart waits); warm = a render with the caches filled (every later visitor). Each figure is
the median of several renders: the machines are shared and noisy.

Two ways into a page are measured:
- ``cold``/``warm``: the page opened directly (a browser at its URL, or a click in the sidebar);
- ``cold+ov``/``warm+ov``: the app's default page (Overview) first, then a switch to the page,
  which is how earlier versions of this script measured (the Overview's cost is inside).

Also prints the query plans of the heaviest reads, to check they use indexes.

    .venv/bin/python benchmarks/bench_history.py --users 100000 --days 365 --store /tmp/year.sqlite
    cp /tmp/year.sqlite /tmp/year-copy.sqlite   # opening a store migrates it
    .venv/bin/python benchmarks/bench_dashboard.py --store /tmp/year-copy.sqlite
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
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
AS_OF = "{t}.valid_from <= ? AND ({t}.valid_to IS NULL OR {t}.valid_to > ?)"


def render(page: str, *, via_overview: bool) -> float:
    started = time.perf_counter()
    at = AppTest.from_file(APP, default_timeout=300)
    if via_overview:
        at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py")
    if page != "overview" or not via_overview:
        at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"{page}: {at.exception[0].value}")
    return elapsed


def cold(page: str, *, via_overview: bool) -> float:
    # What dashboard.services.clear_caches() forgets after a collection.
    st.cache_data.clear()
    st.cache_resource.clear()
    return render(page, via_overview=via_overview)


def median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def plans(path: str) -> None:
    with open_store(path, create=False) as store:
        ids = queries.complete_snapshot_ids(store)
        sid = ids[-1]
        users = store.conn.execute("SELECT COUNT(*) FROM users WHERE valid_to IS NULL").fetchone()[0]
        print(f"store {path}: {len(ids)} snapshots, {users:,} current users")
        for name, sql, params in (
            ("licences as of a snapshot", f"SELECT * FROM user_licenses l WHERE {AS_OF.format(t='l')}", (sid, sid)),
            ("changes between two snapshots",
             "SELECT * FROM user_licenses WHERE (valid_from > ? AND valid_from <= ?) OR (valid_to > ? AND valid_to <= ?)",
             (sid - 1, sid, sid - 1, sid)),
            ("errors as of a snapshot",
             f"SELECT * FROM user_licenses l WHERE {AS_OF.format(t='l')} AND l.assigned_by_group <> '' AND l.error <> ''",
             (sid, sid)),
            ("error rows of every snapshot",
             "SELECT valid_from, valid_to, error FROM user_licenses WHERE error <> '' AND assigned_by_group <> ''", ()),
            ("one user as of a snapshot", f"SELECT * FROM users u WHERE u.user_id = ? AND {AS_OF.format(t='u')}",
             ("x", sid, sid)),
        ):  # fmt: skip
            plan = store.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            print(f"plan, {name}: " + "; ".join(str(row[-1]) for row in plan))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", required=True)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--pages", nargs="*", default=PAGES, choices=PAGES)
    parser.add_argument("--direct-only", action="store_true", help="skip the cold+ov/warm+ov columns")
    args = parser.parse_args()
    os.environ["LICENSE_DESK_STORE"] = args.store
    # AppTest outside a server: Streamlit warns about the missing runtime on every cache call.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    plans(args.store)
    print(f"medians of {args.cold_runs} cold and {args.warm_runs} warm renders, seconds")
    print(
        f"{'page':14} {'cold':>7} {'warm':>7}"
        + ("" if args.direct_only else f" {'cold+ov':>8} {'warm+ov':>8}")
    )
    for page in args.pages:
        line = f"{page:14}"
        for via_overview in (False,) if args.direct_only else (False, True):
            first = median(args.cold_runs, lambda p=page, v=via_overview: cold(p, via_overview=v))
            later = median(args.warm_runs, lambda p=page, v=via_overview: render(p, via_overview=v))
            line += f" {first:7.2f} {later:7.2f}" if not via_overview else f" {first:8.2f} {later:8.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
