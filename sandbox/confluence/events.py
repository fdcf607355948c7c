"""At-least-once delivery of page events to the app, retried the way Atlassian retries.

A background thread sends each delivery; a non-2xx answer (3xx included), an error or a timeout
is retried up to `max_retries` times with doubling delays. Knobs deliver duplicates and reorder.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass

import requests

log = logging.getLogger("sandbox.confluence.events")


@dataclass
class Delivery:
    """One event to one receiver; `build()` returns (url, headers, json body) fresh per attempt."""

    id: int
    kind: str
    build: object
    attempt: int = 0
    copy: int = 0


@dataclass
class DeliverySettings:
    max_retries: int = 4
    retry_base_seconds: float = 2.0
    timeout_seconds: float = 5.0
    duplicates: int = 0
    out_of_order: bool = False
    reorder_window_seconds: float = 0.2


class EventDispatcher:
    def __init__(self, settings: DeliverySettings | None = None):
        self.settings = settings or DeliverySettings()
        self.log: list[dict] = []
        self._ids = itertools.count(1)
        self._heap: list = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._busy = 0
        self._window_end = 0.0
        self._thread = threading.Thread(target=self._run, name="confluence-emulator-events", daemon=True)
        self._thread.start()

    def submit(self, kind: str, build) -> int:
        event_id = next(self._ids)
        copies = 1 + max(0, int(self.settings.duplicates))
        with self._cond:
            now = time.monotonic()
            if self.settings.out_of_order:
                # events inside one window share a due time and go out newest first
                if self._window_end <= now:
                    self._window_end = now + self.settings.reorder_window_seconds
                due, rank = self._window_end, -event_id
            else:
                due, rank = now, 0
            for copy in range(copies):
                heapq.heappush(self._heap, (due, rank, next(self._order), Delivery(event_id, kind, build, copy=copy)))
            self._cond.notify()
        return event_id

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = (self._heap[0][0] - time.monotonic()) if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, _, delivery = heapq.heappop(self._heap)
                self._busy += 1
            try:
                self._attempt(delivery)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        delivery.attempt += 1
        entry = {
            "event": delivery.id,
            "kind": delivery.kind,
            "attempt": delivery.attempt,
            "copy": delivery.copy,
            "at": time.time(),
        }
        try:
            url, headers, body = delivery.build()
            entry["url"] = url
            entry["body"] = body
            response = requests.post(
                url, json=body, headers=headers, timeout=self.settings.timeout_seconds, allow_redirects=False
            )
            entry["status"] = response.status_code
            ok = 200 <= response.status_code < 300
        except Exception as exc:  # a refused connection or timeout is a failed attempt, like any error
            entry["error"] = f"{type(exc).__name__}: {exc}"
            ok = False
        entry["delivered"] = ok
        with self._cond:
            self.log.append(entry)
        log.info(
            "event %s (%s) attempt %s -> %s",
            delivery.id,
            delivery.kind,
            delivery.attempt,
            entry.get("status", entry.get("error")),
        )
        if not ok and delivery.attempt <= self.settings.max_retries:
            delay = self.settings.retry_base_seconds * (2 ** (delivery.attempt - 1))
            with self._cond:
                heapq.heappush(self._heap, (time.monotonic() + delay, 0, next(self._order), delivery))
                self._cond.notify()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=2)
