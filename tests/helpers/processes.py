"""The collection's child processes, seen from the tests: which are running, and whether one is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.paths import REPO


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) has let go of everything: count it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def children_running(*modules: str) -> list[int]:
    """This process's children running ``python -m`` one of ``modules``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if parent == os.getpid() and any(m.encode() in command for m in modules):
            found.append(int(entry.name))
    return found


def child_left_by_a_killed_parent(script: str, seconds: float = 10) -> int | None:
    """Run ``script`` (which prints the pid of a child it started, then waits), SIGKILL it, and
    give the child ``seconds`` to notice: its pid if it is still running then, else None."""
    with subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as parent:  # fmt: skip
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        os.kill(child, 0)  # alive while its parent is
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive(child):
        time.sleep(0.05)
    return child if alive(child) else None
