"""Fault injection: throttling, 5xx, dropped and truncated connections, slow answers, lost $batch items.

Why selectors count matching requests: tests need to say "fail the third page" or "throttle the
first two calls" without knowing what else the client sent. Each rule counts the requests whose
path starts with its path_prefix (every rule counts every matching request, whether or not another
rule fired); the first rule that fires decides the answer. Identity endpoints (token, discovery)
are only matched by a prefix that names them (GraphSimulator.token_path, .discovery_path), never by
"/" or "/v1.0/"; there every kind but omit applies, status kinds answering with Entra's AADSTS90033
body. omit only applies to $batch items: the item runs, and its answer is left out of the batch's.
Imports nothing from the project.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("throttle", "unavailable", "gateway_timeout", "server_error", "drop", "truncate", "slow", "omit")
STATUS = {"throttle": 429, "unavailable": 503, "gateway_timeout": 504, "server_error": 500}
CONNECTION_KINDS = frozenset({"drop", "truncate"})  # cannot happen to one item inside a $batch
BATCH_ONLY_KINDS = frozenset({"omit"})  # only a $batch answer can leave one request's answer out


@dataclass
class FaultRule:
    """One rule; `seen` counts the matching requests so far (1-based positions for nth/first)."""

    kind: str
    path_prefix: str = "/v1.0/"
    nth: frozenset[int] | None = None
    first: int | None = None
    rate: float | None = None
    seed: int = 0
    retry_after: float | str | None = None
    delay: float = 0.0
    seen: int = 0
    fired: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        self._rng = random.Random(self.seed)

    def matches(self, path: str, *, identity: bool) -> bool:
        if identity and self.path_prefix in ("/", "/v1.0", "/v1.0/"):
            return False
        return path.startswith(self.path_prefix)

    def count_and_decide(self) -> bool:
        """Count one matching request and say whether this rule fails it."""
        self.seen += 1
        if self.nth is not None:
            hit = self.seen in self.nth
        elif self.first is not None:
            hit = self.seen <= self.first
        elif self.rate is not None:
            hit = self._rng.random() < self.rate
        else:
            hit = True
        self.fired += hit
        return hit

    @property
    def status(self) -> int:
        return STATUS.get(self.kind, 200)

    def retry_after_header(self) -> str | None:
        """Retry-After exactly as given (so fractional seconds such as 0.05 survive)."""
        return None if self.retry_after is None else str(self.retry_after)


class Faults:
    """The simulator's fault rules (thread-safe)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self,
        kind: str,
        *,
        path_prefix: str = "/v1.0/",
        nth: int | list[int] | None = None,
        first: int | None = None,
        rate: float | None = None,
        seed: int = 0,
        retry_after: float | str | None = None,
        delay: float = 0.0,
    ) -> FaultRule:
        """Add a rule; with no selector it fails every matching request."""
        positions = None if nth is None else frozenset([nth] if isinstance(nth, int) else nth)
        rule = FaultRule(kind, path_prefix, positions, first, rate, seed, retry_after, delay)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, path: str, *, identity: bool = False, in_batch: bool = False) -> FaultRule | None:
        """The rule that fails this request, if any (counting it against every matching rule)."""
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                if rule.kind in (CONNECTION_KINDS if in_batch else BATCH_ONLY_KINDS):
                    continue
                if rule.matches(path, identity=identity) and rule.count_and_decide() and chosen is None:
                    chosen = rule
        return chosen
