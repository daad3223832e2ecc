"""How the user sweep makes page bytes into rows: in the parser process, or here where none starts.

Both are ``collectors.paging.Decode`` factories for ``GraphClient.iter_pages``. The process one
sends each page from the prefetch thread that downloaded it, the moment it has arrived, so the
parser works on it while this process still stages the page before; a thread of ours takes the
answers as they come, so the parser never waits on us to read. The answer to a page is a
``collectors.user_rows.decode_page`` tuple, turned here into rows or the pager's errors.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from collectors.child import ChildProcess
from collectors.paging import Decode, Decoded, cut_short, next_link_hint, no_value_list, not_an_object
from collectors.user_rows import CUT, NO_VALUE, NOT_OBJECT, UserTuples, decode_page

_TASK = "parsing user pages"


class PageParser(Protocol):
    def decoder(self, *, with_signins: bool) -> Decode: ...

    def close(self) -> None: ...


def decoded(answer: tuple[Any, ...], what: str) -> Decoded:
    """A ``decode_page`` answer as the pager's page, or the error it stands for."""
    kind = answer[0]
    if kind == "ok":
        return Decoded(answer[1], UserTuples(*answer[2:]))
    if kind == CUT:
        raise cut_short(what)
    if kind == NOT_OBJECT:
        raise not_an_object(what)
    assert kind == NO_VALUE, kind
    raise no_value_list(what)


class InlinePages:
    """Pages parsed on the caller's thread when it takes them (where no process can be started)."""

    def decoder(self, *, with_signins: bool) -> Decode:
        def begin(raw: bytes, what: str) -> Callable[[], Decoded]:
            return lambda: decoded(decode_page(raw, with_signins=with_signins), what)

        return begin

    def close(self) -> None:
        pass


class ProcessPages:
    """Pages parsed in ``collectors.page_process``, answered in the order they were sent."""

    def __init__(self) -> None:
        self._child = ChildProcess("collectors.page_process")
        self._lock = threading.Lock()  # one page's two messages, and its place in the queue
        self._waiting: deque[Future[tuple[Any, ...]]] = deque()
        self._broken: BaseException | None = None
        self._reader = threading.Thread(target=self._read_answers, name="page-answers", daemon=True)
        self._reader.start()

    def decoder(self, *, with_signins: bool) -> Decode:
        def begin(raw: bytes, what: str) -> Callable[[], Decoded]:
            answer: Future[tuple[Any, ...]] = Future()
            conn = self._child.conn
            with self._lock:
                if self._broken is not None:
                    raise self._broken
                # Queued before it is sent: the reader may take its answer before we return.
                self._waiting.append(answer)
                self._child.talk(_TASK, conn.send, with_signins)
                self._child.talk(_TASK, conn.send_bytes, raw)
            return lambda: decoded(answer.result(), what)

        return begin

    def _read_answers(self) -> None:
        conn = self._child.conn
        failure: BaseException
        try:
            while True:
                answer = conn.recv()
                self._waiting.popleft().set_result(answer)
        except (EOFError, OSError):
            failure = self._child.gone(_TASK)
        except BaseException as exc:  # noqa: BLE001 - given to whoever waits for a page
            failure = exc
        with self._lock:
            self._broken = failure
            while self._waiting:
                self._waiting.popleft().set_exception(failure)

    def close(self) -> None:
        self._child.shut()
        self._reader.join(timeout=5)  # before the pipe's descriptor is closed under its recv
        self._child.close()

    @property
    def pid(self) -> int:
        return self._child.pid


class SweepPages:
    """The parser a sweep uses: parsing here while the sweep has a single page, in the parser
    process from the first page that links to another.

    A process costs ~70 ms of CPU to start, more than parsing the one page of a tenant of up to
    999 users (the demo's, most tests', each of many small tenants in ``collect --all``), and
    it pays only where there are pages to overlap. Where no process can be started (OSError),
    every page is parsed here.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: ProcessPages | None = None
        self._no_process = False

    def decoder(self, *, with_signins: bool) -> Decode:
        here = InlinePages().decoder(with_signins=with_signins)

        def begin(raw: bytes, what: str) -> Callable[[], Decoded]:
            process = self._process_for(raw)
            if process is None:
                return here(raw, what)
            return process.decoder(with_signins=with_signins)(raw, what)

        return begin

    def _process_for(self, raw: bytes) -> ProcessPages | None:
        with self._lock:
            if self._process is None and not self._no_process and next_link_hint(raw) is not None:
                try:
                    self._process = ProcessPages()
                except OSError:
                    self._no_process = True
            return self._process

    def close(self) -> None:
        with self._lock:
            self._no_process = True  # a page still arriving after this is parsed here
            if self._process is not None:
                self._process.close()

    @property
    def pid(self) -> int | None:
        """The parser process's, once started."""
        return None if self._process is None else self._process.pid


def open_page_parser() -> PageParser:
    """The parser for one collection's user sweep (``SweepPages``)."""
    return SweepPages()
