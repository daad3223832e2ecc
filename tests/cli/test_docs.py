"""Every command has help and is documented in the README (documentation drift fails a test)."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from licensedesk.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
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


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["colect"])
    assert result.exit_code == 2
