"""Run a command that ends when its parent does: ``python -m cli.launch PARENT_PID -- COMMAND...``.

``license-desk dashboard`` and ``demo`` run Streamlit as a child. SIGTERM, SIGHUP and Ctrl+C reach
license-desk, which ends Streamlit before it exits; SIGKILL (the OOM killer, ``kill -9``, a CI
runner's timeout) cannot be caught, and left Streamlit serving the store on its port with nobody
to stop it. So on Linux the child asks the kernel for SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``, which survives the exec into the command), then checks that the parent did
not die before it asked. Elsewhere it only runs the command.

The kernel's "parent" is the thread that started the child: start it from a thread that lives as
long as the child should (license-desk starts it from its main thread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    if len(argv) < 3 or not argv[0].isdigit() or argv[1] != "--":
        raise SystemExit("usage: python -m cli.launch PARENT_PID -- COMMAND...")
    parent, command = int(argv[0]), argv[2:]
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise SystemExit(f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(ctypes.get_errno())}")
        if os.getppid() != parent:
            raise SystemExit(1)  # the parent is gone already: nothing to serve it
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
