"""HTTP transport for Consonance's GraphQL endpoint: auth, timeouts, bounded retries, error mapping.

One transport per tenant connection; its connections (`wire.KeptConnections`) stay open across pages. It
knows HTTP and GraphQL envelopes, nothing about Consonance's types (that is the gateway's).
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from addon import metrics
from addon.consonance.budget import BudgetExhausted, RequestBudget
from addon.consonance.errors import (
    ConsonanceAuthError,
    ConsonanceQueryError,
    ConsonanceUnavailable,
    ConsonanceValidationError,
)
from addon.consonance.wire import Answer, ConnectTimedOut, KeptConnections, ReadTimedOut
from addon.retries import backoff_delay

log = logging.getLogger("addon.consonance")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ConsonanceConnection:
    """Where one tenant's Consonance lives and the key it gave us (host is per customer, never a constant)."""

    host: str
    api_key: str = field(repr=False)

    @property
    def graphql_url(self) -> str:
        return self.host.rstrip("/") + "/graphql"


@dataclass(frozen=True)
class TransportOptions:
    """Timeouts and the retry bound: at most `max_attempts` requests and `max_total_seconds` per call."""

    connect_timeout: float = 3.05
    read_timeout: float = 15.0
    max_attempts: int = 5
    max_total_seconds: float = 30.0
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.5  # up to this fraction of each delay is randomised
    user_agent: str = "consonance-for-confluence/0.1"


@dataclass
class TransportStats:
    """Counters the benchmark and the admin page read: what the transport actually sent."""

    requests: int = 0
    retries: int = 0
    bytes_received: int = 0


@dataclass
class _Outcome:
    data: dict | None = None
    failure: str | None = None
    retry_after: float | None = None
    status: int | None = None


