"""Following ``@odata.nextLink`` with the next page requested as early as its link is known.

``GraphClient.iter_pages`` is the way in; this module holds how: the link read from a page's raw
bytes (``next_link_hint``), a streamed body that reports the link while the rest arrives
(``read_streaming``), the ``Pager`` that keeps at most four pages ahead of the caller, and how a
page's bytes become its items (``Decode``: parsed here by default, or handed to another process
as soon as they arrive, by the user sweep)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple, Protocol, TypeVar

import orjson
import requests

from collectors.graph_errors import describe
from collectors.retry import TransientError
from licensedesk.errors import GraphError

T = TypeVar("T")


class PageSource(Protocol):
    """What the pager needs of the client (``GraphClient``)."""

    def url(self, path: str) -> str: ...

    def get_decoded(self, url: str, params: Mapping[str, str] | None, finish: Callable[[bytes], T]) -> T: ...

    def fetch(
        self, url: str, params: Mapping[str, str] | None = None, on_head: Callable[[str], None] | None = None
    ) -> bytes: ...


_NEXT_LINK = b'"@odata.nextLink":'


def next_link_hint(raw: bytes, *, head: bool = False) -> str | None:
    """``@odata.nextLink`` read from a page's raw bytes without parsing the page, or None.

    ``head``: ``raw`` is the start of a body still arriving (the first occurrence counts, and a
    link not whole yet is None); else the whole body (the last occurrence counts). Tenant text
    cannot hold the key's bytes (a quote inside a JSON string is escaped), and the hint is only a
    hint: the parsed page decides, and a link goes through ``GraphClient.url``'s same-host check
    before it is followed, so a misread costs at most one wasted request to Graph's own host.
    """
    at = raw.find(_NEXT_LINK) if head else raw.rfind(_NEXT_LINK)
    if at < 0:
        return None
    start = raw.find(b'"', at + len(_NEXT_LINK))
    end = raw.find(b'"', start + 1)
    if start < 0 or end < 0 or raw[at + len(_NEXT_LINK) : start].strip():
        return None
    literal = raw[start : end + 1]
    try:
        link = orjson.loads(literal)
    except orjson.JSONDecodeError:
        return None
    return link if isinstance(link, str) and link else None


def parse_object(raw: bytes, what: str) -> dict[str, Any]:
    """A JSON object from an answer's bytes; a body that does not parse is TransientError (it was
    most likely cut short: asked again), one that is not an object is GraphError."""
    try:
        # orjson: about two thirds of json.loads's time on a 1.3 MB page of users, the
        # collector's largest single cost after TLS (benchmarks/bench_collect.py --profile).
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise cut_short(what) from None
    if not isinstance(body, dict):
        raise not_an_object(what)
    return body


def cut_short(what: str) -> TransientError:
    return TransientError(f"{what}: the answer was not complete JSON")


def not_an_object(what: str) -> GraphError:
    return GraphError(f"Graph's answer for {what} is not a JSON object.")


def no_value_list(what: str) -> GraphError:
    return GraphError(f"Graph's answer for {what} has no 'value' list.")


class Decoded(NamedTuple):
    """A page as its decoder made it: the next page's link as the page gave it (the pager checks
    it), and the page's items (its ``value`` list, or what a decoder made of it)."""

    next_link: Any
    items: Any


# Begins decoding a page's bytes, on the thread that fetched them; the call it returns gives the
# Decoded page, on the caller's thread: TransientError when the body was cut short (the pager
# asks for the page again), GraphError when it is not a page.
Decode = Callable[[bytes, str], Callable[[], Decoded]]


def value_list(body: dict[str, Any], what: str) -> Decoded:
    """A parsed page's ``value`` list and next link."""
    value = body.get("value")
    if not isinstance(value, list):
        raise no_value_list(what)
    return Decoded(body.get("@odata.nextLink"), value)


def decode_here(raw: bytes, what: str) -> Callable[[], Decoded]:
    """The default decoder: the page parsed on the caller's thread, when it takes the page."""
    return lambda: value_list(parse_object(raw, what), what)


_HEAD_BYTES = 256 * 1024  # how far into a page to look for its link while it streams
_CHUNK = 64 * 1024
# The rest of a page, once its link is known (or past the head), in large reads: each read needs
# the interpreter lock back from the thread parsing the page before, which keeps it up to the
# switch interval (5 ms) each time; 64 KB reads cost a 1.3 MB page ~20 such waits.
_REST = 1 << 20


