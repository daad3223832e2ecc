"""The usage reports' CSV parsed in a process of its own, fed the downloaded bytes through a pipe.

Why a process: the collection is bound by one CPU (the interpreter lock), and parsing the reports
was a third of its work on a 100,000-user tenant; a thread beside the user sweep only took turns
with it. The download stays on the reports' thread in the collector (TLS and retries belong to the
client); only bytes cross the pipe, and the merged rows come back once, at the end.

The protocol, collector -> parser: ``("report", key, what)``, then the body as byte messages each
starting with ``D``, ended by ``E`` (all of it) or ``X`` (the download failed: the partial last
line is not parsed, and the retry fills the same rows again). The parser answers each report with
``("done",)``, ``("aborted",)`` or ``("error", sentence)``; asked for the result, it sends the rows
in slices (``("rows", {name: row})``), then ``("result", outcomes)``.
It is started, and exits, as every child of a collection does (``collectors.child``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any, Protocol

from collectors.child import ChildProcess, child_connection
from collectors.usage_csv import text_lines
from collectors.usage_rows import MergedReports
from licensedesk.errors import GraphError, LicenseDeskError

_DATA, _END, _ABORT = b"D", b"E", b"X"


class ReportParser(Protocol):
    """What reading a report needs: feed one report's body, then take the merged rows."""

    def add(self, key: str, chunks: Iterable[bytes], what: str, check: Callable[[], None]) -> None: ...

    def result(self) -> MergedReports: ...

    def close(self) -> None: ...


class InlineParser:
    """Parses in the calling thread (where a process cannot be started)."""

    def __init__(self) -> None:
        self._merged = MergedReports()

    def add(self, key: str, chunks: Iterable[bytes], what: str, check: Callable[[], None]) -> None:
        self._merged.add(key, text_lines(chunks), what, check)

    def result(self) -> MergedReports:
        return self._merged

    def close(self) -> None:
        pass


class _Aborted(Exception):
    """The collector gave up on this download (it will be asked for again, or not at all)."""


class _Body:
    """One report's bytes as they come through the pipe."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        while not self.finished:
            message = self._conn.recv_bytes()
            kind, data = message[:1], message[1:]
            if kind == _DATA:
                yield data
                continue
            self.finished = True
            if kind == _ABORT:
                raise _Aborted

    def drain(self) -> None:
        for _ in self:
            pass


def serve(conn: Connection) -> None:
    """The parser process: merge each report sent, answer, and send the rows when asked."""
    merged = MergedReports()
    try:
        while True:
            message = conn.recv()
            if message[0] == "result":
                _send_rows(conn, merged)
                return
            _, key, what = message
            body = _Body(conn)
            try:
                merged.add(key, text_lines(body), what)
                answer: tuple[Any, ...] = ("done",)
            except _Aborted:
                answer = ("aborted",)
            except LicenseDeskError as exc:
                answer = ("error", str(exc))
            except ValueError as exc:  # bytes that are not UTF-8 (UnicodeDecodeError) among them
                answer = ("error", f"Graph's {what} report could not be read ({exc}).")
            try:
                body.drain()  # what the reader left (after an error): the collector is still sending
            except _Aborted:
                pass
            conn.send(answer)
    except (EOFError, OSError):
        return  # the collector has gone: nothing to answer
    finally:
        conn.close()


# Rows a message: the parser then never holds the whole set pickled beside the set itself (its
# peak for 100,000 users: 84-85 MB, was 91-100 MB; benchmarks/rss_collect.py).
_SLICE = 10_000


def _send_rows(conn: Connection, merged: MergedReports) -> None:
    """The merged rows in slices, then the outcomes."""
    names = list(merged.by_name)
    for start in range(0, len(names), _SLICE):
        conn.send(("rows", {name: merged.by_name.pop(name) for name in names[start : start + _SLICE]}))
    conn.send(("result", MergedReports(refresh=merged.refresh, concealed=merged.concealed)))


class ProcessParser:
    """The reports parsed in a child process (``serve``), fed by the calling thread."""

    def __init__(self) -> None:
        self._child = ChildProcess("collectors.usage_process")
        self._conn = self._child.conn

    def add(self, key: str, chunks: Iterable[bytes], what: str, check: Callable[[], None]) -> None:
        self._talk(what, self._conn.send, ("report", key, what))
        try:
            for chunk in chunks:
                check()
                self._talk(what, self._conn.send_bytes, _DATA + chunk)
        except BaseException:
            # The download failed (or the collection stopped): the parser lets go of it first.
            # (requests' errors are OSErrors, so the pipe's own are told apart by _talk.)
            self._talk(what, self._conn.send_bytes, _ABORT)
            self._talk(what, self._conn.recv)
            raise
        self._talk(what, self._conn.send_bytes, _END)
        answer = self._talk(what, self._conn.recv)
        if answer[0] == "error":
            raise GraphError(answer[1])

    def _talk(self, what: str, call: Callable[..., Any], *args: Any) -> Any:
        return self._child.talk(f"parsing the {what} report", call, *args)

    def result(self) -> MergedReports:
        self._talk("usage", self._conn.send, ("result",))
        rows: dict[str, list[Any]] = {}
        while True:
            kind, part = self._talk("usage", self._conn.recv)
            if kind == "rows":
                rows.update(part)
                continue
            merged: MergedReports = part
            merged.by_name = rows
            return merged

    def close(self) -> None:
        self._child.close()

    @property
    def pid(self) -> int:
        return self._child.pid


class SizedParser:
    """The parser a collection uses, chosen by the first report (active users, the one with most
    rows): parsed here when it arrives in one read (up to ~1 MiB, a tenant of a few thousand
    users, whose parse costs less than the ~70 ms of CPU a process takes to start), else in the
    parser process, for it and every report after it. Where no process can be started, here."""

    def __init__(self) -> None:
        self._chosen: ReportParser | None = None

    def add(self, key: str, chunks: Iterable[bytes], what: str, check: Callable[[], None]) -> None:
        if self._chosen is None:
            arriving = iter(chunks)
            head = list(itertools.islice(arriving, 2))  # a download cut here: nothing chosen yet
            self._chosen = InlineParser() if len(head) < 2 else _process_or_inline()
            chunks = itertools.chain(head, arriving)
        self._chosen.add(key, chunks, what, check)

    def result(self) -> MergedReports:
        return MergedReports() if self._chosen is None else self._chosen.result()

    def close(self) -> None:
        if self._chosen is not None:
            self._chosen.close()

    @property
    def in_process(self) -> bool:
        return isinstance(self._chosen, ProcessParser)


def _process_or_inline() -> ReportParser:
    try:
        return ProcessParser()
    except OSError:
        return InlineParser()


def open_parser() -> ReportParser:
    """The parser for one collection's reports (``SizedParser``)."""
    return SizedParser()


if __name__ == "__main__":
    serve(child_connection())
