"""The macro cache: shared, fresh for a window, stale when the source is down, single-flight.

However many people open the same uncached title at once, one of them (in any process, on any
machine sharing the Redis) asks Consonance; the rest wait for that answer, or, when an older
answer exists, get it at once marked as refreshing. When Consonance fails, the last good
answer is served with its "as of" time and the reason.

With a Redis store and an invalidation bus (production), a process keeps the entries it has read and
serves hits from memory without asking Redis, trusted only while its pub/sub subscription is up: every
write that replaces an entry publishes the key, and every process drops its copy when the message arrives
(milliseconds). A first write publishes nothing: no process can hold a copy of an entry Redis never had.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from addon import metrics
from addon.logs import OncePer
from addon.macros import codec

log = logging.getLogger("addon.macros.cache")

KEEP_SECONDS = 7 * 24 * 3600  # how long a last-good answer is kept for fallback
LEASE_SECONDS = 30  # a fetcher that dies frees the flight after this
DECODED_ENTRIES = 512  # decoded titles kept per process
ERROR_RETRY_SECONDS = 30  # after a failed refresh, the next try at Consonance waits this long
BUS_PREFIX = "macro:"
_UNREAD: Any = object()  # `_read` without data already read from the store


class CacheWaitTimeout(Exception):
    """Another request is fetching this title and did not finish in time."""


@dataclass(frozen=True)
class Lookup:
    value: Any
    fetched_at: float  # epoch seconds of the Consonance answer shown
    fresh: bool  # within the freshness window
    refreshing: bool = False  # someone is fetching a newer answer right now
    error: str | None = None  # why a stale answer is shown (Consonance down, ...)
    fetched_here: bool = False


class AfterAnswer:
    """What a view left for after its answer (see `writes_after_answer`); calling it does it, once."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []
        self.keys: set[str] = set()  # entries whose writes wait here (their locks are held until then)

    def __bool__(self) -> bool:
        return bool(self.pending)

    def __call__(self) -> None:
        while self.pending:
            self.pending.pop(0)()
        self.keys.clear()


# Inside `writes_after_answer`: what the view leaves for after its answer is sent.
_AFTER_ANSWER: ContextVar[AfterAnswer | None] = ContextVar("macro_cache_after_answer", default=None)


@contextmanager
def writes_after_answer() -> Iterator[AfterAnswer]:
    """Inside, a first view's write to the shared cache (encoding the title, the round trip, freeing the lock
    and the budget's place) is kept for later, in what this yields, which does it when called. The server
    calls it once the answer is on its way (`web.macro_lane`): the viewer does not wait for a write only later
    viewers need, ~0.7 ms of every first view here. Until then the lock stays held, so concurrent viewers of
    that title wait for the write as they would for the fetch. Inside another, the outer one keeps them."""
    if _AFTER_ANSWER.get() is not None:
        yield AfterAnswer()
        return
    after = AfterAnswer()
    reset = _AFTER_ANSWER.set(after)
    try:
        yield after
    finally:
        _AFTER_ANSWER.reset(reset)


def when_answered(job: Callable[[], None], key: str | None = None) -> None:
    """Run `job` now, or inside `writes_after_answer` once the answer is sent (with the logging context of
    now: the tenant and request it belongs to); `key`, the entry it writes."""
    after = _AFTER_ANSWER.get()
    if after is None:
        job()
        return
    after.pending.append(partial(copy_context().run, _logged, job))
    if key is not None:
        after.keys.add(key)


def _written_before_looking(key: str) -> None:
    """Inside `writes_after_answer`, a view that looks `key` up again first writes what it fetched: it holds
    the entry's lock until then, and would otherwise wait for itself."""
    after = _AFTER_ANSWER.get()
    if after is not None and key in after.keys:
        after()


def _logged(job: Callable[[], None]) -> None:
    try:
        job()
    except Exception:  # nobody is waiting to be told: the next viewer fetches again, the lock's lease runs out
        log.exception("a macro view's write after its answer failed")


