"""With Redis and the invalidation bus, each process serves cache hits from its own copy; a write in
another process replaces that copy within the bound, and without a live subscription every read goes
to Redis."""

from __future__ import annotations

import redis

from addon.macros.cache import MacroCache, RedisStore
from addon.platform.invalidation import Bus
from tests.fixtures.processes import eventually


def _process(url: str) -> MacroCache:
    client = redis.Redis.from_url(url)
    return MacroCache(RedisStore(client, prefix="test:macro:"), bus=Bus(client), fallback_errors=(RuntimeError,))


def test_a_write_elsewhere_replaces_the_local_copy(redis_url):
    first, second = _process(redis_url), _process(redis_url)
    first.fetch("k", lambda: "one", freshness_seconds=300)
    eventually(lambda: first.bus.healthy and second.bus.healthy)
    reads = []
    real_get = second.store.get
    second.store.get = lambda key: reads.append(key) or real_get(key)

    def served_from_own_copy() -> bool:
        # The first write's own invalidation may still be in flight and drop the copy once: ask again.
        assert second.fetch("k", lambda: "unused", freshness_seconds=300).value == "one"
        reads.clear()
        assert second.fetch("k", lambda: "unused", freshness_seconds=300).value == "one"
        return reads == []

    eventually(served_from_own_copy)  # a hit served from the process's own copy
    first.fetch("k", lambda: "two", freshness_seconds=300, force=True)  # e.g. Refresh in the other process
    eventually(lambda: second.fetch("k", lambda: "unused", freshness_seconds=300).value == "two")


def test_without_a_live_subscription_every_read_goes_to_redis(redis_url):
    cache = _process(redis_url)
    cache.fetch("k", lambda: "one", freshness_seconds=300)
    eventually(lambda: cache.bus.healthy)
    cache.bus.healthy = False
    reads = []
    real_get, real_get_or_lock = cache.store.get, cache.store.get_or_lock
    cache.store.get = lambda key: reads.append(key) or real_get(key)
    cache.store.get_or_lock = lambda key, lease, riders=(): reads.append(key) or real_get_or_lock(key, lease, riders)
    cache.fetch("k", lambda: "unused", freshness_seconds=300)
    cache.fetch("k", lambda: "unused", freshness_seconds=300)
    assert reads == ["k", "k"]


def test_only_a_write_that_replaces_an_entry_is_announced(redis_url):
    """A first view's write wakes no other process (none can hold a copy of what Redis never had); a write
    that replaces an entry tells them all."""
    writer = _process(redis_url)
    eventually(lambda: writer.bus.healthy)
    listener = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(writer.bus.channel)
    eventually(lambda: listener.get_message(timeout=0.05) is None and listener.subscribed)

    def heard() -> list[bytes]:
        messages = []
        while (message := listener.get_message(timeout=0.3)) is not None:
            messages.append(message["data"])
        return messages

    writer.fetch("k", lambda: "one", freshness_seconds=300)
    assert heard() == []
    writer.fetch("k", lambda: "two", freshness_seconds=300, force=True)
    assert heard() == [b"macro:k"]
    listener.close()
