"""Fault injection and the request log, so tests can make the emulator misbehave on purpose.

A fault matches a method and a path regex and applies to the next N matching requests (or
every one when `count` is None): an HTTP status (429 with rate-limit headers, 5xx) and/or latency.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Fault:
    path: str = ".*"
    method: str | None = None
    status: int | None = None
    count: int | None = 1
    latency_ms: int = 0
    retry_after: int = 1
    message: str = ""
    id: int = 0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and re.search(self.path, path) is not None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "path": self.path,
            "method": self.method,
            "status": self.status,
            "count": self.count,
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after,
            "hits": self.hits,
        }


@dataclass
class FaultBook:
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1

    def add(self, **spec) -> Fault:
        allowed = {k: v for k, v in spec.items() if k in Fault.__dataclass_fields__ and k not in ("id", "hits")}
        with self.lock:
            fault = Fault(**allowed, id=self._next_id)
            self._next_id += 1
            self.faults.append(fault)
            return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first live fault for this request, its counter spent; exhausted faults drop out."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self.faults.remove(fault)
                    return fault
        return None


def apply_latency(fault: Fault | None) -> None:
    if fault and fault.latency_ms:
        time.sleep(fault.latency_ms / 1000)


class RequestLog:
    """The last `size` requests with their responses, for tests and people debugging."""

    def __init__(self, size: int = 1000):
        self.entries: deque = deque(maxlen=size)
        self.lock = threading.Lock()

    def add(self, entry: dict) -> None:
        with self.lock:
            self.entries.append(entry)

    def list(self) -> list[dict]:
        with self.lock:
            return list(self.entries)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