class Rider(Protocol):
    """Another module's Redis commands sent in the cache's own round trips, so that a first view goes to Redis
    twice (look up, write) rather than once more for each thing it needs on the way. Each hook adds commands to
    the trip's pipeline and says how many; the answers come back to it. A store that cannot carry riders (this
    process's memory, or Redis failing) never calls them: a rider does alone whatever it was not carried for."""

    def on_lookup(self, pipe, lock: tuple[str, str]) -> int:
        """Commands for the lookup trip, which takes `lock` ((key, token)) when the entry is missing."""
        ...

    def looked_up(self, answers: list) -> None: ...

    def on_write(self, pipe) -> int:
        """Commands for the trip that writes the entry and frees the lock."""
        ...

    def written(self, answers: list) -> None: ...


# Each rider's hooks for one trip: add its commands to the pipeline (how many), and take their answers.
_Hooks = list[tuple[Callable[[Any], int], Callable[[list], None]]]


def _hand_back(hooks: _Hooks, counts: list[int], answers: list) -> None:
    """Give each rider the answers to the commands it added, which follow the script's own answer."""
    at = 1
    for (_, answered), count in zip(hooks, counts, strict=True):
        if count:
            answered(answers[at : at + count])
        at += count


class MemoryStore:
    """One process's store (embedded default); the same contract as RedisStore."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._locks: dict[str, tuple[str, float]] = {}
        self._mutex = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._mutex:
            return self._get_held(key)

    def _get_held(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None or item[1] < time.monotonic():
            self._data.pop(key, None)
            return None
        return item[0]

    def set(self, key: str, data: bytes, ttl: float) -> None:
        with self._mutex:
            self._data[key] = (data, time.monotonic() + ttl)

    def delete(self, key: str) -> None:
        with self._mutex:
            self._data.pop(key, None)

    def lock(self, key: str, lease: float) -> str | None:
        with self._mutex:
            return self._lock_held(key, lease)

    def _lock_held(self, key: str, lease: float) -> str | None:
        held = self._locks.get(key)
        if held and held[1] > time.monotonic():
            return None
        token = uuid.uuid4().hex
        self._locks[key] = (token, time.monotonic() + lease)
        return token

    def unlock(self, key: str, token: str) -> None:
        with self._mutex:
            if self._locks.get(key, (None,))[0] == token:
                del self._locks[key]

    def allow(self, key: str, per_seconds: float) -> bool:
        """At most one True per key per interval (rate limits such as Refresh)."""
        return self.lock("rate:" + key, per_seconds) is not None

    def lock_and_get(self, key: str, lease: float) -> tuple[str | None, bytes | None]:
        """`lock`, and what `key` holds once it is taken (one round trip in a shared store)."""
        with self._mutex:
            return self._lock_held(key, lease), self._get_held(key)

    def set_and_unlock(
        self,
        key: str,
        data: bytes,
        ttl: float,
        token: str,
        announce: tuple[str, str] | None = None,
        riders: Sequence[Rider] = (),
    ) -> bool:
        """`set`, then `unlock` (one round trip in a shared store), and with `announce` ((channel, message))
        tell the other processes there in the same trip, which a shared store does only when the write replaced
        an entry (a first write has no copies elsewhere to drop); True when the store took care of telling
        them (a memory store has nowhere to). A shared store carries `riders` in the same trip; this one does
        not."""
        self.set(key, data, ttl)
        self.unlock(key, token)
        return False

    def get_or_lock(self, key: str, lease: float, riders: Sequence[Rider] = ()) -> tuple[str | None, bytes | None]:
        """What `key` holds; when it holds nothing, `lock` too (one round trip in a shared store, `riders` with it)."""
        with self._mutex:  # as one step, as Redis runs the script: a write between the two would be fetched again
            data = self._get_held(key)
            return (None if data is not None else self._lock_held(key, lease)), data


_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""
# KEYS: the entry, its lock; ARGV: data, ttl in s, token, channel ('' for none), message. Write, release the
# lock if still ours, and tell the other processes when the write replaced an entry, in one round trip. A first
# write is not announced: another process can only hold a copy of an entry Redis holds, so there is nothing to
# drop, and the message would wake every process's listener on every first view for nothing. The one exception,
# a copy of an entry Redis evicted or lost, is served only while its own freshness window lasts, as any copy is.
# Answers 1 when it published.
_SET_UNLOCK_ANNOUNCE = """
local replaced = redis.call('exists', KEYS[1])
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
if redis.call('get', KEYS[2]) == ARGV[3] then redis.call('del', KEYS[2]) end
if ARGV[4] ~= '' and replaced == 1 then
  redis.call('publish', ARGV[4], ARGV[5])
  return 1
