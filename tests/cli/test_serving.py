"""`license-desk dashboard` and `license-desk demo` as real processes: never a Streamlit prompt,
a browser only where there is a display, a clear exit when Streamlit cannot serve, and nothing
left running after SIGTERM, or after SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli.serve import free_port
from tests.analysis import finance_tenant as t

# Kept whole on one pytest-xdist worker: servers on ports picked before they bind, one demo store.
pytestmark = pytest.mark.xdist_group("serving")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("serving") / "store.sqlite")
    t.build(path)
    return path


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read() == b"ok")
    except OSError:
        return False


def _tmp(tmp_path: Path) -> Path:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return tmp


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A first run: an empty HOME (no ~/.streamlit/credentials.toml), no display, no browser."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER") and not k.startswith(("LICENSE_DESK_", "STREAMLIT_"))
    }  # fmt: skip
    return {**env, "HOME": str(home), "TMPDIR": str(_tmp(tmp_path)), **extra}


class Run:
    """A license-desk process without a terminal (as under nohup, systemd or ssh -T), its
    output read as it comes (a pipe left unread would block it)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "licensedesk", *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        self.lines.extend(self.proc.stdout)

    @property
    def output(self) -> str:
        self._reader.join(timeout=30)
        return "".join(self.lines)

    def wait_for(self, prefix: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith(prefix) for line in list(self.lines)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {prefix!r} line (exit {self.proc.poll()}):\n{''.join(self.lines)}")
            time.sleep(0.2)

    def ready(self, port: int) -> None:
        """Wait for license-desk to say the dashboard is up, and check that it is."""
        self.wait_for(f"Dashboard: http://127.0.0.1:{port}")
        assert healthy(f"http://127.0.0.1:{port}")


@contextmanager
def running(args: list[str], env: dict[str, str], cwd: Path | None = None) -> Iterator[Run]:
    run = Run(args, env, cwd)
    try:
        yield run
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()
        run._reader.join(timeout=30)
        if run.proc.stdout:
            run.proc.stdout.close()


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_first_run_without_a_terminal_serves_and_never_prompts(store: str, tmp_path: Path) -> None:
    port = free_port()
    with running(["dashboard", "--port", str(port)], _env(tmp_path, LICENSE_DESK_STORE=store)) as run:
        run.ready(port)
        streamlit = _children(run.proc.pid)
        assert len(streamlit) == 1
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=30) == 0
    assert "Email" not in run.output and "Welcome to Streamlit" not in run.output
    assert not any(_alive(pid) for pid in streamlit), "Streamlit outlived license-desk"
    assert not (tmp_path / "home" / ".streamlit" / "credentials.toml").exists()


def test_a_browser_opens_once_healthy_only_with_a_display(store: str, tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    fake = tmp_path / "browser"
    fake.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    fake.chmod(0o755)
    for display, flags, expect in ((":99", [], True), (":99", ["--no-browser"], False), (None, [], False)):
        port = free_port()
        extra = {"LICENSE_DESK_STORE": store, "BROWSER": f"{fake} %s"}
        if display:
            extra["DISPLAY"] = display
        with running(["dashboard", "--port", str(port), *flags], _env(tmp_path, **extra)) as run:
            run.ready(port)
            time.sleep(1.5)  # the browser opens beside the server, just after it says so
            run.proc.send_signal(signal.SIGTERM)
            run.proc.wait(timeout=30)
        lines = opened.read_text().split() if opened.exists() else []
        assert (f"http://127.0.0.1:{port}" in lines) is expect, (display, flags)


def test_a_port_in_use_is_one_sentence_and_exit_1(store: str, tmp_path: Path, listener: int) -> None:
    demo = ["demo", "--no-browser", "--users", "20", "--days", "1", "--store", str(tmp_path / "demo.sqlite")]
    for args in (["dashboard"], demo):
        with running([*args, "--port", str(listener)], _env(tmp_path, LICENSE_DESK_STORE=store)) as run:
            assert run.proc.wait(timeout=60) == 1
        assert run.output.strip().splitlines() == [
            f"license-desk: error: Port {listener} on 127.0.0.1 is already in use: stop what is using it, "
            "or pick another with --port."
        ]
    assert not (tmp_path / "demo.sqlite").exists()  # the demo said so before building anything


def test_streamlit_dying_is_an_error_with_its_exit_code(store: str, tmp_path: Path) -> None:
    port = free_port()
    with running(["dashboard", "--port", str(port)], _env(tmp_path, LICENSE_DESK_STORE=store)) as run:
        run.ready(port)
        (streamlit,) = _children(run.proc.pid)
        os.kill(streamlit, signal.SIGKILL)
        assert run.proc.wait(timeout=30) == 1
    assert run.output.strip().splitlines()[-1] == (
        "license-desk: error: The dashboard (Streamlit) was killed by signal 9; its messages are above."
    )


def test_sigterm_to_the_demo_ends_streamlit_and_the_simulator(tmp_path: Path) -> None:
    port = free_port()
    demo_store = tmp_path / "demo.sqlite"
    args = [
        "demo",
        "--no-browser",
        "--port",
        str(port),
        "--users",
        "20",
        "--days",
        "1",
        "--store",
        str(demo_store),
    ]
    with running(args, _env(tmp_path)) as run:
        run.ready(port)
        streamlit = _children(run.proc.pid)
        assert len(streamlit) == 1
        assert list(_tmp(tmp_path).glob("graphsim-*")), (
            "the demo's simulator serves from a temporary CA directory"
        )
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=30) == 0
    assert not any(_alive(pid) for pid in streamlit), "Streamlit outlived the demo"
    assert not list(_tmp(tmp_path).glob("graphsim-*")), "the simulator was not stopped"
    assert demo_store.exists()


