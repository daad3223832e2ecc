"""``license-desk dashboard``, and starting the dashboard as a Streamlit server: for it, the demo,
the browser tests and screenshots.

The dashboard is located, never imported: the CLI and the dashboard are sibling interfaces.
Streamlit always runs headless: otherwise, on a first run (no ``~/.streamlit/credentials.toml``)
it stops at an "Email:" prompt, and without a terminal it prints the prompt and exits. We open the
browser ourselves, once the server is healthy, and only where there is a display.
"""

from __future__ import annotations

import errno
import importlib.resources
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import click

from cli.common import no_browser_option, port_option, settings_of
from cli.stops import StopRequested, raise_if_stopped, stop_on_signals
from licensedesk.config import CONFIG_FILE_ENV
from licensedesk.errors import InputError, LicenseDeskError

HOST = "127.0.0.1"
# A proxy from the environment must never see (or break) requests to our own local server.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def app_path() -> Path:
    """The dashboard's entry point, ``dashboard/app.py``."""
    return Path(str(importlib.resources.files("dashboard") / "app.py"))


def dashboard_command(port: int, *, extra: tuple[str, ...] = ()) -> list[str]:
    """``python -m streamlit run dashboard/app.py`` on 127.0.0.1:port: headless (no e-mail prompt,
    no browser of Streamlit's own), usage statistics off; through ``cli.launch``, so that it ends
    with this process even when this one is killed."""
    return [
        sys.executable, "-m", "cli.launch", str(os.getpid()), "--",
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        f"--server.port={port}", f"--server.address={HOST}", "--server.headless=true",
        "--server.fileWatcherType=none", "--browser.gatherUsageStats=false", *extra,
    ]  # fmt: skip


def port_problem(port: int, host: str = HOST) -> str | None:
    """Why a server could not listen on ``host:port`` right now (one sentence), or None if it can.

    The probe binds the way Streamlit's server does (address reuse on, except on Windows, where
    it would let two servers share a port), so a port left in TIME_WAIT is not called busy.
    """
    with socket.socket() as sock:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except PermissionError:
            return f"Port {port} needs administrator rights on this machine: pick one above 1023 with --port."
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"Port {port} on {host} is already in use: stop what is using it, or pick another with --port."
            return f"Cannot listen on {host}:{port} ({exc.strerror or exc})."
    return None


def has_display() -> bool:
    """Whether a browser window can be opened here: macOS, Windows, or an X11/Wayland display."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def healthy(url: str) -> bool:
    """Whether the Streamlit server at ``url`` answers ``/_stcore/health`` with ``ok``.

    Only that route proves readiness: other routes answer 200 with the app's HTML shell while
    it is still starting.
    """
    try:
        with _LOCAL.open(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read().decode().strip() == "ok")
    except OSError:
        return False


def run_dashboard(
    env: Mapping[str, str],
    *,
    port: int,
    open_browser: bool,
    on_ready: Callable[[str], None],
    poll: float = 0.25,
) -> int:
    """Run the dashboard on ``127.0.0.1:port`` in the foreground until Streamlit exits or we are
    asked to stop; returns Streamlit's exit code (0 when we stopped it).

    ``on_ready(url)`` is called once the server is healthy, and then, with ``open_browser``, the
    default browser opens the URL. SIGTERM/SIGHUP (``StopRequested``) and Ctrl+C end Streamlit
    before returning; it is never left running behind us.
    """
    child_env = {**os.environ, **env, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    process = subprocess.Popen(dashboard_command(port), env=child_env, stdin=subprocess.DEVNULL)  # noqa: S603
    url = f"http://{HOST}:{port}"
    ready = False
    try:
        while True:
            try:
                return process.wait(timeout=poll)
            except subprocess.TimeoutExpired:
                pass
            raise_if_stopped()
            if not ready and healthy(url):
                ready = True
                on_ready(url)
                if open_browser:
                    # webbrowser may wait for the browser command: never hold up the server for it.
                    threading.Thread(target=webbrowser.open, args=(url,), name="browser", daemon=True).start()
    except (StopRequested, KeyboardInterrupt):
        return 0
    finally:
        _end(process)


def _end(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a child that is still running: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url):
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


@click.command()
@port_option
@no_browser_option
@click.pass_context
def dashboard(ctx: click.Context, port: int, no_browser: bool) -> None:
    """Start the dashboard on the configured store."""
    settings = settings_of(ctx)
    check_port(port)
    env = {"LICENSE_DESK_STORE": settings.store}
    config_file = ctx.obj.get("config_file")
    if config_file:
        # The pages load their own Settings: without the file, a tenant or app set only there
        # would not reach "Collect now" or Assign & fix.
        env[CONFIG_FILE_ENV] = os.path.abspath(config_file)
    with stop_on_signals():
        serve_dashboard(env, port=port, browser=not no_browser)


def check_port(port: int) -> None:
    """InputError unless the dashboard can listen on ``port`` (checked before anything slow)."""
    problem = port_problem(port)
    if problem:
        raise InputError(problem)


def serve_dashboard(env: dict[str, str], *, port: int, browser: bool) -> None:
    """Serve the dashboard until Streamlit exits or we are stopped; a Streamlit that dies is an
    error with its exit code (its own messages are above ours)."""

    def ready(url: str) -> None:
        click.echo(f"Dashboard: {url}  (Ctrl+C to stop)", err=True)

    code = run_dashboard(env, port=port, open_browser=browser and has_display(), on_ready=ready)
    if code == 0:
        return
    how = f"was killed by signal {-code}" if code < 0 else f"stopped with exit code {code}"
    error = LicenseDeskError(f"The dashboard (Streamlit) {how}; its messages are above.")
    error.exit_code = code if code > 0 else 1
    raise error
