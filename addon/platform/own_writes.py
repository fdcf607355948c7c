"""What every process must know about our own writes to Consonance, before its caches do.

A stage move approved in a panel is "pending" until the outbox has written it; once written (or once a
poll finds any change), copies of that title fetched earlier are superseded everywhere, so the next view
reads Consonance again instead of showing the old stage for the rest of its freshness window. Both facts
live in the shared Redis in production (in this process's memory in the embedded default, which is one
process); when Redis fails they read as "nothing known", and the freshness window applies as before.

Every macro view asks about them, so each process keeps the marks it has read (present or absent) and
answers from memory while its invalidation-bus subscription is up: a write publishes the mark's key, and
every process drops its copy when the message arrives (milliseconds), as for the tenant and macro caches.
A cached view therefore costs no Redis round trip; without a live subscription every read goes to Redis.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from flask import current_app

from addon.logs import OncePer
from addon.platform import invalidation
from addon.platform.services import platform_services, view_redis

if TYPE_CHECKING:
    import redis

log = logging.getLogger("addon.platform.own_writes")

PREFIX = "c4c:marks:"
PENDING_SECONDS = 24 * 3600  # a pending mark outlives any retry schedule, then lapses by itself
CHANGED_SECONDS = 7 * 24 * 3600  # as long as the macro cache keeps a last-good copy
BUS_PREFIX = "marks:"
COPIES_KEPT = 8192  # marks (or their absence) kept per process: a few per title viewed
_lost = OncePer(log)
_Result = TypeVar("_Result")


class MarkStore(Protocol):
    """Where the marks live: the shared Redis, or this process's memory."""

    def get(self, key: str, also: tuple[str, ...] = ()) -> bytes | None:
        """The mark at `key`; `also` names marks likely asked for next, read with it where that saves a trip."""
        ...

    def set(self, key: str, value: bytes, ttl: float) -> None: ...

    def delete(self, key: str) -> None: ...


class _MemoryMarks:
    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, also: tuple[str, ...] = ()) -> bytes | None:
        with self._lock:
            found = self._data.get(key)
            if found is None or found[1] < time.time():
                return None
            return found[0]

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._data[key] = (value, time.time() + ttl)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class _SharedMarks:
    """The marks in the shared Redis, with this process's copies of those it has read (an absent mark too),
    served from memory only while the invalidation bus is up; a copy heard changed is dropped, and one read
    across an invalidation is not kept (it may predate the change)."""

    def __init__(self, client: redis.Redis, bus: invalidation.Bus | None) -> None:
        self.client = client
        self.bus = bus
        self._copies: OrderedDict[str, tuple[bytes | None, float]] = OrderedDict()  # key -> (value, expires at)
        self._heard = 0
        self._lock = threading.Lock()
        self._listening = False

    def _safely(self, what: Callable[[], _Result]) -> tuple[bool, _Result | None]:
        import redis

        try:
            return True, what()
        except redis.RedisError as exc:
            _lost.warning("own-write marks unavailable (%s); panels follow their freshness window", exc)
            return False, None

    def _listen(self) -> bool:
        """Whether copies may be trusted now (subscribing on first use: writers alone never need to)."""
        if self.bus is None:
            return False
        if not self._listening:
            self._listening = True
            self.bus.listen(BUS_PREFIX, self._forget, self._forget_all)
        return self.bus.healthy

    def _forget(self, key: str) -> None:
        with self._lock:
            self._heard += 1
            self._copies.pop(key, None)

    def _forget_all(self) -> None:
        with self._lock:
            self._heard += 1
            self._copies.clear()

    def _keep(self, key: str, value: bytes | None, expires_at: float) -> None:
        self._copies[key] = (value, expires_at)
        self._copies.move_to_end(key)
        while len(self._copies) > COPIES_KEPT:
            self._copies.popitem(last=False)

    def get(self, key: str, also: tuple[str, ...] = ()) -> bytes | None:
        trusted = self._listen()
        with self._lock:
            heard = self._heard
            found = self._copies.get(key) if trusted else None
            if found is not None and found[1] > time.time():
                self._copies.move_to_end(key)
                return found[0]
        wanted = (key, *(k for k in also if trusted and k not in self._copies))  # kept only while trusted

        def read() -> list[Any]:
            with self.client.pipeline(transaction=False) as pipe:
                self._ask(pipe, wanted)
                return pipe.execute()

        ok, answer = self._safely(read)
        if not ok or answer is None:
            return None
        return self._learn(wanted, answer, heard if trusted else None)[0]

    def unknown(self, keys: tuple[str, ...]) -> tuple[tuple[str, ...], int] | None:
        """Of `keys`, those this process holds no trusted copy of, and the invalidation count now (what
        `_learn` needs to know whether the answers may be kept); None while copies cannot be trusted."""
        if not self._listen():
            return None
        now = time.time()
        with self._lock:
            return tuple(k for k in keys if k not in self._copies or self._copies[k][1] <= now), self._heard

    @staticmethod
    def _ask(pipe: Any, wanted: tuple[str, ...]) -> int:
        for name in wanted:
            pipe.get(PREFIX + name)
            pipe.pttl(PREFIX + name)  # so the copy lapses when Redis's mark does
        return 2 * len(wanted)

    def _learn(self, wanted: tuple[str, ...], answer: list[Any], heard: int | None) -> list[bytes | None]:
        """The marks' values from a trip's answers (GET, PTTL per mark), kept as copies when `heard` (the
        invalidation count before the trip) is still the count now."""
        values = [value if isinstance(value, bytes) else None for value in answer[::2]]
        if heard is not None:
            now = time.time()
            with self._lock:
                if heard == self._heard:
                    for name, value, raw, ttl_ms in zip(wanted, values, answer[::2], answer[1::2], strict=True):
                        if isinstance(raw, Exception) or isinstance(ttl_ms, Exception):
                            continue  # a rider's answers are not raised: an error is simply not kept
                        expires_at = now + ttl_ms / 1000 if value is not None and ttl_ms > 0 else float("inf")
                        self._keep(name, value, expires_at)
        return values

    def _changed(self, key: str, value: bytes | None, ttl: float) -> None:
        """After our own write: our copy is the new value at once, everyone else's is dropped when they hear."""
        with self._lock:
            self._heard += 1
            if self._listening:
                self._keep(key, value, time.time() + ttl if value is not None else float("inf"))
        if self.bus is not None:
            self.bus.publish(BUS_PREFIX + key)

    def set(self, key: str, value: bytes, ttl: float) -> None:
        ok, _ = self._safely(lambda: self.client.set(PREFIX + key, value, ex=int(ttl)))
        if ok:
            self._changed(key, value, ttl)

    def delete(self, key: str) -> None:
        ok, _ = self._safely(lambda: self.client.delete(PREFIX + key))
        if ok:
            self._changed(key, None, 0)


