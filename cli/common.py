"""What every command module shares: the invocation's settings, printing a report, the options
several commands take (same names, types and help everywhere)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cli.params import PORT
from licensedesk.config import Settings, load_settings

if TYPE_CHECKING:
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])

REPORT_FORMATS = ("table", "csv", "json")
PLAN_FORMATS = ("table", "json")


def settings_of(ctx: click.Context) -> Settings:
    """The settings of this invocation, loaded once (``--config`` and the environment)."""
    obj = ctx.find_object(dict) or {}
    if "settings" not in obj:
        obj["settings"] = load_settings(config_file=obj.get("config_file"))
    found = obj["settings"]
    assert isinstance(found, Settings)
    return found


def emit(
    frame: pd.DataFrame,
    fmt: str,
    *,
    show_ids: bool = False,
    hide: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> None:
    """Print a report: JSON (every column, strict), CSV (every column) or a table for people
    (friendly labels; no id columns unless ``show_ids`` or named in ``keep``; ``hide`` left out)."""
    from cli.output import csv_text, json_text, records, table_text  # pandas: not for `collect`

    if fmt == "json":
        click.echo(json_text(records(frame)))
    elif fmt == "csv":
        click.echo(csv_text(frame), nl=False)
    else:
        click.echo(table_text(frame, show_ids=show_ids, hide=hide, keep=keep))


# -- options ---------------------------------------------------------------------------------
def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """``--format`` (into ``fmt``) with these choices."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True
    )


show_ids_option = click.option(
    "--show-ids", is_flag=True, help="Keep the id (GUID) columns in --format table."
)
apply_option = click.option(
    "--apply", is_flag=True, help="Send the changes (needs LICENSE_DESK_ALLOW_WRITES=true)."
)
users_option = click.option(
    "--user", "users", multiple=True, help="User principal name or object id (repeatable)."
)
port_option = click.option("--port", type=PORT, default=8501, show_default=True)
no_browser_option = click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
