"""Fault injection and request bookkeeping for the sandbox: what the control endpoints configure and read.

Faults are rules matched by route and/or GraphQL operation name. Counted faults ("the next 3 requests
answer 429") are exact, so tests are deterministic; `errorRate` uses a seeded RNG for the same reason.
"""

from __future__ import annotations

import collections
import itertools
import random
import threading
import time
from dataclasses import asdict, dataclass, field


@dataclass
class FaultRule:
    route: str | None = None
    operation: str | None = None
    latency_ms: int = 0
    error_count: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_count: int = 0
    retry_after: int = 1
    hang_count: int = 0
    hang_seconds: float = 30.0
    seed: int = 0
    id: int = 0
    rng: random.Random = field(default=None, repr=False, compare=False)

    def matches(self, route: str, operation: str | None) -> bool:
        return (self.route is None or self.route == route) and (self.operation is None or self.operation == operation)

    def spent(self) -> bool:
        return not (self.latency_ms or self.error_count or self.error_rate or self.rate_limit_count or self.hang_count)

    def describe(self) -> dict:
        data = asdict(self)
        data.pop("rng")
        return {_camel(k): v for k, v in data.items()}


@dataclass
class Verdict:
    """What the faults decided for one request: sleep this long, then answer normally or with `status`."""

    delay: float = 0.0
    hang: float = 0.0
    status: int | None = None
    retry_after: int | None = None


_FIELDS = {
    "route": "route",
    "operation": "operation",
    "latencyMs": "latency_ms",
    "errorCount": "error_count",
    "errorRate": "error_rate",
    "errorStatus": "error_status",
    "rateLimitCount": "rate_limit_count",
    "retryAfter": "retry_after",
    "hangCount": "hang_count",
    "hangSeconds": "hang_seconds",
    "seed": "seed",
}


def _camel(name: str) -> str:
    return {v: k for k, v in _FIELDS.items()}.get(name, name)


class FaultBook:
    """The active fault rules; `decide` consumes counted faults atomically so concurrent requests share them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self.released = threading.Event()  # set to end every hang early (on clear and shutdown)

    def add(self, spec: dict) -> FaultRule:
        unknown = set(spec) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        rule = FaultRule(**{_FIELDS[k]: v for k, v in spec.items()})
        if not 0 <= rule.error_rate <= 1:
            raise ValueError("errorRate must be between 0 and 1")
        if not 500 <= rule.error_status <= 599:
            raise ValueError("errorStatus must be a 5xx status")
        rule.rng = random.Random(rule.seed)
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
            self.released.clear()
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
        self.released.set()

    def describe(self) -> list[dict]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def decide(self, route: str, operation: str | None) -> Verdict:
        verdict = Verdict()
        with self._lock:
            for rule in self._rules:
                if not rule.matches(route, operation):
                    continue
                verdict.delay += rule.latency_ms / 1000
                if verdict.status is not None or verdict.hang:
                    continue
                if rule.hang_count:
                    rule.hang_count -= 1
                    verdict.hang = rule.hang_seconds
                elif rule.rate_limit_count:
                    rule.rate_limit_count -= 1
                    verdict.status, verdict.retry_after = 429, rule.retry_after
                elif rule.error_count:
                    rule.error_count -= 1
                    verdict.status = rule.error_status
                elif rule.error_rate and rule.rng.random() < rule.error_rate:
                    verdict.status = rule.error_status
            self._rules = [rule for rule in self._rules if not rule.spent()]
        return verdict

    def wait(self, seconds: float) -> None:
        """Sleep for a hang or latency, but wake at once when faults are cleared or the server stops."""
        if seconds > 0:
            self.released.wait(seconds)


class RequestLog:
    """Recent requests (newest last) and counters per operation, route and status."""

    def __init__(self, size: int = 500):
        self._lock = threading.Lock()
        self._entries: collections.deque = collections.deque(maxlen=size)
        self._by_operation: collections.Counter = collections.Counter()
        self._by_route: collections.Counter = collections.Counter()
        self._by_status: collections.Counter = collections.Counter()

    def record(
        self, route: str, operation: str | None, variables, status: int, started: float, *, refused: bool = False
    ) -> None:
        """`refused`: the server refused the document as invalid for its schema (nothing ran)."""
        entry = {
            "refused": refused,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "route": route,
            "operationName": operation,
            "variables": variables,
            "status": status,
            "durationMs": round((time.time() - started) * 1000, 1),
        }
        with self._lock:
            self._entries.append(entry)
            self._by_route[route] += 1
            self._by_status[str(status)] += 1
            if operation:
                self._by_operation[operation] += 1

    def recent(self, limit: int | None = None) -> list[dict]:
        with self._lock:
            entries = list(self._entries)
        return entries[-limit:] if limit else entries

    def counters(self) -> dict:
        with self._lock:
            return {
                "byOperation": dict(self._by_operation),
                "byRoute": dict(self._by_route),
                "byStatus": dict(self._by_status),
                "total": sum(self._by_route.values()),
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_operation.clear()
            self._by_route.clear()
            self._by_status.clear()
