"""Cross-process cache invalidation over Redis pub/sub, so per-process caches need no per-request check.

A writer publishes what changed right after its commit/write; every process's listener thread drops its
copies as the message arrives (milliseconds on one Redis). A process trusts its local copies only while
its subscription is confirmed: when the connection drops, `healthy` is False (callers then read through
to Redis or the database) and, once resubscribed, every local copy is dropped — a message missed while
disconnected can never leave a stale copy behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from addon.logs import OncePer

if TYPE_CHECKING:
    import redis
    from flask import Flask
    from redis.client import PubSub

log = logging.getLogger("addon.platform.invalidation")

CHANNEL = "c4c:invalidate"
RECONNECT_SECONDS = 1.0
EXTENSION_KEY = "addon.platform.invalidation"


class Bus:
    def __init__(self, redis_client: redis.Redis, channel: str = CHANNEL) -> None:
        self.redis = redis_client
        self.channel = channel
        self.healthy = False
        self._handlers: list[tuple[str, Callable[[str], None], Callable[[], None]]] = []
        self._started = False
        self._lock = threading.Lock()
        self._lost = OncePer(log)
        self._stopping = threading.Event()
        self._pubsub: PubSub | None = None

    def listen(self, prefix: str, on_message: Callable[[str], None], on_reset: Callable[[], None]) -> None:
        """`on_message(rest)` for each message `prefix + rest`; `on_reset()` whenever messages may have been missed."""
        with self._lock:
            self._handlers.append((prefix, on_message, on_reset))
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name="c4c-invalidation", daemon=True).start()

    def publish(self, message: str) -> None:
        try:
            self.redis.publish(self.channel, message)
        except Exception as exc:  # noqa: BLE001 - the writer's own process is already invalidated
            log.error("could not publish invalidation %r: %s", message, exc.__class__.__name__)

    def stop(self) -> None:
        """Stop listening (a process shutting down before its Redis does): no "lost Redis" warning follows."""
        self._stopping.set()
        self.healthy = False
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # noqa: BLE001
                pass

    def _reset_all(self) -> None:
        for _prefix, _on_message, on_reset in list(self._handlers):
            on_reset()

    def _run(self) -> None:
        while not self._stopping.is_set():
            pubsub = self._pubsub = self.redis.pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self._reset_all()  # anything could have changed while we were not listening
                        self.healthy = True
                    elif message["type"] == "message":
                        self._dispatch(message["data"].decode("utf-8", "replace"))
            except Exception as exc:  # noqa: BLE001 - stay up; caches read through until resubscribed
                if self._stopping.is_set():
                    return
                self._lost.warning(
                    "invalidation listener lost Redis (%s); local caches read through until it is back",
                    exc.__class__.__name__,
                )
            finally:
                self.healthy = False
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001
                    pass
            time.sleep(RECONNECT_SECONDS)

    def _dispatch(self, data: str) -> None:
        for prefix, on_message, _on_reset in list(self._handlers):
            if data.startswith(prefix):
                try:
                    on_message(data[len(prefix) :])
                except Exception:  # noqa: BLE001
                    log.exception("invalidation handler failed for %r", data)


def bus(app: Flask) -> Bus | None:
    """The app's bus on its REDIS_URL (one listener thread per process, started on first use); None without Redis."""
    found: Bus | None = app.extensions.get(EXTENSION_KEY)
    if found is None and app.config.get("REDIS_URL"):
        import redis

        found = app.extensions.setdefault(EXTENSION_KEY, Bus(redis.Redis.from_url(app.config["REDIS_URL"])))
    return found
