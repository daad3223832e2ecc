"""Starting the dashboard as a Streamlit server: for the CLI, the browser tests and screenshots.

The dashboard is located, never imported: the CLI and the dashboard are sibling interfaces.
"""

from __future__ import annotations

import importlib.resources
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def app_path() -> Path:
    """The dashboard's entry point, ``dashboard/app.py``."""
    return Path(str(importlib.resources.files("dashboard") / "app.py"))


def dashboard_command(port: int, *, headless: bool = True, extra: tuple[str, ...] = ()) -> list[str]:
    """``python -m streamlit run dashboard/app.py`` on 127.0.0.1:port, usage statistics off."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        f"--server.port={port}", "--server.address=127.0.0.1", f"--server.headless={str(headless).lower()}",
        "--server.fileWatcherType=none", "--browser.gatherUsageStats=false", *extra,
    ]  # fmt: skip


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving_dashboard(
    env: Mapping[str, str], *, timeout: float = 60.0, extra: tuple[str, ...] = ()
) -> Iterator[str]:
    """Run the dashboard on a free port until the block ends; yields its URL once healthy.

    Only ``/_stcore/health`` answering ``ok`` proves readiness: other routes answer 200 with the
    app's HTML shell while it is still starting.

    Raises:
        RuntimeError: the server exited or did not become healthy in time (with its output).
    """
    port = free_port()
    child_env = {**os.environ, **env, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    process = subprocess.Popen(
        dashboard_command(port, extra=extra), env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise RuntimeError(f"the dashboard did not start:\n{output[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