def _marks() -> MarkStore:
    services = platform_services()
    found = cast("MarkStore | None", services.get("own_write_marks"))
    if found is None:
        client = view_redis()
        made = _MemoryMarks() if client is None else _SharedMarks(client, invalidation.bus(current_app))
        found = cast(MarkStore, services.setdefault("own_write_marks", made))
    return found


def _changed_key(tenant_id: int, work_id: str) -> str:
    return f"t{tenant_id}:title-changed:{work_id}"


def _pending_key(tenant_id: int, work_id: str) -> str:
    return f"t{tenant_id}:stage-pending:{work_id}"


def stage_move_pending(tenant_id: int, work_id: str, from_stage: str | None, to_stage: str) -> None:
    """A person approved a stage move; Consonance does not hold it yet."""
    body = json.dumps({"from": from_stage, "to": to_stage, "at": time.time()}).encode("utf-8")
    _marks().set(_pending_key(tenant_id, str(work_id)), body, PENDING_SECONDS)
    log.info("stage move to %s pending for work %s", to_stage, work_id)


def stage_move_abandoned(tenant_id: int, work_id: str) -> None:
    """The move could not be written (it failed for good): it is no longer pending."""
    _marks().delete(_pending_key(tenant_id, str(work_id)))


def pending_stage_move(tenant_id: int, work_id: str) -> dict[str, str | None] | None:
    """{"from": stage, "to": stage} while a stage move we owe Consonance is not written yet."""
    data = _marks().get(_pending_key(tenant_id, str(work_id)))
    if not data:
        return None
    try:
        found = json.loads(data)
        return {"from": found.get("from"), "to": found["to"]}
    except (ValueError, KeyError, TypeError, AttributeError):  # not a mark we wrote: nothing pending
        return None


def title_changed(tenant_id: int, work_id: str, *, written_by_us: bool = False) -> None:
    """Consonance now holds something newer for this title (our write, or one a poll found): copies
    fetched before now are superseded on every process; a move we wrote is no longer pending."""
    marks = _marks()
    marks.set(_changed_key(tenant_id, str(work_id)), repr(time.time()).encode("ascii"), CHANGED_SECONDS)
    if written_by_us:
        marks.delete(_pending_key(tenant_id, str(work_id)))


def superseded(tenant_id: int, work_id: str, fetched_at: float) -> bool:
    """True when a copy fetched at `fetched_at` is older than the title's last known change."""
    # the pending mark is read in the same trip: a title-status panel asks for it next
    data = _marks().get(_changed_key(tenant_id, str(work_id)), also=(_pending_key(tenant_id, str(work_id)),))
    if not data:
        return False
    try:
        return float(data) > fetched_at
    except ValueError:
        return False


class MarksAhead:
    """A title's own-write marks read in the macro cache's lookup trip (a `Rider`), so the view's `superseded`
    and `pending_stage_move` answer from this process's copies instead of a round trip of their own. Only
    while copies can be trusted; otherwise the view reads them itself, as it always did."""

    def __init__(self, marks: _SharedMarks, keys: tuple[str, ...]):
        self.marks = marks
        self.keys = keys
        self._asked: tuple[tuple[str, ...], int] | None = None

    def on_lookup(self, pipe: Any, lock: tuple[str, str]) -> int:
        self._asked = self.marks.unknown(self.keys)
        return self.marks._ask(pipe, self._asked[0]) if self._asked else 0

    def looked_up(self, answers: list[Any]) -> None:
        if self._asked:
            self.marks._learn(self._asked[0], answers, self._asked[1])

    def on_write(self, pipe: Any) -> int:
        return 0

    def written(self, answers: list[Any]) -> None:
        return None


def read_ahead(tenant_id: int, work_id: str) -> MarksAhead | None:
    """What a view of this title will ask `superseded` and `pending_stage_move`, to be read in a trip the view
    makes anyway; None where there is no such trip (the embedded default keeps its marks in memory)."""
    marks = _marks()
    if not isinstance(marks, _SharedMarks):
        return None
    return MarksAhead(marks, (_changed_key(tenant_id, str(work_id)), _pending_key(tenant_id, str(work_id))))