end
return 0
"""
# KEYS: the entry, its lock; ARGV: token, lease in ms. The entry, or (when there is none) the lock if free.
_GET_OR_LOCK = """
local data = redis.call('get', KEYS[1])
if data then return {data, 0} end
if redis.call('set', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {false, 1} end
return {false, 0}
"""


class RedisStore:
    """Shared across processes and machines; locks are `SET NX PX` with a token-checked release."""

    def __init__(self, redis_client, prefix: str = "c4c:macro:"):
        self.redis = redis_client
        self.prefix = prefix
        self._unlock = redis_client.register_script(_UNLOCK)
        self._get_or_lock = redis_client.register_script(_GET_OR_LOCK)
        self._set_unlock_announce = redis_client.register_script(_SET_UNLOCK_ANNOUNCE)

    def get(self, key: str) -> bytes | None:
        return self.redis.get(self.prefix + key)

    def set(self, key: str, data: bytes, ttl: float) -> None:
        self.redis.set(self.prefix + key, data, ex=max(1, int(ttl)))

    def delete(self, key: str) -> None:
        self.redis.delete(self.prefix + key)

    def lock(self, key: str, lease: float) -> str | None:
        token = uuid.uuid4().hex
        acquired = self.redis.set(self.prefix + "lock:" + key, token, nx=True, px=int(lease * 1000))
        return token if acquired else None

    def unlock(self, key: str, token: str) -> None:
        self._unlock(keys=[self.prefix + "lock:" + key], args=[token])

    def allow(self, key: str, per_seconds: float) -> bool:
        return bool(self.redis.set(self.prefix + "rate:" + key, b"1", nx=True, px=int(per_seconds * 1000)))

    def lock_and_get(self, key: str, lease: float) -> tuple[str | None, bytes | None]:
        token = uuid.uuid4().hex
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.prefix + "lock:" + key, token, nx=True, px=int(lease * 1000))
            pipe.get(self.prefix + key)
            acquired, data = pipe.execute()
        return (token if acquired else None), data

    def set_and_unlock(
        self,
        key: str,
        data: bytes,
        ttl: float,
        token: str,
        announce: tuple[str, str] | None = None,
        riders: Sequence[Rider] = (),
    ) -> bool:
        channel, message = announce or ("", "")
        keys = [self.prefix + key, self.prefix + "lock:" + key]
        args = [data, max(1, int(ttl)), token, channel, message]
        if riders:
            self._with_riders(_SET_UNLOCK_ANNOUNCE, keys, args, [(rider.on_write, rider.written) for rider in riders])
        else:
            self._set_unlock_announce(keys=keys, args=args)
        return announce is not None

    def get_or_lock(self, key: str, lease: float, riders: Sequence[Rider] = ()) -> tuple[str | None, bytes | None]:
        token = uuid.uuid4().hex
        keys = [self.prefix + key, self.prefix + "lock:" + key]
        args = [token, int(lease * 1000)]
        if riders:
            lock = (keys[1], token)
            data, acquired = self._with_riders(
                _GET_OR_LOCK,
                keys,
                args,
                [(partial(rider.on_lookup, lock=lock), rider.looked_up) for rider in riders],
            )
        else:
            data, acquired = self._get_or_lock(keys=keys, args=args)
        return (token if acquired else None), data

    def _with_riders(self, script: str, keys: list, args: list, hooks: _Hooks) -> Any:
        """Run `script` with the riders' commands after it (each rider's (add, answered) hooks), in one round
        trip; the script's answer. Each rider is handed the answers to the commands it added.

        The script goes as EVAL with its text: redis-py would ask `SCRIPT EXISTS` first (a round trip of its
        own) for a registered script in a pipeline, and a bare EVALSHA could find it flushed after the others
        in the trip had run. Redis keeps the compiled script by its hash either way."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.eval(script, len(keys), *keys, *args)
            counts = [add(pipe) for add, _ in hooks]
            answers = pipe.execute(raise_on_error=False)
        if isinstance(answers[0], Exception):
            raise answers[0]
        _hand_back(hooks, counts, answers)
        return answers[0]


