"""Per-person limits on writes (decisions, Refresh, admin saves): past the limit, 429 and a sentence the
panel shows as it is.

A rolling minute per (kind, site, person): a write is allowed when fewer than the limit were allowed in the
sixty seconds before it, so no one gets twice the limit by writing either side of a clock minute, and
Retry-After says when the oldest of them leaves the minute. A refused write is not counted: trying again
after Retry-After works. Counted in Redis when REDIS_URL is set, so every web process shares one count; in
this process otherwise (embedded mode: one process). If Redis cannot be reached the count falls back to
this process rather than refusing everyone or letting everything through.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from flask import Response, current_app, g, jsonify

from addon.logs import OncePer
from addon.platform.services import view_redis

log = logging.getLogger("addon.platform.rate_limits")
_redis_down = OncePer(log, seconds=60)

WINDOW_SECONDS = 60

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Limit:
    kind: str
    setting: str  # the config key holding the number allowed per window
    message: str  # what the person reads


LIMITS = {
    limit.kind: limit
    for limit in (
        Limit("decision", "DECISIONS_PER_MINUTE", "You have sent many decisions in a minute; try again shortly."),
        Limit("refresh", "REFRESHES_PER_MINUTE", "You have refreshed many times in a minute; try again shortly."),
        Limit("admin_save", "ADMIN_SAVES_PER_MINUTE", "You have saved many changes in a minute; try again shortly."),
    )
}


class RateLimited(Exception):
    def __init__(self, limit: Limit, retry_after: int):
        super().__init__(limit.message)
        self.limit, self.retry_after = limit, retry_after


# The writes allowed in the last minute, as a sorted set of their times: drop those older than the minute,
# then allow and record this one if fewer than the limit remain. Answers {1} when allowed, {0, oldest}
# when not (the oldest write's time, for Retry-After).
_ALLOW_IN_ROLLING_MINUTE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[2] + 1)
  return {1}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, oldest[2]}
"""


class _LocalWrites:
    """The rolling-minute record for one process: key -> times of the writes allowed in the last minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}
        self._next_sweep = 0.0

    def allow(self, key: str, allowed: int, now: float) -> float | None:
        """None when the write is allowed (and recorded); otherwise the oldest write's time."""
        since = now - WINDOW_SECONDS
        with self._lock:
            if now >= self._next_sweep:  # people who stopped writing a minute ago no longer matter
                self._times = {k: t for k, t in self._times.items() if t and t[-1] > since}
                self._next_sweep = now + WINDOW_SECONDS
            times = self._times.setdefault(key, deque())
            while times and times[0] <= since:
                times.popleft()
            if len(times) >= allowed:
                return times[0]
            times.append(now)
            return None


def _local_writes() -> _LocalWrites:
    """This app's in-process rolling-minute record (one per app, so each test's app starts from none)."""
    writes: _LocalWrites = current_app.extensions.setdefault("c4c_rate_writes", _LocalWrites())
    return writes


def _oldest_allowed_write(key: str, allowed: int, now: float) -> float | None:
    """None when this write is within the limit (it is recorded); otherwise when the oldest write in the
    minute was made. Redis when there is one, this process otherwise."""
    redis = view_redis()
    if redis is not None:
        try:
            answer = redis.eval(
                _ALLOW_IN_ROLLING_MINUTE,
                1,
                f"c4c:rate-minute:{key}",
                repr(now),
                WINDOW_SECONDS,
                allowed,
                uuid.uuid4().hex,
            )
            return None if int(answer[0]) == 1 else float(answer[1])
        except Exception as exc:  # noqa: BLE001 - any Redis failure: count in this process instead
            _redis_down.warning("rate limits counted per process: Redis unavailable (%s)", type(exc).__name__)
    return _local_writes().allow(key, allowed, now)


def hit(kind: str, tenant_id: int | None = None, account_id: str | None = None, *, now: float | None = None) -> None:
    """Count one `kind` write by this person on this site; RateLimited when the limit was reached in the
    minute before it. `now` for tests that need the clock."""
    limit = LIMITS[kind]
    allowed = int(current_app.config.get(limit.setting) or 0)
    if allowed <= 0:
        return  # 0 switches the limit off
    tenant_id = tenant_id if tenant_id is not None else g.tenant.id
    account_id = account_id if account_id is not None else (getattr(g, "account_id", None) or "anonymous")
    now = time.time() if now is None else now
    oldest = _oldest_allowed_write(f"{kind}:{tenant_id}:{account_id}", allowed, now)
    if oldest is not None:
        log.info("rate limit %s reached by %s on tenant %s", kind, account_id, tenant_id)
        raise RateLimited(limit, retry_after=max(1, math.ceil(oldest + WINDOW_SECONDS - now)))


def first_in_window(key: str, *, now: float | None = None) -> bool:
    """True when `key` has not occurred in the minute before (a limit of one, counted like the others): for
    records a caller could otherwise make us write without end, such as the audit line of a refused call."""
    return _oldest_allowed_write(f"once:{key}", 1, time.time() if now is None else now) is None


def rate_limited(kind: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Route decorator, under the token check (it needs the site and the person): one hit per request."""

    def decorator(view: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(view)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            hit(kind)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def rate_limited_response(exc: RateLimited) -> Response:
    response = jsonify(error="rate_limited", message=exc.limit.message, retryAfter=exc.retry_after)
    response.status_code = 429
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