def test_sigterm_while_the_demo_builds_stops_cleanly(tmp_path: Path) -> None:
    demo_store = tmp_path / "demo.sqlite"
    args = ["demo", "--no-browser", "--port", str(free_port()), "--days", "60", "--store", str(demo_store)]
    with running(args, _env(tmp_path)) as run:
        run.wait_for("Building the demo store")
        time.sleep(1.0)  # into the day-by-day collections
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert run.output.strip().splitlines()[-1] == "license-desk: stopped (SIGTERM); nothing was published."
    assert not demo_store.exists()  # the half-built store never replaces the demo
    assert not list(_tmp(tmp_path).glob("graphsim-*")), "the build's simulator was not stopped"


def test_the_config_file_given_to_dashboard_reaches_the_pages(store: str, tmp_path: Path) -> None:
    # The pages load their own Settings in Streamlit's process: a tenant set only in --config's
    # file must reach them, or "Collect now" says no tenant is configured. The path is relative,
    # and the child's Settings, loaded from its environment, must still find the file.
    (tmp_path / "ld.toml").write_text(
        f'store = "{store}"\ntenant_id = "11111111-2222-3333-4444-555555555555"\n', encoding="utf-8"
    )
    port = free_port()
    with running(
        ["--config", "ld.toml", "dashboard", "--port", str(port)], _env(tmp_path), cwd=tmp_path
    ) as run:
        run.ready(port)
        [child] = _children(run.proc.pid)
        raw = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        # SIGTERM, so license-desk ends Streamlit too (a SIGKILL would orphan it, holding the pipe).
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=30) == 0
    child_env = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
    assert child_env["LICENSE_DESK_CONFIG"] == str(tmp_path / "ld.toml")
    from licensedesk.config import load_settings

    settings = load_settings(environ=child_env)
    assert settings.tenant_id == "11111111-2222-3333-4444-555555555555" and settings.store == store


def test_sigkill_to_license_desk_takes_streamlit_with_it(store: str, tmp_path: Path) -> None:
    """SIGKILL cannot be caught (the OOM killer, ``kill -9``, a CI runner's timeout): Streamlit,
    left behind, kept serving the store on the port with nobody to stop it."""
    port = free_port()
    with running(["dashboard", "--port", str(port)], _env(tmp_path, LICENSE_DESK_STORE=store)) as run:
        run.ready(port)
        (streamlit,) = _children(run.proc.pid)
        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(streamlit) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _alive(streamlit)
        if left:
            os.kill(streamlit, signal.SIGKILL)  # not left behind by this test either
    assert not left, "Streamlit outlived a killed license-desk"
    assert not healthy(f"http://127.0.0.1:{port}")