class FailoverStore:
    """The shared store, or this process's memory while the shared one cannot be reached.

    A Redis outage then costs views their sharing (each process caches and single-flights on its own, so
    Consonance is asked at most once per title per process) instead of failing them; the shared store is
    tried again on every call, so it is back as soon as Redis is.
    """

    def __init__(self, primary, errors: tuple[type[BaseException], ...], fallback=None):
        self.primary = primary
        self.fallback = fallback if fallback is not None else MemoryStore()
        self.errors = errors
        self._outage = OncePer(log)

    def _call(self, operation: str, *args):
        try:
            return getattr(self.primary, operation)(*args)
        except self.errors as exc:
            self._outage.warning(
                "shared macro cache unreachable (%s); this process caches on its own until it is back",
                exc.__class__.__name__,
            )
            return getattr(self.fallback, operation)(*args)

    def get(self, key: str) -> bytes | None:
        return self._call("get", key)

    def set(self, key: str, data: bytes, ttl: float) -> None:
        self._call("set", key, data, ttl)

    def delete(self, key: str) -> None:
        self._call("delete", key)

    def lock(self, key: str, lease: float) -> str | None:
        return self._call("lock", key, lease)

    def unlock(self, key: str, token: str) -> None:
        self._call("unlock", key, token)

    def allow(self, key: str, per_seconds: float) -> bool:
        return self._call("allow", key, per_seconds)

    def lock_and_get(self, key: str, lease: float) -> tuple[str | None, bytes | None]:
        return self._call("lock_and_get", key, lease)

    def set_and_unlock(
        self,
        key: str,
        data: bytes,
        ttl: float,
        token: str,
        announce: tuple[str, str] | None = None,
        riders: Sequence[Rider] = (),
    ) -> bool:
        return self._call("set_and_unlock", key, data, ttl, token, announce, riders)

    def get_or_lock(self, key: str, lease: float, riders: Sequence[Rider] = ()) -> tuple[str | None, bytes | None]:
        return self._call("get_or_lock", key, lease, riders)


