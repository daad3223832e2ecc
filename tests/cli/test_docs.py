"""Every command has help and is documented in the README (documentation drift fails a test)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.helpers.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # not group.commands: the top level loads each on demand
        command = group.get_command(ctx, name)
        assert command is not None, name
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, full + " "))
        else:
            found.append((full, command))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(cli), ids=lambda v: v if isinstance(v, str) else "")
def test_command_has_help_and_is_in_the_readme(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert (command.help or "").strip(), f"{name} has no help text"
    assert re.search(rf"`license-desk {re.escape(name)}\b", README), (
        f"`license-desk {name}` is not in the README"
    )


def test_unknown_command_is_a_usage_error_naming_the_nearest_command() -> None:
    result = CliRunner().invoke(cli, ["colect"])
    assert result.exit_code == 2
    assert "No such command 'colect'. Did you mean 'collect'?" in result.output


def _bash_block_after(marker: str) -> str:
    """The first ```bash block after ``marker`` in the README."""
    after = README[README.index(marker) :]
    match = re.search(r"```bash\n(.*?)```", after, re.S)
    assert match, f"no bash block after {marker!r}"
    return match.group(1)


def test_the_simulator_by_hand_block_works_pasted_whole(tmp_path: Path) -> None:
    import json
    import os
    import subprocess

    # The block itself, run by bash from the repository, with its /tmp files moved into tmp_path
    # (several checkouts may run this test at once).
    block = _bash_block_after("Try the simulator by hand").replace("/tmp/", f"{tmp_path}/")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    result = subprocess.run(
        ["bash", "-c", block], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Snapshot 1 complete: 3,000 users"), result.stdout[:500]

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    skus = json.loads(result.stdout[result.stdout.index("\n[") :], parse_constant=refuse)
    assert {"sku_id", "sku_part_number", "purchased", "consumed", "available"} <= set(skus[0])
    assert not (tmp_path / "sim.json").exists()  # `kill $sim` stopped it, and it removed its file
