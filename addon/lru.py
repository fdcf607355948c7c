"""A bounded, thread-safe LRU: what a process keeps of things it would otherwise build again on every
request (verified tokens, view models, rendered panels, recently issued action tokens)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


class BoundedLRU(Generic[_Key, _Value]):
    """At most `size` entries; a read makes an entry the most recent, a write beyond `size` drops the oldest."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[_Key, _Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> _Value | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: _Key, value: _Value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, key: _Key) -> None:
        with self._lock:
            self._items.pop(key, None)
