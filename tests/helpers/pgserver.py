"""A throwaway PostgreSQL server for the tests: Debian's binaries, a private data directory,
127.0.0.1 on a free port, trust authentication, gone when the test session ends. One per test
process: each pytest-xdist worker starts its own, on a port the kernel picked for it, and tries
another if a concurrent run took that port before the server bound it.

PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user
that Debian's package creates. fsync is off: this cluster holds nothing worth keeping, and
the tests are about our SQL, not the server's durability.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, or None when there is none."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


_START_ATTEMPTS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """``with PostgresServer() as pg: pg.url`` — a running server and its superuser URL."""

    def __init__(self) -> None:
        found = bindir()
        if found is None:
            raise RuntimeError("PostgreSQL's server binaries are not installed (apt-get install postgresql).")
        self.bindir = found
        self.root = Path(tempfile.mkdtemp(prefix="licensedesk-pg-"))
        self.datadir = self.root / "data"
        self._use_port(_free_port())

    def _use_port(self, port: int) -> None:
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def __enter__(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        for attempt in range(_START_ATTEMPTS):
            try:
                self._start()
                return self
            except subprocess.CalledProcessError:
                # Between _free_port() and the server's bind another process (a second worker, another
                # checkout's tests) may take the port: pick a new one, unless it is not that.
                log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
                if attempt == _START_ATTEMPTS - 1 or "could not bind" not in log:
                    shutil.rmtree(self.root, ignore_errors=True)
                    raise
                self._use_port(_free_port())
        raise AssertionError("unreachable")

    def _start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )

    def __exit__(self, *exc: object) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
