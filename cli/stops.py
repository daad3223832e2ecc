"""SIGTERM and SIGHUP as an exception raised between steps of long work (the demo's build, the
dashboard's serving). Apart from ``cli.serve`` so that every command's error handling
(``cli.main``) can catch ``StopRequested`` without importing the serving code."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopRequested(BaseException):
    """SIGTERM or SIGHUP arrived: unwind (ending children, removing temporary files) and exit.

    A BaseException, like KeyboardInterrupt, so no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_STOPS: list[int] = []  # signals received inside stop_on_signals(), not yet acted on


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP are recorded, and ``raise_if_stopped()`` (called
    between steps of the work: each page of a collection, each poll of the dashboard) raises
    ``StopRequested`` in the main thread, so the blocks around it end their processes and servers
    (the default action kills us on the spot).

    The handler only records: an exception raised from a signal handler lands wherever the main
    thread happens to be, and there it was lost (inside a weakref finalizer, which prints it and
    carries on: the demo went on building and served the dashboard) or hung the process (raised
    between a lock's acquire and the block that releases it)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        _STOPS.append(signum)

    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    _STOPS.clear()
    previous = {signum: signal.signal(signum, stop) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _STOPS.clear()


def raise_if_stopped() -> None:
    """``StopRequested`` if SIGTERM or SIGHUP arrived inside ``stop_on_signals()``."""
    if _STOPS:
        raise StopRequested(_STOPS[0])
