"""Helpers for the sync-flow tests (their fixtures are in tests/flows/conftest.py): draining the outbox,
and reading the emulator's pages."""

from __future__ import annotations

from addon.jobs import outbox

CATALOGUE = {"SEED": 7, "SIZE": 40}  # the sync tests' Consonance catalogue
SPACE = "PUB"


def drain(tenant, **kwargs) -> dict:
    """Deliver everything due for the tenant, until nothing is left (entries may enqueue none)."""
    totals: dict = {}
    for _ in range(10):
        counts = outbox.drain(tenant=tenant, limit=500, **kwargs)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if not any(counts.values()):
            break
    return totals


def versions(emulator) -> dict[str, int]:
    """Every current page's version number in the emulator."""
    store = emulator.store
    with store.lock:
        return {p.id: p.current.number for p in store.pages.values() if p.status == "current"}


def pages_titled(emulator, prefix: str) -> list:
    store = emulator.store
    with store.lock:
        return [p for p in store.pages.values() if p.status == "current" and p.title.startswith(prefix)]


def consonance_web_links(consonance, work_id) -> list[dict]:
    """The work's web links as Consonance holds them (the sandbox's own record, read through its control API)."""
    return consonance.control.work(int(work_id))["webLinks"]
