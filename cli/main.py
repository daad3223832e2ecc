"""The ``license-desk`` group: its global options, the error handling every command shares and
the console-script entry point; the commands themselves live one module per group beside it.

Errors are one sentence on stderr with exit code 1 (2 for usage and configuration); ``--debug``
adds the traceback.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from cli.stops import StopRequested
from licensedesk.config import Settings
from licensedesk.errors import LicenseDeskError, redact
from store.db import describe

# Each command and the module that defines it under that name, imported only when the command
# runs: importing every module (pandas among them) took ~0.67 s before any command started, more
# than a small tenant's whole collection (python -X importtime -c "import cli.main").
COMMANDS = {
    "assign": "cli.assign", "reprocess": "cli.assign", "downgrade": "cli.assign", "check": "cli.check",
    "collect": "cli.collect", "deliveries": "cli.deliveries", "export": "cli.deliveries",
    "notify": "cli.deliveries", "demo": "cli.demo", "simulator": "cli.demo", "catalog": "cli.prices",
    "prices": "cli.prices", "audit": "cli.reports", "report": "cli.reports", "dashboard": "cli.serve",
    "tenants": "cli.tenants",
}  # fmt: skip


class _Group(click.Group):
    """Loads each command when it is asked for (``COMMANDS``); turns LicenseDeskError into one
    line on stderr and the right exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            command = getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)
            assert isinstance(command, click.Command) and command.name == cmd_name, cmd_name
            self.add_command(command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and self.get_command(ctx, args[0]) is None:
            # A name that is no command: click suggests the nearest from those loaded, so load all.
            for name in COMMANDS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LicenseDeskError as exc:
            _fail(ctx, exc, str(exc), exc.exit_code)
        except KeyboardInterrupt:
            click.echo("license-desk: interrupted; nothing was published.", err=True)
            ctx.exit(130)
        except StopRequested as stop:  # SIGTERM/SIGHUP before the dashboard was serving (the demo's build)
            click.echo(f"license-desk: stopped ({stop}); nothing was published.", err=True)
            ctx.exit(128 + stop.signum)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`report users | head`): nothing left to say, and nowhere to
            # say it. Point stdout at devnull so the interpreter's last flush does not fail too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                _unexpected(ctx, exc)
            # Another process held the store's write lock longer than the busy timeout.
            obj = ctx.obj if isinstance(ctx.obj, dict) else {}
            settings = obj.get("settings")
            where = f" at {describe(settings.store)}" if isinstance(settings, Settings) else ""
            _fail(ctx, exc, f"The store{where} is locked: another License Desk process (a collection, an "
                  "import or applied changes) is writing to it; try again when it has finished.", 1)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - last line of defence: still one sentence
            _unexpected(ctx, exc)


def _unexpected(ctx: click.Context, exc: Exception) -> None:
    _fail(ctx, exc, f"Unexpected error ({exc.__class__.__name__}: {exc}); run with --debug for details.", 1)


def _fail(ctx: click.Context, exc: BaseException, message: str, code: int) -> None:
    secrets: Sequence[str] = ()
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    settings = obj.get("settings")
    if isinstance(settings, Settings):
        secrets = settings.secrets
    if obj.get("debug"):
        click.echo(redact("".join(traceback.format_exception(exc)), *secrets), err=True)
    click.echo(f"license-desk: error: {redact(message, *secrets)}", err=True)
    ctx.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML configuration file.")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="license-desk")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, debug: bool) -> None:
    """License Desk: Microsoft 365 license inventory, history and repair."""
    ctx.obj = {"config_file": config_file, "debug": debug}


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="license-desk")
