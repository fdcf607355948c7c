"""A polite client for a customer's server: one request budget per tenant, shared by every process.

A tenant's Consonance is the customer's own system, not ours to load. Every request the app sends to
it first takes a place in the tenant's budget: at most `per_minute` requests in each minute and
`concurrency` at once, counted in Redis so web processes, workers and the scheduler share one count
(in-process counting when there is no Redis, as in the embedded mode). A request that has to wait is served in
its turn, whichever process it is in. When Consonance answers 429,
the pause it asks for (`Retry-After`) is kept in the same place, so no process asks again before it ends.
A Redis failure never stops a request: the budget then counts in-process until Redis answers again.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger("addon.consonance.budget")

LEASE_SECONDS = 120.0  # a place held longer than this (a killed process) is given back
SLOW_WAIT_SECONDS = 1.0  # a wait this long is logged: the budget is what a slow view waited for
POLL_SECONDS = 0.02  # how often the longest waiter in a process looks for a place freed elsewhere
WOKEN_POLL_SECONDS = 0.25  # the same when give-backs elsewhere wake it (a bus): only for a message lost
QUEUE_LEASE_SECONDS = 1.0  # a queued request whose process has not asked again for this long is dropped
_LOCAL = object()  # what `_shared` answers without Redis, or when Redis fails: count in-process
_PAUSED = "Consonance asked the app to slow down (HTTP 429)"

# The rule for taking a place, as a Lua function: the budget's own script calls it, and so does the one another
# module sends in its own round trip (`PlaceAhead`). Answers {0} when a place is taken, {1, until} while
# Consonance's pause holds, {2} when the minute's budget is used, {3} when every slot is in flight or the free
# ones are owed to requests queued before this one (nothing counted then).
#
# The queue is what makes the wait fair across processes: a request that found every slot taken joins it
# (`join_until`, its lease: it is dropped if its process stops asking, as a killed one does), and a slot that
# comes free goes to the queue in the order it joined; a newcomer, or a view's place taken ahead, takes one only
# when more are free than requests wait. Only the longest waiter in each process joins (the others wait behind
# it in their process, in order), so the slots go round the processes that have requests waiting.
# Places and queued requests whose lease ran out (a killed process's) are dropped first; answers the slots free.
_DROP_EXPIRED = """
local function free_after_dropping_expired(in_flight, queue, queue_lease, now, concurrency)
  redis.call('ZREMRANGEBYSCORE', in_flight, '-inf', now)
  local stale = redis.call('ZRANGEBYSCORE', queue_lease, '-inf', now)
  if #stale > 0 then
    redis.call('ZREM', queue, unpack(stale))
    redis.call('ZREM', queue_lease, unpack(stale))
  end
  return tonumber(concurrency) - redis.call('ZCARD', in_flight)
end
"""
_PLACE_RULE = (
    _DROP_EXPIRED
    + """
local function take_place(pause, minute, in_flight, queue, queue_lease,
                          now, lease_until, per_minute, concurrency, token, join_until)
  local paused_until = tonumber(redis.call('GET', pause) or '0')
  if paused_until > tonumber(now) then return {1, tostring(paused_until)} end
  local free = free_after_dropping_expired(in_flight, queue, queue_lease, now, concurrency)
  local rank = redis.call('ZRANK', queue, token)
  local ahead = rank or redis.call('ZCARD', queue)
  if free > ahead then
    local used = redis.call('INCR', minute)
    if used == 1 then redis.call('EXPIRE', minute, 120) end
    if used > tonumber(per_minute) then
      redis.call('DECR', minute)
      return {2}
    end
    redis.call('ZADD', in_flight, lease_until, token)
    redis.call('EXPIRE', in_flight, 600)
    if rank then
      redis.call('ZREM', queue, token)
      redis.call('ZREM', queue_lease, token)
    end
    return {0}
  end
  if join_until ~= '' then
    if not rank then redis.call('ZADD', queue, now, token) end
    redis.call('ZADD', queue_lease, join_until, token)
    redis.call('EXPIRE', queue, 600)
    redis.call('EXPIRE', queue_lease, 600)
  end
  return {3}
