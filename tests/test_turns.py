"""Turns at the interpreter for views served from memory (addon/addon/turns.py): at most N at once, a free turn to
whoever asks until the longest waiter has waited its patience out, then handed to it; and nobody left waiting
when the traffic stops."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from addon import turns
from addon.platform.errors import KeyUnavailable
from addon.platform.keys import JwksCache
from addon.turns import Turns


def _taking(turns: Turns, name: str, got: list[str]) -> threading.Thread:
    thread = threading.Thread(target=lambda: (turns.take(), got.append(name)))
    thread.start()
    return thread


def _waiting(turns: Turns, count: int) -> None:
    deadline = time.monotonic() + 2
    while len(turns._waiting) < count:
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_at_most_the_turns_at_once():
    turns, got = Turns(turns=2, patience=0.05), []
    turns.take()
    turns.take()
    third = _taking(turns, "third", got)
    time.sleep(0.15)  # well past its patience: no turn is free, so it still waits
    assert got == []
    turns.give_back()
    third.join(2)
    assert got == ["third"]


def test_the_longest_waiter_is_handed_the_next_turn_once_its_patience_is_out():
    turns, got = Turns(turns=1, patience=0.05), []
    turns.take()
    first = _taking(turns, "first", got)
    _waiting(turns, 1)
    second = _taking(turns, "second", got)
    _waiting(turns, 2)
    time.sleep(0.08)
    turns.give_back()  # handed over: a newcomer now queues behind the others
    first.join(2)
    newcomer = _taking(turns, "newcomer", got)
    _waiting(turns, 2)
    turns.give_back()
    second.join(2)
    turns.give_back()
    newcomer.join(2)
    assert got == ["first", "second", "newcomer"]


def test_before_its_patience_is_out_a_free_turn_goes_to_whoever_asks():
    """Handing every turn over costs each view a thread wake-up; a short wait is cheaper than that."""
    turns, got = Turns(turns=1, patience=0.5), []
    turns.take()
    waiter = _taking(turns, "waiter", got)
    _waiting(turns, 1)
    turns.give_back()
    started = time.monotonic()
    turns.take()  # at once, not after the waiter
    assert time.monotonic() - started < 0.05 and got == []
    turns.give_back()
    waiter.join(2)  # and the waiter finds the free turn when it looks again
    assert got == ["waiter"]


def test_a_waiter_is_not_left_waiting_when_the_traffic_stops():
    turns, got = Turns(turns=1, patience=0.02), []
    turns.take()
    waiter = _taking(turns, "waiter", got)
    _waiting(turns, 1)
    turns.give_back()  # before its patience is out: the turn is left free, not handed over
    waiter.join(2)
    assert got == ["waiter"] and not turns._waiting


def test_many_threads_all_get_their_turns_and_none_is_lost():
    turns, got = Turns(turns=2, patience=0.001), []
    lock = threading.Lock()

    def view(number: int) -> None:
        for _ in range(200):
            turns.take()
            with lock:
                got.append(number)
            turns.give_back()

    threads = [threading.Thread(target=view, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(got) == 1600 and turns._free == 2 and not turns._waiting


def test_a_view_holds_its_turn_until_it_gives_it_back_and_never_gives_back_twice():
    interpreter = Turns(turns=1)
    with turns.holding(interpreter):
        assert interpreter._free == 0
        turns.give_back_held()  # e.g. a first view about to ask Consonance
        assert interpreter._free == 1
        turns.give_back_held()
    assert interpreter._free == 1  # the end of `holding` gives back nothing more
    turns.give_back_held()  # outside a view: nothing held, nothing given
    assert interpreter._free == 1


def test_waiting_for_forges_signing_keys_steps_aside_and_takes_the_turn_again_after():
    """Atlassian slow to answer holds up the views that need its keys, not every view in the process."""
    interpreter = Turns(turns=1)
    free_while_fetching = []

    class SlowAtlassian:
        def get(self, url, timeout):
            free_while_fetching.append(interpreter._free)
            raise requests.ConnectionError("timed out")

    keys = JwksCache("https://forge.test/.well-known/jwks.json", session=SlowAtlassian())
    with turns.holding(interpreter):
        with pytest.raises(KeyUnavailable):
            keys.key_for("kid-1")
        assert interpreter._free == 0  # taken again before the view goes on
    assert free_while_fetching == [1] and interpreter._free == 1
