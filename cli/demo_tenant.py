"""The demo tenant: a simulated tenant collected day by day by the real collectors.

Nothing here is faked past the HTTP boundary: the simulator serves Graph over TLS on
127.0.0.1 and the same collectors and store that serve a real tenant build the history.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import resources
from pathlib import Path

from collectors.catalog import load_common_skus
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from graphsim.tenant import Tenant, build_tenant
from graphsim.throttling import Limits
from licensedesk.config import Settings
from licensedesk.errors import ConfigError
from store.db import describe, open_store
from store.prices import import_price_text


def _start(days: int) -> datetime:
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


def simulated_tenant(*, users: int, seed: int, days: int, check: Callable[[], None] | None = None) -> Tenant:
    """A tenant built ``days`` simulated days ago (at 06:00 UTC) and advanced to today; ``check``
    is called before each day (it may raise to stop)."""
    tenant = build_tenant(users=users, seed=seed, start=_start(days))
    for _ in range(days):
        if check:
            check()
        tenant.advance_day()
    return tenant


def throttling_limits(app: tuple[int, float] | None, tenant: tuple[int, float] | None) -> Limits:
    """Graph's throttling budgets, with the (units, seconds) given in place of Graph's own."""
    graph = Limits()
    app_limit, app_window = app or (graph.app_limit, graph.app_window)
    tenant_limit, tenant_window = tenant or (graph.tenant_limit, graph.tenant_window)
    return Limits(app_limit, app_window, tenant_limit, tenant_window)


def simulator_settings(sim: GraphSimulator, store: str) -> Settings:
    """Settings that point License Desk at a running simulator: its read app for collections,
    its write app (which holds only the write permissions) for applying plans."""
    return Settings(
        store=store,
        tenant_id=sim.tenant_id,
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        write_client_id=sim.write_client_id,
        write_client_secret=sim.write_client_secret,
        graph_url=sim.graph_url,
        authority_url=sim.authority_url,
        ca_bundle=sim.ca_bundle,
    )


def build_demo_store(
    path: str | Path,
    *,
    users: int = 600,
    days: int = 42,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
    check: Callable[[], None] | None = None,
) -> str:
    """Build a fresh demo store at ``path`` with one snapshot per simulated day (days + 1 in all);
    ``check`` is called at every step of every collection (it may raise to stop the build).

    The store is built beside the target and moved into place at the end, so an interrupted
    build never leaves a half-built demo behind. The demo is always an SQLite file: it is rebuilt
    from scratch each time, which a shared PostgreSQL store must never be.

    Raises:
        ConfigError: ``path`` is a database URL.
    """
    if "://" in str(path):
        raise ConfigError(
            f"The demo store is an SQLite file that is rebuilt each time: give --store a file path, not {describe(str(path))}."
        )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.name + ".building")
    for leftover in _sqlite_files(building):
        leftover.unlink(missing_ok=True)
    tenant = build_tenant(users=users, seed=seed, start=_start(days))
    last = None
    with GraphSimulator(tenant) as sim:
        settings = simulator_settings(sim, str(building))
        for day in range(days + 1):
            if day:
                tenant.advance_day()
            last = run_collection(
                settings, clock=partial(_iso, tenant), progress=(lambda _: check()) if check else None
            )
            if progress:
                progress(day + 1)
    install_list_prices(building)
    for old in _sqlite_files(target):
        old.unlink(missing_ok=True)
    os.replace(building, target)
    assert last is not None
    return f"{days + 1} snapshots, {last.users:,} users, {last.skus} SKUs"


LIST_PRICES_SOURCE = "public list prices (USD per user, 2025): an example, edit or re-import"


def install_list_prices(path: str | Path) -> int:
    """Put the shipped example price book (``cli/data/list_prices.csv``: public USD list
    prices, labelled as such in every row's source) into the store at ``path``; returns the rows."""
    text = resources.files("cli").joinpath("data", "list_prices.csv").read_text(encoding="utf-8")
    with open_store(path) as store:
        written, _ = import_price_text(
            store, text, source=LIST_PRICES_SOURCE, replace=True, builtin=load_common_skus()
        )
    return written


@contextmanager
def serve_demo_simulator(
    *, users: int, days: int, seed: int, check: Callable[[], None] | None = None
) -> Iterator[dict[str, str]]:
    """Keep the demo tenant (as of its last day) served while the dashboard runs.

    Yields the environment that points License Desk at it, so "collect now" works in the demo.
    """
    with GraphSimulator(simulated_tenant(users=users, seed=seed, days=days, check=check)) as sim:
        # Only here, on a simulated tenant, are writes switched on by default: the demo shows
        # the Assign & fix page working end to end, through the simulator's write app. A real
        # tenant always needs explicit opt-in.
        env = simulator_settings(sim, "").environ()
        env.pop("LICENSE_DESK_STORE")
        yield {**env, "LICENSE_DESK_ALLOW_WRITES": "true"}


def _iso(tenant: Tenant) -> str:
    now: datetime = tenant.now
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
