"""GraphClient: the one place that talks HTTP to Microsoft Graph (and, through MSAL, to Entra).

It owns the base URL, the identity it signs in as, the session (TLS, timeouts) and the retry
policy, and every collector receives it rather than building its own. One policy (tenacity:
``Retry-After`` in seconds, possibly fractional, or an HTTP date, else exponential back-off with
jitter; a bounded number of attempts and of total wait per request) covers every retry: reads
and ``$batch`` reads on 429/5xx, dropped connections, truncated bodies and items missing from a
batch's answer; the sign-in (OpenID discovery and token) requests on the same; and writes only
where Graph said it did not process them (429). A write whose answer was lost (connection,
truncated body, item missing from the batch's answer) has an unknown outcome: it is reported as
such and never resent, since only the caller can audit and decide. Imports no Streamlit.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay

from collectors.auth import TokenProvider, VerifyingSession
from licensedesk.config import ENV_PREFIX, Role, Settings
from licensedesk.errors import (
    AuthError,
    GraphError,
    GraphPermissionError,
    LicenseDeskError,
    ThrottledError,
    redact,
)

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BATCH = 20  # Graph's limit on requests in one $batch


class TransientError(Exception):
    """A failure worth retrying: throttling, a 5xx, a dropped connection or a truncated body."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass
class RetryPolicy:
    """How hard to try before giving up on one request (a read, a sign-in, a $batch, a throttled write).

    Attributes:
        max_attempts: attempts per request, the first included.
        max_total_wait: seconds of sleeping allowed for one request, summed over its retries.
        max_single_wait: a longer ``Retry-After`` than this is clipped to it.
        base_backoff: first exponential back-off (no ``Retry-After``), doubled each time.
    """

    max_attempts: int = 8
    max_total_wait: float = 300.0
    max_single_wait: float = 60.0
    base_backoff: float = 0.5


UNKNOWN_OUTCOME = (
    "Graph's answer to this change was lost, so whether it was applied is unknown; it was not resent "
    "(check the tenant, or the next snapshot)."
)


