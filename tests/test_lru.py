"""The bounded LRU behind the per-process memos: it never holds more than its size, drops the entry least
recently read or written, and forgets what it is told to."""

from __future__ import annotations

from addon.lru import BoundedLRU


def test_the_oldest_entry_goes_when_full():
    kept: BoundedLRU[str, int] = BoundedLRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (None, 2, 3)


def test_a_read_or_a_rewrite_keeps_an_entry():
    kept: BoundedLRU[str, int] = BoundedLRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1
    kept.put("c", 3)  # "b" is now the least recent
    assert (kept.get("a"), kept.get("b")) == (1, None)
    kept.put("a", 10)
    kept.put("d", 4)  # "c" goes, the rewritten "a" stays
    assert (kept.get("a"), kept.get("c"), kept.get("d")) == (10, None, 4)


def test_drop_forgets_and_tolerates_the_unknown():
    kept: BoundedLRU[str, int] = BoundedLRU(2)
    kept.put("a", 1)
    kept.drop("a")
    kept.drop("never")
    assert kept.get("a") is None
