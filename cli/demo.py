"""``license-desk demo`` (the demo tenant's store, then the dashboard on it) and
``license-desk simulator`` (a simulated tenant served over HTTPS).

The simulator (``graphsim``, through ``cli.demo_tenant``) is imported only once one of these
commands runs: its own packages (trustme, PyJWT) are the ``sim`` extra, which the other commands
do not need. Without them, these two commands say so in one sentence.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from cli.common import no_browser_option, port_option
from cli.params import BUDGET, SERVER_PORT
from cli.serve import check_port, serve_dashboard
from cli.stops import raise_if_stopped, stop_on_signals
from licensedesk.config import DEFAULT_DEMO_STORE
from licensedesk.errors import ConfigError, InputError

SIMULATOR_PACKAGES = ("trustme", "jwt")


@click.command()
@port_option
@no_browser_option
@click.option("--users", type=click.IntRange(20, 100_000), default=600, show_default=True)
@click.option("--days", type=click.IntRange(1, 400), default=42, show_default=True, help="Days of history.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--store", "store_path", default=DEFAULT_DEMO_STORE, show_default=True)
@click.option("--build-only", is_flag=True, help="Build the demo store and exit.")
def demo(
    port: int, no_browser: bool, users: int, days: int, seed: int, store_path: str, build_only: bool
) -> None:
    """Build the demo tenant's store (simulator + real collectors), then start the dashboard."""
    try:
        from cli.demo_tenant import build_demo_store, serve_demo_simulator
    except ModuleNotFoundError as exc:
        _explain_missing_simulator(exc)
        raise

    if not build_only:
        check_port(port)  # before the build, not a minute later
    with stop_on_signals():
        click.echo(f"Building the demo store: {users} simulated users, {days} days of history...", err=True)
        summary = build_demo_store(
            store_path, users=users, days=days, seed=seed, progress=_day_printer(days), check=raise_if_stopped
        )
        click.echo(f"Demo store ready: {store_path} ({summary})", err=True)
        if build_only:
            return
        with serve_demo_simulator(users=users, days=days, seed=seed, check=raise_if_stopped) as env:
            serve_dashboard({**env, "LICENSE_DESK_STORE": store_path}, port=port, browser=not no_browser)


def _day_printer(days: int) -> Callable[[int], None]:
    bar = tqdm(
        total=days + 1, desc="snapshots", unit=" day", file=sys.stderr, disable=not sys.stderr.isatty()
    )

    def step(done: int) -> None:
        bar.update(done - bar.n)
        if done >= days + 1:
            bar.close()

    return step


@click.command()
@click.option("--port", type=SERVER_PORT, default=0, show_default=True, help="0 picks a free port.")
@click.option("--users", type=click.IntRange(1, 1_000_000), default=500, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--days", type=click.IntRange(0, 3650), default=0, help="Simulated days to advance before serving."
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False),
    help="Also write the ready line to this file (whole, once listening; removed on exit).",
)
@click.option(
    "--tenants", type=click.IntRange(1, 5000), default=1, show_default=True,
    help="Tenants served (each --users users); the ready line lists them under \"tenants\".",
)  # fmt: skip
@click.option("--throttling", is_flag=True, help="Meter reads against Graph's throttling budgets.")
@click.option("--app-budget", type=BUDGET, help="The app's budget across all tenants (implies --throttling).")
@click.option("--tenant-budget", type=BUDGET, help="The app's budget in each tenant (implies --throttling).")
def simulator(
    port: int, users: int, seed: int, days: int, ready_file: str | None, tenants: int, throttling: bool,
    app_budget: tuple[int, float] | None, tenant_budget: tuple[int, float] | None,
) -> None:  # fmt: skip
    """Serve a simulated tenant (or --tenants N) over HTTPS on 127.0.0.1; prints one JSON line when ready."""
    try:
        from cli.demo_tenant import simulated_tenant, throttling_limits
        from graphsim.server import GraphSimulator
    except ModuleNotFoundError as exc:
        _explain_missing_simulator(exc)
        raise

    tenant = simulated_tenant(users=users, seed=seed, days=days)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    limits = (
        throttling_limits(app_budget, tenant_budget) if throttling or app_budget or tenant_budget else None
    )
    sim = GraphSimulator(
        tenant, users=users, seed=seed, start=tenant.now, port=port, tenants=tenants, throttling=limits
    )
    try:
        sim.start()
    except OSError as exc:
        raise InputError(
            f"The simulator cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})."
        ) from None
    with sim:
        info: dict[str, Any] = dict(sim.ready_info())
        if tenants > 1:
            info["tenants"] = sim.directory()
        click.echo(json.dumps(info))
        sys.stdout.flush()
        if ready_file:
            _write_ready_file(Path(ready_file), info)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if ready_file:
                Path(ready_file).unlink(missing_ok=True)


def _explain_missing_simulator(exc: ModuleNotFoundError) -> None:
    """One sentence for a product installed without the ``sim`` extra (anything else missing is
    a broken installation, and stays the error it is)."""
    if exc.name in SIMULATOR_PACKAGES:
        raise ConfigError(
            f"The simulator's packages are not installed ({exc.name} is missing): "
            "install License Desk with its sim extra (pip install 'license-desk[sim]')."
        ) from None


def _write_ready_file(path: Path, info: dict[str, Any]) -> None:
    """Write the ready line whole: a reader polling for the file never sees half of it."""
    try:
        # Created 0600 beside the target (os.replace is atomic only within one file system):
        # the line holds the simulated app's secret.
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise InputError(f"Cannot write the ready file {path} ({exc.strerror or exc}).") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(info) + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
