"""Graph's ``$batch``: many reads or writes in one request, each item with its own answer.

Reads are safe to repeat, so an item answered 429/5xx or left out of the answer is resent; a
write is resent only when Graph said it did not process it (429), and one whose answer was lost
gets an unknown outcome and is never resent, since only the caller can audit and decide. Both
run under the client's one retry policy; this module only knows ``$batch``'s shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from tenacity import Retrying

from collectors.graph_errors import graph_error
from collectors.retry import RETRY_STATUSES, TransientError, graph_give_up, parse_retry_after, write_give_up
from licensedesk.errors import GraphError, LicenseDeskError

T = TypeVar("T")

MAX_BATCH = 20  # Graph's limit on requests in one $batch

UNKNOWN_OUTCOME = (
    "Graph's answer to this change was lost, so whether it was applied is unknown; it was not resent "
    "(check the tenant, or the next snapshot)."
)

Write = tuple[str, str, Mapping[str, Any] | None]  # method, relative path, body


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


class _Counts(Protocol):
    throttled: int


class BatchTransport(Protocol):
    """What ``$batch`` needs of a GraphClient."""

    @property
    def stats(self) -> _Counts: ...

    def url(self, path: str) -> str: ...

    def retrying(self) -> Retrying: ...

    def with_retries(
        self, call: Callable[[], T], give_up: Callable[[TransientError, int], LicenseDeskError]
    ) -> T: ...

    def read_once(self, method: str, url: str, *, json_body: Any = None) -> dict[str, Any]: ...

    def write_once(
        self, method: str, url: str, body: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]: ...


def batch_get(client: BatchTransport, paths: Sequence[str]) -> list[dict[str, Any]]:
    """GET several relative paths through ``$batch`` (20 per call); bodies in the order given.

    Items answered 429/5xx or missing from the batch's answer are resent (a GET is safe to
    repeat) after the longest ``Retry-After`` among them, each within the retry policy's
    attempts; other failed items raise GraphError naming the path.
    """
    results: dict[int, dict[str, Any]] = {}
    url = client.url("$batch")
    for start in range(0, len(paths), MAX_BATCH):
        pending = {i: paths[i] for i in range(start, min(start + MAX_BATCH, len(paths)))}

        def send(pending: dict[int, str] = pending) -> None:
            body = {
                "requests": [
                    {"id": str(i), "method": "GET", "url": "/" + p.lstrip("/")} for i, p in pending.items()
                ]
            }
            # The $batch call is a request of its own, with its own retries; the items left
            # pending are resent in the next round, so each item has the policy's attempts.
            answer = client.with_retries(
                lambda: client.read_once("POST", url, json_body=body), graph_give_up("$batch")
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
                    client.stats.throttled += status == 429
                    wait = parse_retry_after(_item_headers(item or {}).get("retry-after"))
                    retry_after = wait if retry_after is None else max(retry_after, wait or 0.0)
                else:
                    raise graph_error(status, item.get("body"), pending[i], None)
            if pending:
                missing = failed.count(0)
                why = (
                    f"its answer left out {missing} request(s)"
                    if missing
                    else f"items answered {max(failed)}"
                )
                worst = 429 if 429 in failed else (max(failed) or None)
                raise TransientError(why, status=worst, retry_after=retry_after)

        client.with_retries(send, graph_give_up("$batch"))
    return [results.get(i, {}) for i in range(len(paths))]


def batch_write(client: BatchTransport, items: Sequence[Write]) -> list[WriteOutcome]:
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

        def send(pending: dict[int, Write] = pending) -> None:
            batch = {"requests": [_write_entry(i, item) for i, item in pending.items()]}
            try:
                answer, batch_rid = client.with_retries(
                    lambda: client.write_once("POST", client.url("$batch"), batch), write_give_up("$batch")
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
                    client.stats.throttled += 1
                    wait = parse_retry_after(headers.get("retry-after"))
                    retry_after = wait if retry_after is None else max(retry_after, wait or 0.0)
                    continue
                body = item.get("body")
                error = None
                if status >= 400:
                    method, path, _ = pending[i]
                    error = str(graph_error(status, body, f"{method} {path}", headers.get("request-id")))
                # Items rarely carry their own request-id; the batch's id is what support can trace.
                rid = headers.get("request-id") or batch_rid
                outcomes[i] = WriteOutcome(status, body if isinstance(body, dict) else None, rid, error)
                del pending[i]
            if pending:
                raise TransientError("items answered 429", status=429, retry_after=retry_after)

        try:
            client.retrying()(send)
        except TransientError:
            for i in pending:
                outcomes[i] = WriteOutcome(
                    429, None, None, "Graph kept throttling this change; it was not applied."
                )
    return [outcomes[i] for i in range(len(items))]


def _write_entry(i: int, item: Write) -> dict[str, Any]:
    method, path, body = item
    entry: dict[str, Any] = {"id": str(i), "method": method, "url": "/" + path.lstrip("/")}
    if body is not None:
        entry["body"] = body
        entry["headers"] = {"Content-Type": "application/json"}
    return entry


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
