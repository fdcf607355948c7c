"""A polite client for a customer's server: one request budget per tenant, shared by every process.

A tenant's Consonance is the customer's own system, not ours to load. Every request the app sends to
it first takes a place in the tenant's budget: at most `per_minute` requests in each minute and
`concurrency` at once, counted in Redis so web processes, workers and the scheduler share one count
(in-process counting when there is no Redis, as in the embedded mode). When Consonance answers 429,
the pause it asks for (`Retry-After`) is kept in the same place, so no process asks again before it ends.
A Redis failure never stops a request: the budget then counts in-process until Redis answers again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("addon.consonance.budget")

LEASE_SECONDS = 120.0  # a place held longer than this (a killed process) is given back
POLL_SECONDS = 0.02  # how often the longest waiter in a process looks for a place freed elsewhere
_LOCAL = object()  # what `_shared` answers without Redis, or when Redis fails: count in-process
_PAUSED = "Consonance asked the app to slow down (HTTP 429)"

# One round trip per place taken. KEYS: pause, this minute's count, in-flight set; ARGV: now, lease expiry,
# per-minute cap, concurrency cap, token. Answers {0} when a place is taken, {1, until} while Consonance's
# pause holds, {2} when the minute's budget is used, {3} when every slot is in flight (nothing counted then).
_TAKE_PLACE = """
local paused_until = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused_until > tonumber(ARGV[1]) then return {1, tostring(paused_until)} end
local used = redis.call('INCR', KEYS[2])
if used == 1 then redis.call('EXPIRE', KEYS[2], 120) end
if used > tonumber(ARGV[3]) then
  redis.call('DECR', KEYS[2])
  return {2}
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[3]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[5])
  redis.call('EXPIRE', KEYS[3], 600)
  return {0}
end
redis.call('DECR', KEYS[2])
return {3}
"""


class BudgetExhausted(Exception):
    """No place in the tenant's budget came free within the time the caller could wait."""

    def __init__(self, message: str, wait: float):
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class BudgetUsage:
    per_minute: int
    used_this_minute: int
    concurrency: int
    in_flight: int
    paused_for: float  # seconds left of a pause Consonance asked for (429), 0 when none
    shared: bool  # counted in Redis (every process) rather than in this process only