@dataclass(frozen=True)
class WriteOutcome:
    """Graph's answer to one write: status (None when unknown), body, request id, error sentence.

    status None with an error means the outcome is unknown (the request may have been applied);
    such a write is never resent.
    """

    status: int | None
    body: dict[str, Any] | None
    request_id: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class RequestStats:
    """What a client did, for the snapshot's record."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a (possibly fractional) number or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), tz=UTC)
    return max(0.0, (when - current).total_seconds())


class GraphClient:
    """Authenticated, throttle-aware access to one tenant's Graph.

    Args:
        settings: where Graph and Entra are and which credentials to use.
        identity: "read" (the default) signs in as the read app, which every collection uses;
            "write" as the write app (``LICENSE_DESK_WRITE_CLIENT_*``), which only applying a plan
            uses. A missing write app is a ConfigError at the first request, not here, so a caller
            can refuse and audit first.
        retry: the retry policy.
        sleep: injectable for tests that assert on waits without spending them.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        identity: Role = "read",
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.identity: Role = identity
        self.retry = retry or RetryPolicy()
        self.stats = RequestStats()
        self._sleep = sleep
        self.session = session or VerifyingSession(settings.ca_bundle)
        self.session.headers["User-Agent"] = "LicenseDesk/0.1"
        self._tokens = TokenProvider(settings, _SignInHttp(self), role=identity)
        base = urlsplit(settings.graph_url)
        self._origin = (base.scheme, base.netloc.lower())
        self.base_url = settings.graph_url.rstrip("/")

    # -- URLs --------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """Absolute URL for a Graph path (``/users``) or an absolute URL on the same host."""
        if path.startswith(("https://", "http://")):
            self._check_same_origin(path)
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _check_same_origin(self, url: str) -> None:
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self._origin:
            # A nextLink is followed verbatim, so one pointing elsewhere would send our token there.
            raise GraphError(
                f"Graph returned a link to another host ({parts.scheme}://{parts.netloc}); "
                "License Desk refused to follow it."
            )

    def sign_in(self) -> None:
        """Acquire a token now, so a bad secret or certificate fails before anything else is done.

        Raises:
            AuthError, ConfigError: the credentials or the sign-in endpoint are not usable.
        """
        self._tokens.token()

    # -- reads --------------------------------------------------------------------------------
    def get_json(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET a Graph resource as JSON, retrying transient failures within the policy."""
        url = self.url(path)
        what = _describe(url)
        return self._with_retries(lambda: self._read_once("GET", url, params=params), _graph_give_up(what))

    def iter_pages(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's ``value`` list, following ``@odata.nextLink`` verbatim until absent.

        The next page is requested as soon as its link is known: from the first bytes of the
        current page when Graph puts the link before ``value``, else from its whole raw body,
        before it is parsed (``next_link_hint``); the parsed page then confirms the link, or the
        request is dropped and the right one sent. So transferring, parsing and the caller's
        processing all overlap the next request's latency. At most the two pages after the one
        the caller holds are requested or held, whatever the caller's pace.
        """
        pager = _Pager(self, self.url(path), params)
        try:
            yield from pager.pages()
        finally:
            pager.close()

    def batch_get(self, paths: Sequence[str]) -> list[dict[str, Any]]:
        """GET several relative paths through ``$batch`` (20 per call); bodies in the order given.

        Items answered 429/5xx or missing from the batch's answer are resent (a GET is safe to
        repeat) after the longest ``Retry-After`` among them, each within the retry policy's
        attempts; other failed items raise GraphError naming the path.
        """
        results: dict[int, dict[str, Any]] = {}
        url = self.url("$batch")
        for start in range(0, len(paths), MAX_BATCH):
            pending = {i: paths[i] for i in range(start, min(start + MAX_BATCH, len(paths)))}

            def send(pending: dict[int, str] = pending) -> None:
                body = {
                    "requests": [
                        {"id": str(i), "method": "GET", "url": "/" + p.lstrip("/")}
                        for i, p in pending.items()
                    ]
                }
                # The $batch call is a request of its own, with its own retries; the items left
                # pending are resent in the next round, so each item has the policy's attempts.
                answer = self._with_retries(
                    lambda: self._read_once("POST", url, json_body=body), _graph_give_up("$batch")
                )
                answers = _answers_by_id(answer)
                retry_after: float | None = None
                failed: list[int] = []  # statuses of the items to resend, 0 for a missing answer
                for i in list(pending):
                    item = answers.get(str(i))
                    status = 0 if item is None else _item_status(item)
                    if item is not None and status == 200:
                        item_body = item.get("body")
                        results[i] = item_body if isinstance(item_body, dict) else {}
                        del pending[i]
                    elif item is None or status in RETRY_STATUSES:
                        failed.append(status)
                        self.stats.throttled += status == 429
                        wait = parse_retry_after(_item_headers(item or {}).get("retry-after"))
                        retry_after = wait if retry_after is None else max(retry_after, wait or 0.0)
                    else:
                        raise _graph_error(status, item.get("body"), pending[i], None)
                if pending:
                    missing = failed.count(0)
                    why = (
                        f"its answer left out {missing} request(s)"
                        if missing
                        else f"items answered {max(failed)}"
                    )
                    worst = 429 if 429 in failed else (max(failed) or None)
                    raise TransientError(why, status=worst, retry_after=retry_after)

            self._with_retries(send, _graph_give_up("$batch"))
        return [results.get(i, {}) for i in range(len(paths))]

    # -- writes (resent only when Graph said it did not process them) -------------------------
    def batch_write(self, items: Sequence[tuple[str, str, Mapping[str, Any] | None]]) -> list[WriteOutcome]:
        """Send writes (method, relative path, body) through ``$batch``, 20 per call.

        A write answered 429 (the batch as a whole or the item) was not processed, so it is resent
        after Retry-After under the retry policy (each item has the policy's attempts, and so has
        each $batch call); every other answer is final. A write whose answer is lost (the batch
        call's connection or body, or the item missing from the batch's answer) gets status None
        and an error saying its outcome is unknown, and is never resent.
        """
        outcomes: dict[int, WriteOutcome] = {}
        for start in range(0, len(items), MAX_BATCH):
            pending = {i: items[i] for i in range(start, min(start + MAX_BATCH, len(items)))}

            def send(pending: dict[int, tuple[str, str, Mapping[str, Any] | None]] = pending) -> None:
                requests_ = []
                for i, (method, path, body) in pending.items():
                    entry: dict[str, Any] = {"id": str(i), "method": method, "url": "/" + path.lstrip("/")}
                    if body is not None:
                        entry["body"] = body
                        entry["headers"] = {"Content-Type": "application/json"}
                    requests_.append(entry)
                batch = {"requests": requests_}
                try:
                    answer, batch_rid = self._with_retries(
                        lambda: self._write_once("POST", self.url("$batch"), batch), _write_give_up("$batch")
                    )
                except GraphError as exc:  # refused or throttled as a whole, or its outcome unknown
                    for i in pending:
                        outcomes[i] = WriteOutcome(exc.status, None, exc.request_id, str(exc))
                    pending.clear()
                    return
                answers = _answers_by_id(answer)
                retry_after: float | None = None
                for i in list(pending):
                    item = answers.get(str(i))
                    if item is None:
                        outcomes[i] = WriteOutcome(None, None, batch_rid, UNKNOWN_OUTCOME)
                        del pending[i]
                        continue
                    status = _item_status(item)
                    headers = _item_headers(item)
                    if status == 429:
                        self.stats.throttled += 1
                        wait = parse_retry_after(headers.get("retry-after"))
                        retry_after = wait if retry_after is None else max(retry_after, wait or 0.0)
                        continue
                    body = item.get("body")
                    error = None
                    if status >= 400:
                        method, path, _ = pending[i]
                        error = str(_graph_error(status, body, f"{method} {path}", headers.get("request-id")))
                    # Items rarely carry their own request-id; the batch's id is what support can trace.
                    rid = headers.get("request-id") or batch_rid
                    outcomes[i] = WriteOutcome(status, body if isinstance(body, dict) else None, rid, error)
                    del pending[i]
                if pending:
                    raise TransientError("items answered 429", status=429, retry_after=retry_after)

            try:
                self._retrying()(send)
            except TransientError:
                for i in pending:
                    outcomes[i] = WriteOutcome(
                        429, None, None, "Graph kept throttling this change; it was not applied."
                    )
        return [outcomes[i] for i in range(len(items))]

    def _write_once(
        self, method: str, url: str, body: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """One write: its JSON answer and request id; TransientError only for a 429 (not processed)."""
        what = f"{method} {_describe(url)}"
        try:
            response = self._send(method, url, json_body=body)
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            # The request may well have reached Graph: never resend it blindly.
            raise GraphError(
                f"The connection was lost during {what} ({exc.__class__.__name__}); its outcome is unknown, "
                "so it was not resent."
            ) from None
        request_id = response.headers.get("request-id")
        if response.status_code == 429:
            self.stats.throttled += 1
            raise TransientError(
                f"{what} answered 429",
                status=429,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            raise _graph_error(response.status_code, _safe_json(response), what, request_id)
        answer = _safe_json(response)
        return (answer if isinstance(answer, dict) else {}), request_id

    # -- sign-in ------------------------------------------------------------------------------
    def sign_in_request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request MSAL makes to Entra (discovery, token), retried on 429/5xx, dropped
        connections and truncated bodies like a read; MSAL only ever sees the final answer."""
        host = urlsplit(url).netloc

        def once() -> requests.Response:
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.exceptions.SSLError:
                raise  # a TLS problem does not go away by retrying; TokenProvider explains it
            except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                raise TransientError(f"connection lost: {exc.__class__.__name__}") from None
            except requests.exceptions.Timeout:
                raise TransientError("it timed out") from None
            if response.status_code in RETRY_STATUSES:
                raise TransientError(
                    f"it answered {response.status_code}",
                    status=response.status_code,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            return response

        def give_up(exc: TransientError, attempts: int) -> LicenseDeskError:
            return AuthError(
                f"The sign-in endpoint {host} kept failing ({exc}) after {_retries(attempts)}; "
                "try again later, or check LICENSE_DESK_AUTHORITY_URL and the network."
            )

        return self._with_retries(once, give_up)

    # -- plumbing -----------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        stream: bool = False,
    ) -> requests.Response:
        self.stats.requests += 1
        headers = {"Authorization": f"Bearer {self._tokens.token()}", "client-request-id": str(uuid.uuid4())}
        try:
            response = self.session.request(
                method, url, params=params, json=json_body, headers=headers, stream=stream
            )
        except requests.exceptions.SSLError:
            raise GraphError(
                f"TLS verification failed for {urlsplit(url).netloc}: set {ENV_PREFIX}CA_BUNDLE to the CA "
                "that signed its certificate."
            ) from None
        if response.status_code == 401:
            # The cached token may have been revoked early: fetch a fresh one once.
            self._tokens.reset()
            headers["Authorization"] = f"Bearer {self._tokens.token()}"
            self.stats.requests += 1
            response.close()
            response = self.session.request(
                method, url, params=params, json=json_body, headers=headers, stream=stream
            )
        self.stats.by_status[response.status_code] = self.stats.by_status.get(response.status_code, 0) + 1
        return response

    def _read_once(
        self, method: str, url: str, *, params: Mapping[str, str] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        raw = self._fetch_once(method, url, params=params, json_body=json_body)
        return _parse_object(raw, _describe(url))

    def _fetch_once(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        on_head: Callable[[str], None] | None = None,
    ) -> bytes:
        """One request's answer body, whole; 429/5xx, lost connections and cut-off bodies as
        TransientError, other errors as GraphError. ``on_head`` is given the page's
        ``@odata.nextLink`` as soon as it has arrived, while the rest of the body still streams."""
        what = _describe(url)
        try:
            response = self._send(method, url, params=params, json_body=json_body, stream=on_head is not None)
            if response.status_code in RETRY_STATUSES:
                if response.status_code == 429:
                    self.stats.throttled += 1
                response.close()  # a streamed answer holds its connection until closed
                raise TransientError(
                    f"{what} answered {response.status_code}",
                    status=response.status_code,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code >= 400:
                error = _graph_error(
                    response.status_code, _safe_json(response), what, response.headers.get("request-id")
                )
                response.close()
                raise error
            if on_head is None:
                return response.content
            return _read_streaming(response, on_head)
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise TransientError(f"{what}: connection lost ({exc.__class__.__name__})") from None
        except requests.exceptions.Timeout:
            raise TransientError(f"{what}: timed out") from None

    def _fetch(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        on_head: Callable[[str], None] | None = None,
    ) -> bytes:
        """GET one page's bytes under the retry policy (parsed later, by the caller)."""
        return self._with_retries(
            lambda: self._fetch_once("GET", url, params=params, on_head=on_head),
            _graph_give_up(_describe(url)),
        )

    def _retrying(self) -> Retrying:
        """The one retry policy, fresh for one request (its statistics count that request alone)."""
        policy = self.retry
        return Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_total_wait),
            wait=self._wait,
            sleep=self._pause,
            before_sleep=self._count_retry,
            reraise=True,
        )

    def _with_retries(
        self, call: Callable[[], T], give_up: Callable[[TransientError, int], LicenseDeskError]
    ) -> T:
        """Run call under the retry policy; when it gives up, raise give_up(last failure, attempts)."""
        retrying = self._retrying()
        try:
            return retrying(call)
        except TransientError as exc:
            raise give_up(exc, int(retrying.statistics.get("attempt_number", 1))) from None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return float(min(exc.retry_after, self.retry.max_single_wait))
        return self._backoff(state.attempt_number)

    def _backoff(self, attempt: int) -> float:
        base = self.retry.base_backoff * float(2 ** (attempt - 1))
        return min(self.retry.max_single_wait, base * (0.5 + random.random()))  # noqa: S311 - jitter only

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1

    def _pause(self, seconds: float) -> None:
        self.stats.waited_seconds += seconds
        self._sleep(seconds)


class _SignInHttp:
    """The ``http_client`` MSAL is given: the client's session, through its retry policy."""

    def __init__(self, client: GraphClient) -> None:
        self._client = client

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._client.sign_in_request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._client.sign_in_request("POST", url, **kwargs)

    def close(self) -> None:
        """MSAL may close its client; the session belongs to the GraphClient, which outlives it."""


def _retries(attempts: int) -> str:
    retries = max(attempts - 1, 0)
    return f"{retries} {'retry' if retries == 1 else 'retries'}"


def _graph_give_up(what: str) -> Callable[[TransientError, int], LicenseDeskError]:
    def give_up(exc: TransientError, attempts: int) -> LicenseDeskError:
        if exc.status in (429, 503):
            return ThrottledError(
                f"Graph kept throttling {what} ({exc.status}) after {_retries(attempts)}; "
                "try again later or at a quieter hour.",
                status=exc.status,
            )
        return GraphError(f"Graph failed for {what} after {attempts} attempts: {exc}.", status=exc.status)

    return give_up


def _write_give_up(what: str) -> Callable[[TransientError, int], LicenseDeskError]:
    def give_up(exc: TransientError, attempts: int) -> LicenseDeskError:
        return ThrottledError(
            f"Graph kept throttling {what} after {_retries(attempts)}; it was not applied.", status=429
        )

    return give_up


def _answers_by_id(answer: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A $batch answer's responses by their id (Graph answers in any order)."""
    responses = answer.get("responses")
    if not isinstance(responses, list):
        return {}
    return {str(r.get("id")): r for r in responses if isinstance(r, dict)}


def _item_status(item: Mapping[str, Any]) -> int:
    try:
        return int(item.get("status", 0))
    except (TypeError, ValueError):
        return 0


def _item_headers(item: Mapping[str, Any]) -> dict[str, str]:
    headers = item.get("headers")
    return {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


# Which application permission a 403 on a path most likely means is missing.
_PERMISSION_FOR = (
    ("signinactivity", "AuditLog.Read.All (and an Entra ID P1 licence in the tenant)"),
    ("/subscribedskus", "Organization.Read.All or LicenseAssignment.Read.All"),
    ("/directory/subscriptions", "Organization.Read.All"),
    ("/groups", "Group.Read.All"),
    ("/users", "User.Read.All"),
)


def _graph_error(status: int, body: Any, what: str, request_id: str | None) -> GraphError:
    code, message = None, ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        message = str(body["error"].get("message") or "")
        inner = body["error"].get("innerError") or {}
        request_id = request_id or inner.get("request-id")
    message = redact(message.strip().rstrip("."))
    if status == 403:
        lowered = what.lower()
        needed = next((perm for key, perm in _PERMISSION_FOR if key in lowered), "a permission it lacks")
        return GraphPermissionError(
            f"Graph refused {what} (403 {code or 'Forbidden'}): the app needs the application permission "
            f"{needed}, granted with admin consent.",
            status=status,
            code=code,
            request_id=request_id,
        )
    if status == 401:
        return GraphError(
            f"Graph rejected the access token for {what} (401 {code or 'Unauthorized'}): check the tenant "
            "and that the app registration belongs to it.",
            status=status,
            code=code,
            request_id=request_id,
        )
    detail = f": {message}" if message else ""
    return GraphError(
        f"Graph answered {status} {code or ''} for {what}{detail}.".replace("  ", " "),
        status=status,
        code=code,
        request_id=request_id,
    )


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


def _parse_object(raw: bytes, what: str) -> dict[str, Any]:
    """A JSON object from an answer's bytes; a body that does not parse is TransientError (it was
    most likely cut short: asked again), one that is not an object is GraphError."""
    try:
        # orjson: about two thirds of json.loads's time on a 1.3 MB page of users, the
        # collector's largest single cost after TLS (benchmarks/bench_collect.py --profile).
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise TransientError(f"{what}: the answer was not complete JSON") from None
    if not isinstance(body, dict):
        raise GraphError(f"Graph's answer for {what} is not a JSON object.")
    return body


_HEAD_BYTES = 256 * 1024  # how far into a page to look for its link while it streams
_CHUNK = 64 * 1024


def _read_streaming(response: requests.Response, on_head: Callable[[str], None]) -> bytes:
    """The whole body of a streamed answer, telling ``on_head`` the next page's link as soon as
    it has arrived (within the first ``_HEAD_BYTES``)."""
    parts: list[bytes] = []
    size = 0
    told = False
    try:
        for chunk in response.iter_content(chunk_size=_CHUNK):
            parts.append(chunk)
            size += len(chunk)
            if not told and size <= _HEAD_BYTES + _CHUNK:
                link = next_link_hint(b"".join(parts), head=True)
                if link is not None:
                    told = True
                    on_head(link)
    finally:
        response.close()
    return b"".join(parts)


class _Pager:
    """The pages of one listing, each requested as soon as its link is known (see
    ``GraphClient.iter_pages``), at most two beyond the one the caller holds."""

    AHEAD = 2

    def __init__(self, client: GraphClient, url: str, params: Mapping[str, str] | None) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.AHEAD, thread_name_prefix="graph-prefetch")
        self._links: dict[int, str] = {0: url}  # page number -> the URL it is (to be) fetched from
        self._futures: dict[int, Future[bytes]] = {}
        self._held = -1  # the page the caller holds
        self._first_params = params

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        page = 0
        with self._lock:
            self._submit_ready()
        while True:
            url = self._links[page]
            raw = self._futures[page].result()
            with self._lock:
                # Forget what the caller now holds, or every page's bytes would stay referenced.
                del self._futures[page]
                self._held = page
                self._submit_ready()
            self._offer(page + 1, next_link_hint(raw))
            params = self._first_params if page == 0 else None
            try:
                body = _parse_object(raw, _describe(url))
            except TransientError:
                # A body that parses badly was cut short or garbled: ask for it again, whole.
                body = self._client.get_json(url, params)
            value = body.get("value")
            if not isinstance(value, list):
                raise GraphError(f"Graph's answer for {_describe(url)} has no 'value' list.")
            next_link = body.get("@odata.nextLink")
            if next_link is not None and not isinstance(next_link, str):
                raise GraphError("Graph returned an @odata.nextLink that is not a URL.")
            confirmed = self._client.url(next_link) if next_link else None  # refuses another host
            self._confirm(page + 1, confirmed)
            yield value
            if confirmed is None:
                return
            page += 1

    def _fetch(self, page: int) -> bytes:
        params = self._first_params if page == 0 else None
        return self._client._fetch(
            self._links[page], params, on_head=lambda link: self._offer(page + 1, link)
        )

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


def _safe_json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _describe(url: str) -> str:
    """A URL without its query string (skip tokens are long and say nothing to a person)."""
    parts = urlsplit(url)
    path = parts.path
    select = ""
    if "signInActivity" in url or "signinactivity" in url.lower():
        select = " with signInActivity"
    return f"{path}{select}" if path else url