class GraphQLTransport:
    """POSTs GraphQL documents to one Consonance host and returns `data`, or raises a Consonance* error."""

    def __init__(
        self,
        connection: ConsonanceConnection,
        options: TransportOptions | None = None,
        *,
        connections: KeptConnections | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        budget: RequestBudget | None = None,
    ):
        self.connection = connection
        self.budget = budget  # the tenant's share of its Consonance, shared by every process
        self.options = options or TransportOptions()
        # the key goes only where these connect: to the connection's host (or through the proxy for it)
        self.connections = connections or KeptConnections.from_environment(connection.graphql_url)
        self.stats = TransportStats()
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._head: bytes | None = None

    def close(self) -> None:
        self.connections.close()

    def _post_head(self) -> bytes:
        """The POST every call sends, up to its length and body: URL, key and headers are the connection's own."""
        if self._head is None:
            self._head = self.connections.head(
                "POST",
                urlsplit(self.connection.graphql_url).path,
                {
                    "Authorization": f"Bearer {self.connection.api_key}",
                    "Content-Type": "application/json; charset=utf-8",
                    "Accept": "application/json",
                    "Accept-Encoding": "gzip, deflate",
                    "User-Agent": self.options.user_agent,
                },
            )
        return self._head

    def execute(self, document: str, variables: dict | None = None, *, operation_name: str | None = None) -> dict:
        """Run one GraphQL operation, retrying transient failures within the bound; return its `data`."""
        body = {"query": document, "variables": variables or {}}
        if operation_name:
            body["operationName"] = operation_name
        label = operation_name or "operation"
        opts = self.options
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            remaining = opts.max_total_seconds - (self._clock() - started)
            token = self._take_place(label, remaining, attempt, started)
            try:
                outcome = self._attempt(body, label, opts.max_total_seconds - (self._clock() - started))
            finally:
                if token is not None and self.budget is not None:  # a token is only taken from a budget
                    self.budget.give_back(token)
            if outcome.status == 429 and self.budget is not None:
                self.budget.pause(
                    outcome.retry_after if outcome.retry_after is not None else self._delay(attempt, None)
                )
            if outcome.data is not None:  # an attempt gives the data or a failure
                metrics.count_consonance_call(label, "ok")
                return outcome.data
            failure, retry_after, status = outcome.failure, outcome.retry_after, outcome.status
            elapsed = self._clock() - started
            delay = self._delay(attempt, retry_after)
            out_of_attempts = attempt >= opts.max_attempts
            out_of_time = elapsed + delay > opts.max_total_seconds
            if out_of_attempts or out_of_time:
                why = "attempts" if out_of_attempts else "time"
                metrics.count_consonance_call(label, "unavailable")
                raise ConsonanceUnavailable(
                    f"Consonance at {self.connection.host} unavailable for {label}: {failure} "
                    f"(gave up after {attempt} attempt(s), {elapsed:.1f}s; retry bound reached on {why})",
                    attempts=attempt,
                    elapsed=elapsed,
                    status=status,
                    retry_after=retry_after,
                )
            self.stats.retries += 1
            log.warning(
                "consonance %s failed (%s); retry %d in %.2fs",
                label,
                failure,
                attempt,
                delay,
                extra={"host": self.connection.host},
            )
            self._sleep(delay)

    def _take_place(self, label: str, remaining: float, attempt: int, started: float) -> str | None:
        """A place in the tenant's request budget, waiting at most what is left of this call's time."""
        if self.budget is None:
            return None
        try:
            return self.budget.take(max(0.0, remaining))
        except BudgetExhausted as exc:
            metrics.count_consonance_call(label, "budget")
            raise ConsonanceUnavailable(
                f"Consonance at {self.connection.host} was not asked for {label}: {exc}",
                attempts=attempt - 1,
                elapsed=self._clock() - started,
                retry_after=exc.wait,
            ) from exc

    def _attempt(self, body: dict, label: str, remaining: float) -> _Outcome:
        """One HTTP round trip: the data, or a retryable failure; raises on failures retrying cannot fix."""
        opts = self.options
        read_timeout = max(0.05, min(opts.read_timeout, remaining))
        self.stats.requests += 1
        encoded = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        try:
            answer = self._post(encoded, opts.connect_timeout, read_timeout)
        except ConnectTimedOut:
            return _Outcome(failure=f"connect timeout after {opts.connect_timeout:.2f}s")
        except ReadTimedOut:
            return _Outcome(failure=f"read timeout after {read_timeout:.2f}s")
        except OSError as exc:  # refused, unreachable, an address the policy refuses, reset, TLS, a body cut short
            log.info("consonance %s: %s", label, exc, extra={"host": self.connection.host})
            return _Outcome(failure=f"connection failed ({type(exc).__name__})")
        content = answer.body
        self.stats.bytes_received += len(content)
        status = answer.status
        if 300 <= status < 400:
            metrics.count_consonance_call(label, "redirected")
            raise ConsonanceQueryError(
                f"Consonance at {self.connection.host} answered {label} with a redirect (HTTP {status}), "
                "which is not followed",
                operation=label,
            )
        if status in RETRYABLE_STATUSES:
            retry_after = _retry_after_seconds(answer.headers.get("retry-after"))
            return _Outcome(failure=f"HTTP {status}", retry_after=retry_after, status=status)
        if status in (401, 403):
            metrics.count_consonance_call(label, "auth_refused")
            raise ConsonanceAuthError(
                f"Consonance at {self.connection.host} refused the API key (HTTP {status})", status=status
            )
        try:
            payload = json.loads(content)
        except ValueError:
            if status >= 400:
                raise ConsonanceQueryError(f"Consonance rejected {label} with HTTP {status}", operation=label) from None
            return _Outcome(failure=f"HTTP {status} with a body that is not JSON", status=status)
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            raise _graphql_error(label, errors, self.connection.host)
        if status >= 400 or not isinstance(payload, dict) or payload.get("data") is None:
            raise ConsonanceQueryError(f"Consonance rejected {label} with HTTP {status}", operation=label)
        return _Outcome(data=payload["data"], status=status)

    def _post(self, body: bytes, connect_timeout: float, read_timeout: float) -> Answer:
        """POST `body` to the GraphQL URL over a kept connection. Read whole, decoded; never retried or
        redirected here (the key goes to the saved host only; `execute` owns the retries)."""
        return self.connections.exchange(
            self._post_head(), body, connect_timeout=connect_timeout, read_timeout=read_timeout
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter; a server's Retry-After is a floor, never shortened."""
        opts = self.options
        backoff = backoff_delay(
            attempt - 1, base=opts.backoff_base, cap=opts.backoff_max, jitter=opts.jitter, rand=self._rand
        )
        return max(backoff, retry_after) if retry_after is not None else backoff


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (it may be a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _graphql_error(label: str, errors: list, host: str) -> Exception:
    messages = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
    codes = {((e.get("extensions") or {}).get("code") or "").upper() for e in errors if isinstance(e, dict)}
    if codes & {"UNAUTHENTICATED", "FORBIDDEN", "UNAUTHORIZED"}:
        return ConsonanceAuthError(f"Consonance at {host} refused the API key: {'; '.join(messages)}")
    return ConsonanceQueryError(f"Consonance rejected {label}: {'; '.join(messages)}", operation=label, errors=errors)


def raise_for_payload_errors(label: str, payload: dict | None) -> None:
    """Mutations report refused values as `errors { field messages }` in their payload: raise them by field."""
    if not payload:
        return
    field_errors: dict[str, list[str]] = {}
    for error in payload.get("errors") or []:
        name = error.get("field") or "base"
        field_errors.setdefault(name, []).extend(error.get("messages") or [])
    if field_errors:
        raise ConsonanceValidationError(label, field_errors)
