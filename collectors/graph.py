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

import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay

from collectors import batch
from collectors.auth import TokenProvider, VerifyingSession
from collectors.batch import MAX_BATCH, UNKNOWN_OUTCOME, WriteOutcome
from collectors.graph_errors import describe, graph_error, safe_json
from collectors.pacing import Pacer
from collectors.paging import Decode, Pager, decode_here, next_link_hint, parse_object, read_streaming
from collectors.retry import (
    RETRY_STATUSES,
    RetryPolicy,
    TransientError,
    graph_give_up,
    parse_retry_after,
    retries_text,
    transport_errors,
)
from licensedesk.config import ENV_PREFIX, Role, Settings
from licensedesk.errors import (
    AuthError,
    GraphError,
    LicenseDeskError,
)

T = TypeVar("T")

# Where they were first defined, for the modules and tests that import them from here.
__all__ = [
    "MAX_BATCH", "RETRY_STATUSES", "UNKNOWN_OUTCOME", "GraphClient", "RequestStats", "RetryPolicy",
    "TransientError", "WriteOutcome", "next_link_hint", "parse_retry_after",
]  # fmt: skip


@dataclass
class RequestStats:
    """What a client did, for the snapshot's record."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


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
        pacer: Pacer | None = None,
    ) -> None:
        self.settings = settings
        self.pacer = pacer  # collectors.pacing: Graph's throttling budgets, when collecting many tenants
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
        what = describe(url)
        return self.with_retries(lambda: self.read_once("GET", url, params=params), graph_give_up(what))

    def get_decoded(self, url: str, params: Mapping[str, str] | None, finish: Callable[[bytes], T]) -> T:
        """``finish`` of one GET's body, retrying transient failures (``finish`` raising
        TransientError for a body cut short among them) within the policy."""
        return self.with_retries(
            lambda: finish(self._fetch_once("GET", url, params=params)), graph_give_up(describe(url))
        )

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        decode: Decode = decode_here,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[Any]:
        """Yield each page's ``value`` list, following ``@odata.nextLink`` verbatim until absent.

        The next page is requested as soon as its link is known: from the first bytes of the
        current page when Graph puts the link before ``value``, else from its whole raw body,
        before it is parsed (``next_link_hint``); the parsed page then confirms the link, or the
        request is dropped and the right one sent. So transferring, parsing and the caller's
        processing all overlap the next request's latency. At most the two pages after the one
        the caller holds are requested or held, whatever the caller's pace.

        ``decode`` makes each page's bytes into what is yielded instead (``collectors.paging.Decode``);
        ``on_wait`` is called (on the caller's thread) before waiting for a page not yet arrived.
        """
        with closing(Pager(self, self.url(path), params, decode, on_wait)) as pager:
            yield from pager.pages()

    def batch_get(self, paths: Sequence[str]) -> list[dict[str, Any]]:
        """GET several relative paths through ``$batch``; see ``collectors.batch.batch_get``."""
        return batch.batch_get(self, paths)

    # -- writes (resent only when Graph said it did not process them) -------------------------
    def batch_write(self, items: Sequence[batch.Write]) -> list[WriteOutcome]:
        """Send writes through ``$batch``; see ``collectors.batch.batch_write``."""
        return batch.batch_write(self, items)

    def write_once(self, method: str, url: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """One write: its JSON answer and request id; TransientError only for a 429 (not processed)."""
        what = f"{method} {describe(url)}"
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
            raise graph_error(response.status_code, safe_json(response), what, request_id)
        answer = safe_json(response)
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
                f"The sign-in endpoint {host} kept failing ({exc}) after {retries_text(attempts)}; "
                "try again later, or check LICENSE_DESK_AUTHORITY_URL and the network."
            )

        return self.with_retries(once, give_up)

    # -- plumbing -----------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        stream: bool = False,
        allow_redirects: bool = True,
    ) -> requests.Response:
        self.stats.requests += 1
        headers = {"Authorization": f"Bearer {self._tokens.token()}", "client-request-id": str(uuid.uuid4())}
        if self.pacer is not None:
            self.pacer.before(method, url, params, json_body)

        def send() -> requests.Response:
            return self.session.request(
                method, url, params=params, json=json_body, headers=headers, stream=stream,
                allow_redirects=allow_redirects,
            )  # fmt: skip

        try:
            response = send()
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
            response = send()
        self.stats.by_status[response.status_code] = self.stats.by_status.get(response.status_code, 0) + 1
        if self.pacer is not None:
            self.pacer.after(response.status_code, response.headers)
        return response

    def read_once(
        self, method: str, url: str, *, params: Mapping[str, str] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        raw = self._fetch_once(method, url, params=params, json_body=json_body)
        return parse_object(raw, describe(url))

    def open(
        self,
        method: str,
        url: str,
        *,
        what: str,
        allow_redirects: bool = True,
        stream: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """One request's answer, its body not yet read (the caller closes it): 429/5xx as
        TransientError, other 4xx/5xx as GraphError naming ``what``; a redirect is returned as is
        when ``allow_redirects`` is False. Run it inside ``transport_errors(what)``."""
        response = self._send(method, url, stream=stream, allow_redirects=allow_redirects, **kwargs)
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
            error = graph_error(
                response.status_code, safe_json(response), what, response.headers.get("request-id")
            )
            response.close()
            raise error
        return response

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
        what = describe(url)
        with transport_errors(what):
            response = self.open(
                method, url, what=what, params=params, json_body=json_body, stream=on_head is not None
            )
            if on_head is None:
                return response.content
            return read_streaming(response, on_head)

    def fetch(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        on_head: Callable[[str], None] | None = None,
    ) -> bytes:
        """GET one page's bytes under the retry policy (parsed later, by the caller)."""
        return self.with_retries(
            lambda: self._fetch_once("GET", url, params=params, on_head=on_head),
            graph_give_up(describe(url)),
        )

    def retrying(self) -> Retrying:
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

    def with_retries(
        self, call: Callable[[], T], give_up: Callable[[TransientError, int], LicenseDeskError]
    ) -> T:
        """Run call under the retry policy; when it gives up, raise give_up(last failure, attempts)."""
        retrying = self.retrying()
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
