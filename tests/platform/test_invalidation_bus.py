"""The invalidation bus stops quietly when its process shuts down before its Redis does, so a run's log keeps
"invalidation listener lost Redis" for a real loss (it once sat next to an unrelated failed view)."""

from __future__ import annotations

import logging
import threading

import redis

from addon.platform.invalidation import Bus
from tests.fixtures.processes import eventually


def test_a_stopped_bus_stops_listening_without_a_warning(redis_url, caplog):
    bus = Bus(redis.Redis.from_url(redis_url), channel="test:invalidate:stop")
    heard = []
    bus.listen("k:", heard.append, lambda: None)
    eventually(lambda: bus.healthy)
    redis.Redis.from_url(redis_url).publish("test:invalidate:stop", "k:one")
    eventually(lambda: heard == ["one"])

    with caplog.at_level(logging.WARNING, logger="addon.platform.invalidation"):
        bus.stop()
        eventually(lambda: not _listeners(bus))
    assert not bus.healthy
    assert "lost Redis" not in caplog.text


def _listeners(bus) -> list[threading.Thread]:
    """This bus's listener threads still running (a thread drops its target when it ends)."""
    return [
        t
        for t in threading.enumerate()
        if t.name == "c4c-invalidation" and getattr(getattr(t, "_target", None), "__self__", None) is bus
    ]
