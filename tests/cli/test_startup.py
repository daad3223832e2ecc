"""`license-desk collect` in its process: it starts without the reporting libraries (a scheduled
collection of a small tenant took longer to import pandas and every command's module, ~0.67 s,
than to collect), and what it changes in the process for speed it puts back."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from click.testing import CliRunner

from cli.demo_tenant import simulator_settings
from cli.main import COMMANDS, cli
from graphsim.server import GraphSimulator
from store import queries
from store.db import open_store

# Loaded by the dashboard and the reports, never needed to take a snapshot into SQLite.
_HEAVY = ("pandas", "numpy", "plotly", "streamlit", "psycopg", "openpyxl")

_COLLECT_AND_LIST_MODULES = f"""
import sys
from cli.main import cli
cli(["collect"], prog_name="license-desk", standalone_mode=False)
print("loaded:", ",".join(sorted(m for m in {_HEAVY!r} if m in sys.modules)))
"""


def test_collect_takes_a_snapshot_without_loading_pandas_or_the_other_commands(
    sim: GraphSimulator, tmp_path: os.PathLike[str]
) -> None:
    store_path = os.path.join(tmp_path, "store.sqlite")
    settings = simulator_settings(sim, store_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")} | settings.environ()
    result = subprocess.run(
        [sys.executable, "-c", _COLLECT_AND_LIST_MODULES], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Snapshot 1 complete: 150 users"), result.stdout
    assert result.stdout.rstrip().endswith("loaded:"), result.stdout  # none of _HEAVY
    with open_store(store_path) as store:
        assert queries.resolve_snapshot(store) == 1


def test_every_command_is_listed_and_loads_under_its_own_name() -> None:
    import click

    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name


def test_collect_in_a_callers_process_leaves_its_garbage_collector_as_it_was(
    sim: GraphSimulator, tmp_path: os.PathLike[str]
) -> None:
    settings = simulator_settings(sim, os.path.join(tmp_path, "store.sqlite"))
    gc.set_threshold(900, 11, 12)  # the caller's own, not CPython's defaults
    try:
        frozen = gc.get_freeze_count()
        result = CliRunner().invoke(cli, ["collect"], env=settings.environ())
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Snapshot 1 complete: 150 users")
        assert gc.get_threshold() == (900, 11, 12)
        assert gc.get_freeze_count() == frozen  # nothing of the caller's left out of its sight
    finally:
        gc.set_threshold(700, 10, 10)
