"""The retry policy's parts: what counts as worth retrying, how long Graph asks us to wait, and
the sentence for giving up. ``GraphClient`` applies them (tenacity) to every request it makes."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from licensedesk.errors import GraphError, LicenseDeskError, ThrottledError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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


def retries_text(attempts: int) -> str:
    retries = max(attempts - 1, 0)
    return f"{retries} {'retry' if retries == 1 else 'retries'}"


def graph_give_up(what: str) -> Callable[[TransientError, int], LicenseDeskError]:
    def give_up(exc: TransientError, attempts: int) -> LicenseDeskError:
        if exc.status in (429, 503):
            return ThrottledError(
                f"Graph kept throttling {what} ({exc.status}) after {retries_text(attempts)}; "
                "try again later or at a quieter hour.",
                status=exc.status,
            )
        return GraphError(f"Graph failed for {what} after {attempts} attempts: {exc}.", status=exc.status)

    return give_up


def write_give_up(what: str) -> Callable[[TransientError, int], LicenseDeskError]:
    def give_up(exc: TransientError, attempts: int) -> LicenseDeskError:
        return ThrottledError(
            f"Graph kept throttling {what} after {retries_text(attempts)}; it was not applied.", status=429
        )

    return give_up


@contextmanager
def transport_errors(what: str) -> Iterator[None]:
    """Turn a dropped connection, a cut-off body or a timeout while talking to ``what`` into a
    TransientError, which the retry policy resends."""
    try:
        yield
    except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise TransientError(f"{what}: connection lost ({exc.__class__.__name__})") from None
    except requests.exceptions.Timeout:
        raise TransientError(f"{what}: timed out") from None
