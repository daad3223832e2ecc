"""Command-line value types whose bad values get one sentence from click (exit code 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

# SQLite's INTEGER (and PostgreSQL's BIGINT) ceiling: a larger id cannot be in any store.
MAX_ID = 2**63 - 1


if TYPE_CHECKING:
    _ParamType = click.ParamType[int, Any]
    _BudgetType = click.ParamType[tuple[int, float], Any]
    _ShardType = click.ParamType[tuple[int, int], Any]
else:  # generic only from click 8.2
    _ParamType = _BudgetType = _ShardType = click.ParamType


class _Bounded(_ParamType):
    """A whole number from ``low`` to ``high`` with a sentence of our own for anything else."""

    def __init__(self, name: str, low: int, high: int, sentence: str) -> None:
        self.name = name
        self._low, self._high, self._sentence = low, high, sentence

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip(), 10)
            except ValueError:
                self.fail(self._sentence.format(value=value), param, ctx)
        if not self._low <= number <= self._high:
            self.fail(self._sentence.format(value=value), param, ctx)
        return number


PORT = _Bounded("port", 1, 65535, "{value} is not a TCP port: give a number from 1 to 65535.")
SERVER_PORT = _Bounded(
    "port", 0, 65535, "{value} is not a TCP port: give a number from 1 to 65535 (0 picks a free one)."
)
SNAPSHOT_ID = _Bounded("id", 1, MAX_ID, "{value} is not a snapshot id: ids are whole numbers from 1.")


class _Budget(_BudgetType):
    """A throttling budget written ``UNITS/SECONDS`` (``150000/20``): (units, seconds)."""

    name = "units/seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, float]:
        if isinstance(value, tuple):
            return value
        units, _, seconds = str(value).partition("/")
        try:
            budget = (int(units.strip()), float(seconds.strip()))
        except ValueError:
            budget = (0, 0.0)
        if budget[0] < 1 or not budget[1] > 0:
            self.fail(
                f"{value} is not a budget: give resource units and seconds, such as 150000/20.", param, ctx
            )
        return budget


BUDGET = _Budget()


class _Shard(_ShardType):
    """``K/N``: this machine is number K (1 to N) of N sharing the tenants."""

    name = "k/n"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        k, _, n = str(value).partition("/")
        try:
            shard = (int(k), int(n))
        except ValueError:
            shard = (0, 0)
        if not 1 <= shard[0] <= shard[1]:
            self.fail(f"{value} is not a shard: give K/N with 1 <= K <= N, such as 2/3.", param, ctx)
        return shard


SHARD = _Shard()