class RequestBudget:
    """Places for requests to one tenant's Consonance: `take(max_wait)` before sending, `give_back(token)` after."""

    def __init__(
        self,
        name: str,
        per_minute: int,
        concurrency: int,
        redis=None,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self.name = name
        self.per_minute = max(1, int(per_minute))
        self.concurrency = max(1, int(concurrency))
        self.redis = redis
        self._clock = clock
        self._lock = threading.Lock()
        self._turns = threading.Condition()  # this process's waiters, served in arrival order (`_queue`)
        self._queue: deque[str] = deque()
        self._head_waits_for: str | None = None  # why the longest waiter here was last refused
        self._local_counts: dict[int, int] = {}
        self._local_in_flight: dict[str, float] = {}
        self._local_pause_until = 0.0
        self._take = redis.register_script(_TAKE_PLACE) if redis is not None else None

    # --- keys ---------------------------------------------------------------------------------

    def _key(self, part: str) -> str:
        return f"c4c:consonance-budget:{self.name}:{part}"

    # --- taking and giving back ---------------------------------------------------------------

    def take(self, max_wait: float) -> str:
        """Wait (at most `max_wait` seconds) for a place: no pause in force, room this minute, a free slot.

        This process's waiters are served in the order they came, and a place given back here goes to the
        longest waiter at once: polling alone let a newcomer take a freed place while an earlier request
        slept, so under load a few requests waited seconds while the rest went straight through. Places
        freed by other processes are noticed by the longest waiter's polling."""
        deadline = self._clock() + max(0.0, max_wait)
        token = uuid.uuid4().hex
        with self._turns:
            self._queue.append(token)
        try:
            while True:
                with self._turns:
                    while self._queue[0] != token:
                        left = deadline - self._clock()
                        if left <= 0:
                            reason = self._head_waits_for or self._all_in_flight()
                            raise BudgetExhausted(f"waited for the request budget: {reason}", POLL_SECONDS)
                        self._turns.wait(min(left, 1.0))
                now = self._clock()
                refused = self._try_place(now, token)
                if refused is None:
                    return token
                wait, reason = refused
                self._head_waits_for = reason  # what the waiters behind this one are waiting for too
                if now + wait > deadline:
                    raise BudgetExhausted(f"waited for the request budget: {reason}", wait)
                with self._turns:
                    self._turns.wait(min(wait, 1.0))  # or until a place is given back in this process
        finally:
            with self._turns:
                if self._queue[0] == token:
                    self._head_waits_for = None
                self._queue.remove(token)
                self._turns.notify_all()

    def _try_place(self, now: float, token: str) -> tuple[float, str] | None:
        """Take a place now (None), or say how long to wait and why."""
        take = self._take  # the script exists exactly when Redis does
        answer = (
            _LOCAL
            if take is None
            else self._shared(
                lambda r: take(
                    keys=[self._key("pause"), self._key(f"minute:{int(now // 60)}"), self._key("in-flight")],
                    args=[now, now + LEASE_SECONDS, self.per_minute, self.concurrency, token],
                )
            )
        )
        if answer is _LOCAL or not isinstance(answer, list):
            return self._try_place_locally(now, token)
        verdict = int(answer[0])
        if verdict == 0:
            return None
        if verdict == 1:
            return max(0.0, float(answer[1]) - now), _PAUSED
        if verdict == 2:
            return 60.0 - now % 60.0, self._minute_used()
        return POLL_SECONDS, self._all_in_flight()

    def _try_place_locally(self, now: float, token: str) -> tuple[float, str] | None:
        """The same rules counted in this process (no Redis, or Redis failing)."""
        minute = int(now // 60)
        with self._lock:
            if self._local_pause_until > now:
                return self._local_pause_until - now, _PAUSED
            self._local_counts = {m: c for m, c in self._local_counts.items() if m >= minute - 1}
            if self._local_counts.get(minute, 0) >= self.per_minute:
                return 60.0 - now % 60.0, self._minute_used()
            self._local_in_flight = {t: e for t, e in self._local_in_flight.items() if e > now}
            if len(self._local_in_flight) >= self.concurrency:
                return POLL_SECONDS, self._all_in_flight()
            self._local_counts[minute] = self._local_counts.get(minute, 0) + 1
            self._local_in_flight[token] = now + LEASE_SECONDS
            return None

    def _minute_used(self) -> str:
        return f"the site's budget of {self.per_minute} requests a minute is used"

    def _all_in_flight(self) -> str:
        return f"{self.concurrency} requests are already in flight for the site"

    def give_back(self, token: str) -> None:
        self._shared(lambda r: r.zrem(self._key("in-flight"), token))
        with self._lock:
            self._local_in_flight.pop(token, None)
        with self._turns:
            self._turns.notify_all()  # the longest waiter here takes the place now, not at its next poll

    def pause(self, seconds: float) -> None:
        """Consonance answered 429: nobody sends for `seconds` (a longer pause already set is kept)."""
        seconds = max(0.0, min(float(seconds), 3600.0))
        until = self._clock() + seconds
        if self._shared(lambda r: _keep_later(r, self._key("pause"), until, seconds)) is _LOCAL:
            with self._lock:
                self._local_pause_until = max(self._local_pause_until, until)
        log.warning("Consonance asked to slow down: pausing requests for %s for %.1fs", self.name, seconds)

    def resume(self) -> None:
        """A person asked to try now (the admin's Retry): lift a pause for everyone; the budget still counts."""
        with self._lock:
            self._local_pause_until = 0.0
        self._shared(lambda r: r.delete(self._key("pause")))

    # --- what the Activity page and /metrics show ----------------------------------------------

    def usage(self) -> BudgetUsage:
        now = self._clock()
        minute = int(now // 60)

        def read(r):
            used = int(r.get(self._key(f"minute:{minute}")) or 0)
            r.zremrangebyscore(self._key("in-flight"), "-inf", now)
            return used, int(r.zcard(self._key("in-flight")))

        shared = self._shared(read)
        with self._lock:
            local = (self._local_counts.get(minute, 0), len(self._local_in_flight))
        used, in_flight = local if shared is _LOCAL else shared
        return BudgetUsage(
            self.per_minute, used, self.concurrency, in_flight, round(self._pause_left(now), 1), shared is not _LOCAL
        )

    # --- internals ------------------------------------------------------------------------------

    def _shared(self, action):
        """Run `action(redis)`; `_LOCAL` without Redis or when Redis fails (the in-process count then serves)."""
        if self.redis is None:
            return _LOCAL
        try:
            return action(self.redis)
        except Exception as exc:  # a Redis failure must never stop a request
            log.warning("request budget for %s counted in-process (Redis: %s)", self.name, exc.__class__.__name__)
            return _LOCAL

    def _pause_left(self, now: float) -> float:
        shared = self._shared(lambda r: r.get(self._key("pause")))
        if shared is _LOCAL:
            with self._lock:
                shared = self._local_pause_until
        return max(0.0, float(shared or 0.0) - now)


def _keep_later(r, key: str, until: float, seconds: float) -> None:
    current = r.get(key)
    if current is None or float(current) < until:
        r.set(key, repr(until), px=max(1, int(seconds * 1000)))
