"""SIGTERM and SIGHUP inside ``stop_on_signals()`` (the demo's build, the dashboard's serving) are
never lost: a handler that raised landed wherever the main thread was, and a finalizer running
there printed the exception and carried on, so the demo went on to serve the dashboard (it hung
``test_sigterm_while_the_demo_builds_stops_cleanly`` about once in 18 tries)."""

from __future__ import annotations

import os
import signal
import weakref

import pytest

from cli.stops import StopRequested, raise_if_stopped, stop_on_signals


class _Held:
    pass


def test_a_sigterm_arriving_inside_a_finalizer_still_stops_the_work(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with stop_on_signals():
        raise_if_stopped()  # nothing yet
        held = _Held()
        weakref.finalize(held, os.kill, os.getpid(), signal.SIGTERM)
        del held  # the finalizer runs, and the signal arrives inside it
        with pytest.raises(StopRequested) as stopped:
            raise_if_stopped()
    assert stopped.value.signum == signal.SIGTERM and str(stopped.value) == "SIGTERM"
    assert "Exception ignored" not in capfd.readouterr().err


def test_outside_the_block_nothing_is_pending_and_the_old_handlers_are_back() -> None:
    before = signal.getsignal(signal.SIGHUP)
    with stop_on_signals():
        os.kill(os.getpid(), signal.SIGHUP)
        with pytest.raises(StopRequested, match="^SIGHUP$"):
            raise_if_stopped()
    raise_if_stopped()  # what was received inside does not stop later work
    assert signal.getsignal(signal.SIGHUP) is before