end
"""
)
# One round trip per place taken. KEYS: pause, this minute's count, in-flight set, queue, queue leases; ARGV: now,
# lease expiry, per-minute cap, concurrency cap, token, queue lease expiry ('' to take a place only if one is
# free, without joining the queue).
_TAKE_PLACE = (
    _PLACE_RULE
    + "return take_place(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], "
    + "ARGV[6])"
)
# The same, taken only while KEYS[6] holds ARGV[7] (the lock the same round trip just tried to take), else {4}:
# a view that finds the title cached, or someone else fetching it, asks Consonance nothing and takes nothing.
_TAKE_PLACE_IF_HELD = (
    _PLACE_RULE
    + """
if redis.call('GET', KEYS[6]) ~= ARGV[7] then return {4} end
return take_place(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""
)
# A place given back. KEYS: in-flight set, queue, queue leases; ARGV: token, channel ('' for none), message
# prefix, now, concurrency cap. When requests are queued, the message names those the free places now go to
# (`woken`): only their processes look, not every process with a waiter.
_GIVE_BACK = (
    _DROP_EXPIRED
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '' then return 1 end
local free = free_after_dropping_expired(KEYS[1], KEYS[2], KEYS[3], ARGV[4], ARGV[5])
if free > 0 then
  local next_in_line = redis.call('ZRANGE', KEYS[2], 0, free - 1)
  if #next_in_line > 0 then redis.call('PUBLISH', ARGV[2], ARGV[3] .. ':' .. table.concat(next_in_line, ',')) end
end
return 1
"""
)
# + the budget's name, ':', and the queued requests now served (comma-separated): a place came free for them
WAKE_PREFIX = "budget-freed:"


_AHEAD: contextvars.ContextVar[PlaceAhead | None] = contextvars.ContextVar("consonance_place_ahead", default=None)


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
        wake_channel: str = "",
    ):
        self.name = name
        self.per_minute = max(1, int(per_minute))
        self.concurrency = max(1, int(concurrency))
        self.redis = redis
        self._clock = clock
        self._lock = threading.Lock()
        # This process's waiters, served in arrival order: each sleeps on its own event, and only the one whose
        # turn it is is woken (a place given back, the waiter ahead leaving). Waking all of them on each of those
        # cost a burst of first views more CPU in wake-ups than in their requests.
        self._turns = threading.Lock()
        self._queue: deque[tuple[str, threading.Event]] = deque()
        self._head_waits_for: str | None = None  # why the longest waiter here was last refused
        self._local_counts: dict[int, int] = {}
        self._local_in_flight: dict[str, float] = {}
        self._local_pause_until = 0.0
        self._take = redis.register_script(_TAKE_PLACE) if redis is not None else None
        self._give = redis.register_script(_GIVE_BACK) if redis is not None else None
        self.wake_channel = wake_channel  # where a give-back says so when requests are queued (the app's bus)

    # --- keys ---------------------------------------------------------------------------------

    def _key(self, part: str) -> str:
        return f"c4c:consonance-budget:{self.name}:{part}"

    # --- taking and giving back ---------------------------------------------------------------

    def take(self, max_wait: float) -> str:
        """Wait (at most `max_wait` seconds) for a place: no pause in force, room this minute, a free slot.
        A place already taken for this call in another module's round trip (`PlaceAhead.in_use`) is used as it is.

        This process's waiters are served in the order they came, and a place given back here goes to the
        longest waiter at once: polling alone let a newcomer take a freed place while an earlier request
        slept, so under load a few requests waited seconds while the rest went straight through. Across
        processes the longest waiter of each joins one queue in Redis (`_PLACE_RULE`), and a place given back
        while it is not empty wakes them through the app's bus (`woken`); polling remains for a lost message."""
        ahead = _AHEAD.get()
        if ahead is not None and ahead.budget is self and ahead.use():
            return ahead.token
        started = self._clock()
        deadline = started + max(0.0, max_wait)
        token, turn = uuid.uuid4().hex, threading.Event()
        queued = False  # in the queue every process shares
        with self._turns:
            self._queue.append((token, turn))
        try:
            while True:
                while not self._is_head(token):
                    left = deadline - self._clock()
                    if left <= 0:
                        reason = self._head_waits_for or self._all_in_flight()
                        raise BudgetExhausted(f"waited for the request budget: {reason}", POLL_SECONDS)
                    turn.wait(min(left, 1.0))
                    turn.clear()  # before looking again: a wake-up after this is kept for the next wait
                now = self._clock()
                refused = self._try_place(now, token, join=True)
                if refused is None:
                    queued = False  # taking the place left the queue
                    if now - started >= SLOW_WAIT_SECONDS:
                        log.warning("waited %.2fs for a place in %s's request budget", now - started, self.name)
                    return token
                wait, reason = refused
                queued = queued or reason == self._all_in_flight()  # refused for a slot: it joined the queue
                self._head_waits_for = reason  # what the waiters behind this one are waiting for too
                if now + wait > deadline:
                    raise BudgetExhausted(f"waited for the request budget: {reason}", wait)
                if wait == POLL_SECONDS and self.wake_channel:
                    wait = WOKEN_POLL_SECONDS  # a place freed elsewhere wakes it (`woken`); polling is the fallback
                turn.wait(min(wait, 1.0))  # or until a place is given back in this process
                turn.clear()
        finally:
            if queued:  # gave up, or failed: the requests behind it must not wait for it
                self._shared(lambda r: r.zrem(self._key("queue"), token) + r.zrem(self._key("queue-lease"), token))
            with self._turns:
                was_head = self._queue[0][0] == token
                self._queue.remove((token, turn))
                if was_head:  # the next one's turn: the rest keep sleeping
                    self._head_waits_for = None
                    self._wake_head()

    def _is_head(self, token: str) -> bool:
        with self._turns:
            return self._queue[0][0] == token

    def _wake_head(self) -> None:
        """Wake the longest waiter here (with `_turns` held), and no other: it is the one a free place goes to."""
        if self._queue:
            self._queue[0][1].set()

    def _try_place(self, now: float, token: str, *, join: bool = False) -> tuple[float, str] | None:
        """Take a place now (None), or say how long to wait and why; `join`: queue for one if the slots are taken."""
        take = self._take  # the script exists exactly when Redis does
        answer = (
            _LOCAL
            if take is None
            else self._shared(lambda r: take(keys=self._place_keys(now), args=self._place_args(now, token, join)))
        )
        if answer is _LOCAL or not isinstance(answer, list):
            return self._try_place_locally(now, token)
        return self._refusal(answer, now)

    def _place_keys(self, now: float) -> list[str]:
        return [
            self._key("pause"),
            self._key(f"minute:{int(now // 60)}"),
            self._key("in-flight"),
            self._key("queue"),
            self._key("queue-lease"),
        ]

    def _place_args(self, now: float, token: str, join: bool = False) -> list:
        return [
            now,
            now + LEASE_SECONDS,
            self.per_minute,
            self.concurrency,
            token,
            now + QUEUE_LEASE_SECONDS if join else "",
        ]

    def _give_back_keys_args(self, token: str) -> tuple[list[str], list]:
        keys = [self._key("in-flight"), self._key("queue"), self._key("queue-lease")]
        return keys, [token, self.wake_channel, WAKE_PREFIX + self.name, self._clock(), self.concurrency]

    def _refusal(self, answer: list, now: float) -> tuple[float, str] | None:
        """The place-taking rule's answer as `_try_place` says it: None for a place taken, else (wait, why)."""
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

    def waiting(self) -> int:
        """Requests in this process waiting for a place now."""
        with self._turns:
            return len(self._queue)

    def give_back(self, token: str) -> None:
        ahead = _AHEAD.get()
        if ahead is not None and ahead.budget is self and ahead.token and ahead.token == token:
            ahead.owe()  # given back in the round trip that took it comes next (or alone, at the latest when it ends)
            if self.waiting():  # unless a request here waits for a place: it gets this one now, not after that trip
                ahead.finish()
            return
        self._send_give_back(token)
        self._freed(token)

    def _send_give_back(self, token: str) -> None:
        give = self._give
        if give is not None:
            keys, args = self._give_back_keys_args(token)
            self._shared(lambda r: give(keys=keys, args=args))

    def woken(self, served: str | None = None) -> None:
        """A place came free in another process while requests were queued (the app's bus said so): the longest
        waiter here looks now, not at its next poll, if it is one of those `served` (comma-separated tokens; None
        when the message names none, as an earlier version's did)."""
        with self._turns:
            if self._queue and (served is None or self._queue[0][0] in served.split(",")):
                self._wake_head()

    def _freed(self, token: str) -> None:
        with self._lock:
            self._local_in_flight.pop(token, None)
        with self._turns:
            self._wake_head()  # the longest waiter here takes the place now, not at its next poll

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


class PlaceAhead:
    """A place in a budget taken in another module's round trip to Redis rather than in one of its own.

    A first view asks the macro cache for its title and, in the same trip, for a place should the cache's lock
    come to it (`on_lookup`); the request the view then sends uses that place (`in_use`), and the place goes
    back with the cache's write (`on_write`). What those trips did not carry, `finish` does alone, so no place
    outlives the view. A place the trip could not take (a pause, the minute used, every slot in flight) is
    waited for by the request as any other is: nothing about the rules changes, only the round trips."""

    def __init__(self, budget: RequestBudget):
        self.budget = budget
        self.token = ""  # chosen when the trip is made: most views never make one (this process's copy answers)
        self._taken = False  # Redis holds the place
        self._used = False  # a request took it
        self._owed = False  # the request is done with it: it goes back with the next trip
        self._sent = False  # that trip has gone: its answer says whether the place is back

    def on_lookup(self, pipe, lock: tuple[str, str]) -> int:
        """Take a place in the lookup's trip, only if that trip's lock (key, token) is taken for this view; not
        while requests in this process wait for a place (they are served in the order they came: a view that
        took one ahead would overtake them, again and again under a burst)."""
        if self.budget.waiting():
            return 0
        budget, now = self.budget, self.budget._clock()
        self.token = uuid.uuid4().hex
        keys = [*budget._place_keys(now), lock[0]]
        pipe.eval(_TAKE_PLACE_IF_HELD, len(keys), *keys, *budget._place_args(now, self.token), lock[1])
        return 1

    def looked_up(self, answers: list) -> None:
        answer = answers[0]
        self._taken = isinstance(answer, list) and bool(answer) and int(answer[0]) == 0

    @contextmanager
    def in_use(self) -> Iterator[None]:
        """While inside, the budget's `take` hands this place to the first request (once)."""
        reset = _AHEAD.set(self)
        try:
            yield
        finally:
            _AHEAD.reset(reset)

    def use(self) -> bool:
        if self._taken and not self._used:
            self._used = True
            return True
        return False

    def owe(self) -> None:
        self._owed = True

    def _due(self) -> bool:
        """Held in Redis, no request is using it, and no trip is giving it back: it may go back."""
        return self._taken and not self._sent and (self._owed or not self._used)

    def on_write(self, pipe) -> int:
        if not self._due():
            return 0
        keys, args = self.budget._give_back_keys_args(self.token)
        pipe.eval(_GIVE_BACK, len(keys), *keys, *args)
        self._sent = True
        return 1

    def written(self, answers: list) -> None:
        self._sent = False
        if isinstance(answers[0], Exception):
            self.finish()  # the trip failed: once more alone (counted in-process if Redis is down)
        else:
            self._returned()

    def finish(self) -> None:
        """Give the place back now if no trip has or will (the view ended without a write, or the write went
        elsewhere)."""
        if self._due():
            self.budget._send_give_back(self.token)
            self._returned()

    def _returned(self) -> None:
        self._taken = False
        self.budget._freed(self.token)
