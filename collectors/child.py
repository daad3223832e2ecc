"""A helper process of a collection: ``python -m MODULE FD``, talking over one end of a socket pair.

The collection is bound by one CPU (the interpreter lock), so its CPU-heavy parsing runs in child
processes (``collectors.usage_process`` for the usage reports, ``collectors.page_process`` for the
user pages); the parent keeps the HTTP, the retries and the store. A child exits when its end of
the pipe closes, so a collector killed at any point leaves no child behind.

Started with ``subprocess`` rather than ``multiprocessing``: multiprocessing's spawn start method
re-runs the parent's ``__main__`` script in the child, and in the dashboard that is the Streamlit
app (Streamlit puts the page script in ``sys.modules["__main__"]``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from licensedesk.errors import LicenseDeskError


class ChildProcess:
    """``python -m module FD`` with ``conn`` the parent's end of the pipe."""

    def __init__(self, module: str) -> None:
        if sys.platform == "win32":
            # No pass_fds there (subprocess asserts): the callers parse in-process on OSError.
            raise OSError("a collection's child processes need POSIX (an inherited socket)")
        ours, theirs = socket.socketpair()
        # The child imports this package from where this process found it, wherever it runs from.
        here = str(Path(__file__).resolve().parents[1])
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": here if not path else here + os.pathsep + path}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", module, str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
            )  # fmt: skip
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        # Two descriptors of one socket: the Connection's, and ours to shut it down with, which
        # (unlike closing a descriptor) wakes a thread blocked reading or writing it.
        self._socket = ours
        self.conn = Connection(os.dup(ours.fileno()))

    def talk(self, task: str, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)`` on the pipe; a pipe that broke is the one sentence of ``gone``."""
        try:
            return call(*args)
        except (EOFError, OSError):
            raise self.gone(task) from None

    def gone(self, task: str) -> LicenseDeskError:
        """The error for a child that stopped while ``task`` (e.g. "parsing the active report")."""
        try:
            code = self._process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
        return LicenseDeskError(f"The process {task} stopped (exit code {code}); run the collection again.")

    def shut(self) -> None:
        """Tell the child to exit (it sees the pipe close), waking any thread of ours blocked on
        the pipe; the descriptors stay open until ``close`` (so none is reused under that thread)."""
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the child had gone already

    def close(self) -> None:
        """End the child: ``shut``, then wait for it (killing it after 5 s) and close the pipe."""
        self.shut()
        self.conn.close()
        self._socket.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    @property
    def pid(self) -> int:
        return self._process.pid


def child_connection() -> Connection:
    """In the child: its end of the pipe, from the command line."""
    return Connection(int(sys.argv[1]))