class MacroCache:
    def __init__(
        self,
        store,
        *,
        clock: Callable[[], float] = time.time,
        wait_timeout: float = 20.0,
        poll_interval: float = 0.02,
        fallback_errors: tuple[type[BaseException], ...] = (Exception,),
        bus=None,
    ):
        self.store = store
        self.bus = bus
        self._heard = 0  # invalidations heard: a copy read across one is not trusted
        self.clock = clock
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.fallback_errors = fallback_errors
        # Decoded entries by key, reused while the stored bytes are unchanged: a cached page view
        # compares bytes instead of rebuilding a Title from JSON. Domain objects are frozen, so sharing is safe.
        # With a bus, the third item says the copy may be served without reading the store.
        self._decoded: OrderedDict[str, tuple[bytes, tuple, bool]] = OrderedDict()
        self._decoded_lock = threading.Lock()
        if bus is not None:
            bus.listen(BUS_PREFIX, self._forget, self._forget_all)

    def _forget(self, key: str) -> None:
        with self._decoded_lock:
            self._heard += 1
            self._decoded.pop(key, None)

    def _forget_all(self) -> None:
        with self._decoded_lock:
            self._heard += 1
            self._decoded.clear()

    def _changed(self, key: str) -> None:
        """After writing or deleting `key`: drop our copy now, and everyone else's when they hear of it."""
        if self.bus is not None:
            self._forget(key)
            self.bus.publish(BUS_PREFIX + key)

    def _remembered(self, key: str) -> tuple | None:
        """This process's copy of `key`, when it may be served without reading the store (the bus is
        listening and nothing was heard since the copy was read)."""
        if self.bus is None or not self.bus.healthy:
            return None
        with self._decoded_lock:
            known = self._decoded.get(key)
            if known is not None and known[2]:
                self._decoded.move_to_end(key)
                return known[1]
        return None

    def _read(
        self, key: str, stored: Any = _UNREAD, heard: int | None = None
    ) -> tuple[Any, float, str | None, float] | None:
        """(value, fetched_at, error of the last failed refresh or None, when it failed), or None. With
        `stored`, what the store was just asked for `key` is used instead of asking again; `heard`, the
        invalidations heard before that read (a copy read across one is not trusted)."""
        listening = self.bus is not None and self.bus.healthy
        if heard is None:
            with self._decoded_lock:
                heard = self._heard
        if stored is _UNREAD:
            known = self._remembered(key)
            if known is not None:
                return known
        data = self.store.get(key) if stored is _UNREAD else stored
        if data is None:
            return None
        with self._decoded_lock:
            trusted = listening and heard == self._heard
            known = self._decoded.get(key)
            if known is not None and known[0] == data:
                self._decoded[key] = (data, known[1], trusted)
                self._decoded.move_to_end(key)
                return known[1]
        try:
            envelope = json.loads(data)
            entry = (
                codec.loads(envelope["v"].encode("utf-8")),
                float(envelope["t"]),
                envelope.get("e"),
                float(envelope.get("et", 0)),
            )
        except (codec.CodecError, ValueError, KeyError, TypeError):
            log.warning("dropping an unreadable cache entry %s", key)
            self.store.delete(key)
            self._changed(key)
            return None
        with self._decoded_lock:
            self._decoded[key] = (data, entry, listening and heard == self._heard)
            self._decoded.move_to_end(key)
            while len(self._decoded) > DECODED_ENTRIES:
                self._decoded.popitem(last=False)
        return entry

    def _write(
        self,
        key: str,
        value: Any,
        fetched_at: float,
        error: str | None = None,
        held: list | None = None,
        riders: Sequence[Rider] = (),
    ) -> None:
        """Store the entry; with `held` ([lock token]), release that lock with the same round trip (`riders` too)."""
        envelope = {"t": fetched_at, "v": codec.dumps(value).decode("utf-8")}
        if error:
            envelope["e"], envelope["et"] = error[:200], self.clock()
        data = json.dumps(envelope).encode("utf-8")
        if held and held[0]:
            # The store tells the other processes in the same round trip when it can (Redis publishes from
            # the write's own script, when the write replaced an entry); otherwise the bus does, as for any
            # other change.
            announce = (self.bus.channel, BUS_PREFIX + key) if self.bus is not None else None
            announced = self.store.set_and_unlock(key, data, KEEP_SECONDS, held[0], announce, riders)
            held[0] = None
            if announced:
                self._forget(key)
                return
        else:
            self.store.set(key, data, KEEP_SECONDS)
        self._changed(key)

    def peek(self, key: str, freshness_seconds: float) -> Lookup | None:
        """The copy of `key` that `fetch` would answer without asking anyone, or None: never loads or waits.
        While the bus is listening only this process's own copy is looked at: a copy only the shared store
        holds is `fetch`'s to read, in the same round trip that takes the lock when there is none."""
        listening = self.bus is not None and self.bus.healthy
        return self._fresh(self._remembered(key) if listening else self._read(key), self.clock(), freshness_seconds)

    def _fresh(self, cached, now: float, freshness_seconds: float) -> Lookup | None:
        if cached and now - cached[1] < freshness_seconds and self._settled(cached, now):
            # A refresh that failed inside the window marks the entry, so every viewer sees the notice
            # until Consonance is tried again (ERROR_RETRY_SECONDS later).
            metrics.count_cache("hit")
            return Lookup(cached[0], cached[1], fresh=cached[2] is None, error=cached[2])
        return None

    def fetch(
        self,
        key: str,
        loader: Callable[[], Any],
        freshness_seconds: float,
        force: bool = False,
        riders: Sequence[Rider] = (),
    ) -> Lookup:
        """The answer for `key`, asking `loader` at most once across all concurrent callers. `riders` go to
        Redis in the round trips the cache makes anyway (none when this process's copy answers)."""
        started = self.clock()
        _written_before_looking(key)
        cached = self._remembered(key)
        if cached is None:
            # Nothing stored is the common first view: then the lock comes with the same round trip.
            with self._decoded_lock:
                heard = self._heard
            token, stored = self.store.get_or_lock(key, LEASE_SECONDS, riders)
            if token:
                metrics.count_cache("miss")
                return self._load_holding(key, loader, freshness_seconds, force, started, None, token, riders)
            cached = self._read(key, stored, heard)
        hit = None if force else self._fresh(cached, started, freshness_seconds)
        if hit is not None:
            return hit
        deadline = time.monotonic() + self.wait_timeout
        while True:
            token, stored = self.store.lock_and_get(key, LEASE_SECONDS)
            if token:
                metrics.count_cache("miss")
                return self._load_holding(key, loader, freshness_seconds, force, started, stored, token, riders)
            if cached and not force:
                metrics.count_cache("stale")
                return Lookup(cached[0], cached[1], fresh=False, refreshing=True, error=cached[2])
            if time.monotonic() > deadline:
                raise CacheWaitTimeout(key)
            time.sleep(self.poll_interval)
            latest = self._read(key)
            if latest and latest[1] >= started:
                return Lookup(latest[0], latest[1], fresh=True)

    def _load_holding(self, key, loader, freshness_seconds, force, started, stored, token: str, riders) -> Lookup:
        held = [token]  # released with the write, or below when nothing was written
        try:
            return self._fetch_holding_lock(key, loader, freshness_seconds, force, started, stored, held, riders)
        finally:
            if held[0]:
                self.store.unlock(key, token)

    @staticmethod
    def _settled(entry, now: float) -> bool:
        """No failed refresh, or one too recent to try Consonance again."""
        return entry[2] is None or now - entry[3] < ERROR_RETRY_SECONDS

    def _fetch_holding_lock(self, key, loader, freshness_seconds, force, started, stored, held, riders) -> Lookup:
        latest = self._read(key, stored)
        if latest and (
            (not force and self.clock() - latest[1] < freshness_seconds and self._settled(latest, self.clock()))
            or latest[1] >= started
        ):
            # someone refreshed while we queued (or failed to: then the entry carries the error)
            return Lookup(latest[0], latest[1], fresh=latest[2] is None, error=latest[2])
        try:
            value = loader()
        except self.fallback_errors as exc:
            if latest is None:
                raise
            log.warning("serving last good data for %s: %s", key, exc.__class__.__name__)
            reason = str(exc) or exc.__class__.__name__
            self._write_soon(key, latest[0], latest[1], reason, held, riders)
            return Lookup(latest[0], latest[1], fresh=False, error=reason)
        fetched_at = self.clock()
        self._write_soon(key, value, fetched_at, None, held, riders)
        return Lookup(value, fetched_at, fresh=True, fetched_here=True)

    def _write_soon(self, key: str, value: Any, fetched_at: float, error: str | None, held: list, riders) -> None:
        """`_write` with the lock `held`, now or once the view's answer is sent (`writes_after_answer`); the
        lock goes with the write, and is freed alone if the write fails."""
        lock = [held[0]]
        held[0] = None

        def write() -> None:
            try:
                self._write(key, value, fetched_at, error, held=lock, riders=riders)
            finally:
                if lock[0]:
                    self.store.unlock(key, lock[0])

        when_answered(write, key)
