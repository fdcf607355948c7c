"""Turns at the interpreter for macro views answered from memory, so that under a burst no view waits behind a
stream of later ones.

A process's threads share one interpreter lock, and it goes to whichever thread asks first, not to the one that
has waited longest: with 8 threads busy on views served from memory, a few views waited 5-6 times as long as the
median (p99 27-33 ms against a p50 of 5 ms at 50 connections, bench/RESULTS.md). Views take turns here instead:
at most `TURNS` at once, and once the longest waiter has waited `PATIENCE_SECONDS` the next turn given back is
handed to it. Until then a free turn goes to whoever asks, because handing every turn over costs a thread wake-up
(handing over all of them cut the views served a second by 40%). Only work that never waits on the network takes a
turn: a first view gives its turn back before it asks Consonance.
"""

from __future__ import annotations

import threading
import time
from collections import deque

TURNS = 2  # one process runs Python on one core at a time; two keep it busy while one view is between steps
PATIENCE_SECONDS = 0.005


class _Waiter:
    __slots__ = ("since", "handed", "wake")

    def __init__(self, since: float):
        self.since = since
        self.handed = False  # a turn was handed to it: it holds the turn as soon as it wakes
        self.wake = threading.Lock()
        self.wake.acquire()


class Turns:
    """`take()` before the work, `give_back()` after; a waiter the turns never reach looks again every `patience`."""

    def __init__(self, turns: int = TURNS, patience: float = PATIENCE_SECONDS, clock=time.monotonic):
        self._lock = threading.Lock()
        self._free = turns
        self._waiting: deque[_Waiter] = deque()
        self._patience = patience
        self._clock = clock

    def take(self) -> None:
        with self._lock:
            now = self._clock()
            if self._free > 0 and not self._owed(now):
                self._free -= 1
                return
            waiter = _Waiter(now)
            self._waiting.append(waiter)
        while True:
            if waiter.wake.acquire(timeout=self._patience):
                return  # handed over
            with self._lock:
                if waiter.handed:  # handed over just as this wait ran out
                    waiter.wake.acquire()
                    return
                if self._free > 0 and (self._waiting[0] is waiter or not self._owed(self._clock())):
                    self._waiting.remove(waiter)
                    self._free -= 1
                    return

    def give_back(self) -> None:
        with self._lock:
            if self._owed(self._clock()):
                waiter = self._waiting.popleft()
                waiter.handed = True
                waiter.wake.release()
                return
            self._free += 1

    def _owed(self, now: float) -> bool:
        """The longest waiter has waited its patience out: the next turn is its."""
        return bool(self._waiting) and now - self._waiting[0].since >= self._patience