def read_streaming(response: requests.Response, on_head: Callable[[str], None]) -> bytes:
    """The whole body of a streamed answer, telling ``on_head`` the next page's link as soon as
    it has arrived (within the first ``_HEAD_BYTES``)."""
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=_CHUNK):
            parts.append(chunk)
            size += len(chunk)
            link = next_link_hint(b"".join(parts), head=True)
            if link is not None:
                on_head(link)
                break
            if size > _HEAD_BYTES:
                break
        else:
            return b"".join(parts)  # all of it has arrived
        parts.extend(response.iter_content(chunk_size=_REST))
    finally:
        response.close()
    return b"".join(parts)


class Pager:
    """The pages of one listing, each requested as soon as its link is known (see
    ``GraphClient.iter_pages``), at most four beyond the one the caller holds."""

    # Pages come one after the other (each link is on the page before), so this is how long the
    # caller may be busy before the download waits on it: a daily collection reads the current
    # rows (~0.6 s per 100,000 users) while its first pages arrive, and with two pages ahead the
    # sweep stood still for ~0.25 s of it (bench_collect.py --delay 0.2). Each is ~1.3 MB of bytes.
    AHEAD = 4

    def __init__(
        self,
        client: PageSource,
        url: str,
        params: Mapping[str, str] | None,
        decode: Decode = decode_here,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        self._decode = decode
        self._on_wait = on_wait
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.AHEAD, thread_name_prefix="graph-prefetch")
        self._links: dict[int, str] = {0: url}  # page number -> the URL it is (to be) fetched from
        self._futures: dict[int, Future[tuple[str | None, Callable[[], Decoded]]]] = {}
        self._held = -1  # the page the caller holds
        self._first_params = params

    def pages(self) -> Iterator[Any]:
        """Each page's items, in order (a ``value`` list unless the decoder makes something else)."""
        page = 0
        with self._lock:
            self._submit_ready()
        while True:
            url = self._links[page]
            arriving = self._futures[page]
            if self._on_wait is not None and not arriving.done():
                self._on_wait()
            hint, finish = arriving.result()
            with self._lock:
                # Forget what the caller now holds, or every page's bytes would stay referenced.
                del self._futures[page]
                self._held = page
                self._submit_ready()
            self._offer(page + 1, hint)
            params = self._first_params if page == 0 else None
            try:
                decoded = finish()
            except TransientError:
                # A body that parses badly was cut short or garbled: ask for it again, whole (a
                # wait on Graph like any other, so the caller hears of it first).
                if self._on_wait is not None:
                    self._on_wait()
                decoded = self._client.get_decoded(url, params, self._decode_now(describe(url)))
            del finish
            next_link = decoded.next_link
            if next_link is not None and not isinstance(next_link, str):
                raise GraphError("Graph returned an @odata.nextLink that is not a URL.")
            confirmed = self._client.url(next_link) if next_link else None  # refuses another host
            self._confirm(page + 1, confirmed)
            yield decoded.items
            if confirmed is None:
                return
            page += 1

    def _decode_now(self, what: str) -> Callable[[bytes], Decoded]:
        return lambda raw: self._decode(raw, what)()

    def _fetch(self, page: int) -> tuple[str | None, Callable[[], Decoded]]:
        """On a prefetch thread: the page's bytes, the next link read from them, decoding begun."""
        url = self._links[page]
        params = self._first_params if page == 0 else None
        raw = self._client.fetch(url, params, on_head=lambda link: self._offer(page + 1, link))
        return next_link_hint(raw), self._decode(raw, describe(url))

    def _offer(self, page: int, link: str | None) -> None:
        """A hint of page ``page``'s link (from raw bytes): requested if none is known yet."""
        if link is None:
            return
        try:
            url = self._client.url(link)  # another host's link is never followed, even as a hint
        except GraphError:
            return
        with self._lock:
            if page not in self._links:
                self._links[page] = url
                self._submit_ready()

    def _confirm(self, page: int, url: str | None) -> None:
        """The parsed page's link for page ``page`` (None: there is none); a hint that differs is
        dropped with everything requested after it."""
        with self._lock:
            if self._links.get(page) == url:
                return
            stale = [k for k in self._futures if k >= page]
            for k in stale:
                self._futures[k].cancel()
            dropped = [self._futures.pop(k) for k in stale]
            for k in [k for k in self._links if k >= page]:
                del self._links[k]
            if url is not None:
                self._links[page] = url
                self._submit_ready()
        for future in dropped:
            _discard(future)

    def _submit_ready(self) -> None:
        # Called with the lock held. A page is submitted once: held pages are past the range.
        for page in range(self._held + 1, self._held + 1 + self.AHEAD):
            if page in self._links and page not in self._futures:
                self._futures[page] = self._pool.submit(self._fetch, page)

    def close(self) -> None:
        with self._lock:
            for future in self._futures.values():
                future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _discard(future: Any) -> None:
    """Wait out a request we no longer need (so the session is free), ignoring its outcome."""
    try:
        future.result()
    except Exception:  # noqa: BLE001 - its answer is not used
        pass
