"""GraphClient: the one place that talks HTTP to Microsoft Graph.

It owns the base URL, the token, the session (TLS, timeouts) and the retry policy, and every
collector receives it rather than building its own. Reads are retried on 429/5xx, dropped
connections and truncated bodies, honouring ``Retry-After`` (seconds, possibly fractional, or
an HTTP date) within a bounded total wait; writes are never retried here, because only the
caller can decide whether repeating one is safe (and must audit it). Imports no Streamlit.
"""

from __future__ import annotations

import email.utils
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay

from collectors.auth import TokenProvider, VerifyingSession
from licensedesk.config import ENV_PREFIX, Settings
from licensedesk.errors import GraphError, GraphPermissionError, ThrottledError, redact

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
    """How hard to try before giving up on a read.

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


@dataclass(frozen=True)
class WriteOutcome:
    """Graph's answer to one write: status (None when unknown), body, request id, error sentence."""

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
        retry: the read retry policy.
        sleep: injectable for tests that assert on waits without spending them.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.stats = RequestStats()
        self._sleep = sleep
        self.session = session or VerifyingSession(settings.ca_bundle)
        self.session.headers["User-Agent"] = "LicenseDesk/0.1"
        self._tokens = TokenProvider(settings, self.session)
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
        return self._with_retries(lambda: self._get_once(url, params), what=_describe(url))

    def iter_pages(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's ``value`` list, following ``@odata.nextLink`` verbatim until absent.

        The next page is fetched on a worker thread while the caller processes the current one,
        so a collection costs about max(download, processing) rather than their sum. Only one
        request is ever in flight, so Graph sees the same sequential paging as without it.
        """
        body = self.get_json(path, params)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-prefetch") as pool:
            while True:
                value = body.get("value")
                if not isinstance(value, list):
                    raise GraphError(f"Graph's answer for {_describe(self.url(path))} has no 'value' list.")
                next_link = body.get("@odata.nextLink")
                if next_link is not None and not isinstance(next_link, str):
                    raise GraphError("Graph returned an @odata.nextLink that is not a URL.")
                upcoming = pool.submit(self.get_json, next_link) if next_link else None
                try:
                    yield value
                except GeneratorExit:
                    if upcoming is not None:
                        upcoming.cancel()
                    raise
                if upcoming is None:
                    return
                body = upcoming.result()

    def batch_get(self, paths: Sequence[str]) -> list[dict[str, Any]]:
        """GET several relative paths through ``$batch`` (20 per call); bodies in the order given.

        Throttled items are resent after the longest ``Retry-After`` among them; other failed
        items raise GraphError naming the path.
        """
        results: list[dict[str, Any] | None] = [None] * len(paths)
        for start in range(0, len(paths), MAX_BATCH):
            chunk = list(enumerate(paths))[start : start + MAX_BATCH]
            pending = dict(chunk)
            attempt = 0
            while pending:
                attempt += 1
                body = {
                    "requests": [
                        {"id": str(i), "method": "GET", "url": "/" + p.lstrip("/")}
                        for i, p in pending.items()
                    ]
                }
                answer = self._with_retries(partial(self._post_once, self.url("$batch"), body), what="$batch")
                retry_wait = 0.0
                for item in answer.get("responses", []):
                    index = int(item["id"])
                    status = int(item.get("status", 0))
                    if status == 200:
                        results[index] = item.get("body") or {}
                        pending.pop(index, None)
                    elif status in RETRY_STATUSES and attempt < self.retry.max_attempts:
                        headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
                        wait = parse_retry_after(headers.get("retry-after"))
                        retry_wait = max(retry_wait, wait if wait is not None else self._backoff(attempt))
                        self.stats.throttled += status == 429
                    else:
                        raise _graph_error(status, item.get("body"), pending[index], None)
                if pending:
                    self.stats.retries += 1
                    self._pause(min(retry_wait, self.retry.max_single_wait))
        return [r if r is not None else {} for r in results]

    # -- writes (never retried) ---------------------------------------------------------------
    def batch_write(self, items: Sequence[tuple[str, str, Mapping[str, Any] | None]]) -> list[WriteOutcome]:
        """Send writes (method, relative path, body) through ``$batch``, 20 per call.

        An item answered 429 was not processed, so it alone is resent after the longest
        Retry-After of its batch (bounded by the retry policy); every other answer is final.
        If the batch call itself is lost in transit, its items' outcome is unknown: they are
        reported failed as such and never resent.
        """
        outcomes: list[WriteOutcome | None] = [None] * len(items)
        for start in range(0, len(items), MAX_BATCH):
            pending = {i: items[i] for i in range(start, min(start + MAX_BATCH, len(items)))}
            for attempt in range(1, self.retry.max_attempts + 1):
                requests_ = []
                for i, (method, path, body) in pending.items():
                    entry: dict[str, Any] = {"id": str(i), "method": method, "url": "/" + path.lstrip("/")}
                    if body is not None:
                        entry["body"] = body
                        entry["headers"] = {"Content-Type": "application/json"}
                    requests_.append(entry)
                try:
                    _status, answer, batch_rid = self._write("POST", "$batch", {"requests": requests_})
                except GraphError as exc:
                    for i in pending:
                        outcomes[i] = WriteOutcome(exc.status, None, None, str(exc))
                    pending = {}
                    break
                wait = 0.0
                for item in answer.get("responses", []):
                    i = int(item["id"])
                    status = int(item.get("status", 0))
                    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
                    if status == 429 and attempt < self.retry.max_attempts:
                        self.stats.throttled += 1
                        delay = parse_retry_after(headers.get("retry-after"))
                        wait = max(wait, delay if delay is not None else self._backoff(attempt))
                        continue
                    body = item.get("body")
                    error = None
                    if status >= 400:
                        error = str(
                            _graph_error(
                                status, body, f"{items[i][0]} {items[i][1]}", headers.get("request-id")
                            )
                        )
                    # Items rarely carry their own request-id; the batch's id is what support can trace.
                    rid = headers.get("request-id") or batch_rid
                    outcomes[i] = WriteOutcome(status, body if isinstance(body, dict) else None, rid, error)
                    pending.pop(i, None)
                if not pending:
                    break
                self.stats.retries += 1
                self._pause(min(wait, self.retry.max_single_wait))
            for i in pending:
                outcomes[i] = WriteOutcome(
                    429, None, None, "Graph kept throttling this change; it was not applied."
                )
        return [
            o if o is not None else WriteOutcome(None, None, None, "no answer in the batch") for o in outcomes
        ]

    def _write(
        self, method: str, path: str, body: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any], str | None]:
        url = self.url(path)
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                response = self._send(method, url, json_body=body)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                # The request may or may not have reached Graph: never resend it blindly.
                raise GraphError(
                    f"The connection was lost during {method} {_describe(url)} ({exc.__class__.__name__}); "
                    "its outcome is unknown, so it was not resent."
                ) from None
            request_id = response.headers.get("request-id")
            # 429 means Graph did not process the request, so resending after Retry-After is safe.
            if response.status_code == 429 and attempt < self.retry.max_attempts:
                self.stats.throttled += 1
                self.stats.retries += 1
                wait = parse_retry_after(response.headers.get("Retry-After"))
                self._pause(
                    min(wait if wait is not None else self._backoff(attempt), self.retry.max_single_wait)
                )
                continue
            if response.status_code >= 400:
                raise _graph_error(
                    response.status_code, _safe_json(response), f"{method} {_describe(url)}", request_id
                )
            return response.status_code, _safe_json(response) or {}, request_id
        raise ThrottledError(
            f"Graph kept throttling {method} {_describe(url)}; it was not applied.", status=429
        )

    # -- plumbing -----------------------------------------------------------------------------
    def _send(
        self, method: str, url: str, *, params: Mapping[str, str] | None = None, json_body: Any = None
    ) -> requests.Response:
        self.stats.requests += 1
        headers = {"Authorization": f"Bearer {self._tokens.token()}", "client-request-id": str(uuid.uuid4())}
        try:
            response = self.session.request(method, url, params=params, json=json_body, headers=headers)
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
            response = self.session.request(method, url, params=params, json=json_body, headers=headers)
        self.stats.by_status[response.status_code] = self.stats.by_status.get(response.status_code, 0) + 1
        return response

    def _get_once(self, url: str, params: Mapping[str, str] | None) -> dict[str, Any]:
        return self._read_once("GET", url, params=params)

    def _post_once(self, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._read_once("POST", url, json_body=body)

    def _read_once(
        self, method: str, url: str, *, params: Mapping[str, str] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        what = _describe(url)
        try:
            response = self._send(method, url, params=params, json_body=json_body)
            if response.status_code in RETRY_STATUSES:
                if response.status_code == 429:
                    self.stats.throttled += 1
                raise TransientError(
                    f"{what} answered {response.status_code}",
                    status=response.status_code,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code >= 400:
                raise _graph_error(
                    response.status_code, _safe_json(response), what, response.headers.get("request-id")
                )
            body = response.json()
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise TransientError(f"{what}: connection lost ({exc.__class__.__name__})") from None
        except requests.exceptions.Timeout:
            raise TransientError(f"{what}: timed out") from None
        except (requests.exceptions.JSONDecodeError, ValueError) as exc:
            if isinstance(exc, GraphError):
                raise
            raise TransientError(f"{what}: the answer was not complete JSON") from None
        if not isinstance(body, dict):
            raise GraphError(f"Graph's answer for {what} is not a JSON object.")
        return body

    def _with_retries(self, call: Callable[[], dict[str, Any]], *, what: str) -> dict[str, Any]:
        policy = self.retry
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_total_wait),
            wait=self._wait,
            sleep=self._pause,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(call)
        except TransientError as exc:
            if exc.status in (429, 503):
                raise ThrottledError(
                    f"Graph kept throttling {what} ({exc.status}) after {self.stats.retries} retries; "
                    "try again later or at a quieter hour.",
                    status=exc.status,
                ) from None
            raise GraphError(
                f"Graph failed for {what} after {policy.max_attempts} attempts: {exc}.", status=exc.status
            ) from None

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
