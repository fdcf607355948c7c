"""What every process must know about our own writes to Consonance, before its caches do.

A stage move approved in a panel is "pending" until the outbox has written it; once written (or once a
poll finds any change), copies of that title fetched earlier are superseded everywhere, so the next view
reads Consonance again instead of showing the old stage for the rest of its freshness window. Both facts
live in the shared Redis in production (in this process's memory in the embedded default, which is one
process); when Redis fails they read as "nothing known", and the freshness window applies as before.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from addon.logs import OncePer
from addon.platform.services import platform_services, view_redis

if TYPE_CHECKING:
    import redis

log = logging.getLogger("addon.platform.own_writes")

PREFIX = "c4c:marks:"
PENDING_SECONDS = 24 * 3600  # a pending mark outlives any retry schedule, then lapses by itself
CHANGED_SECONDS = 7 * 24 * 3600  # as long as the macro cache keeps a last-good copy
_lost = OncePer(log)
_Result = TypeVar("_Result")


class _Marks(Protocol):
    """Where the marks live: the shared Redis, or this process's memory."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float) -> None: ...

    def delete(self, key: str) -> None: ...


class _MemoryMarks:
    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
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


class _RedisMarks:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def _safely(self, what: Callable[[], _Result]) -> _Result | None:
        import redis

        try:
            return what()
        except redis.RedisError as exc:
            _lost.warning("own-write marks unavailable (%s); panels follow their freshness window", exc)
            return None

    def get(self, key: str) -> bytes | None:
        found = self._safely(lambda: self.client.get(PREFIX + key))
        return found if isinstance(found, bytes) else None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._safely(lambda: self.client.set(PREFIX + key, value, ex=int(ttl)))

    def delete(self, key: str) -> None:
        self._safely(lambda: self.client.delete(PREFIX + key))


def _marks() -> _Marks:
    client = view_redis()
    if client is not None:
        return _RedisMarks(client)
    found = platform_services().setdefault("own_write_marks", _MemoryMarks())
    assert isinstance(found, _MemoryMarks), "own_write_marks holds this process's marks"
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
    data = _marks().get(_changed_key(tenant_id, str(work_id)))
    if not data:
        return False
    try:
        return float(data) > fetched_at
    except ValueError:
        return False
