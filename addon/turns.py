"""Turns at the interpreter for macro views answered from memory, so that under a burst no view waits behind a
stream of later ones.

A process's threads share one interpreter lock, and it goes to whichever thread asks first, not to the one that
has waited longest: with 8 threads busy on views served from memory, a few views waited 5-6 times as long as the
median (p99 27-33 ms against a p50 of 5 ms at 50 connections, bench/RESULTS.md). Views take turns here instead:
at most `TURNS` at once, and once the longest waiter has waited `PATIENCE_SECONDS` the next turn given back is
handed to it. Until then a free turn goes to whoever asks, because handing every turn over costs a thread wake-up
(handing over all of them cut the views served a second by 40%). Only work that never waits on the network takes a
turn: a first view gives its turn back before it asks Consonance, and code that may wait on the network while a
view holds one (fetching Forge's signing keys) steps aside (`stepped_aside`), so a slow outside system holds up
only the views that need it.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

TURNS = 2  # one process runs Python on one core at a time; two keep it busy while one view is between steps
PATIENCE_SECONDS = 0.005

_HELD: contextvars.ContextVar[Turns | None] = contextvars.ContextVar("interpreter_turn", default=None)


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


@contextmanager
def holding(turns: Turns) -> Iterator[None]:
    """Hold one of `turns` inside (unless given back earlier: `give_back_held`, `stepped_aside`)."""
    turns.take()
    reset = _HELD.set(turns)
    try:
        yield
    finally:
        give_back_held()
        _HELD.reset(reset)


def give_back_held() -> None:
    """Give back the turn this view holds, if it holds one (it is about to wait on the network)."""
    held = _HELD.get()
    if held is not None:
        _HELD.set(None)
        held.give_back()


@contextmanager
def stepped_aside() -> Iterator[None]:
    """Wait on the network without holding a turn; the turn is taken again after (nothing when none is held)."""
    held = _HELD.get()
    if held is None:
        yield
        return
    give_back_held()
    try:
        yield
    finally:
        held.take()
        _HELD.set(held)
