"""What the panels must know about our own writes to Consonance, on every process.

A stage move approved in a panel is "pending" until the outbox has written it; once written, every
process's cached copy of that title is superseded, so the next view reads Consonance again instead of
showing the old stage for the rest of its freshness window. Both facts live in the shared macro store
(Redis in production), never in one process's memory.
"""

from __future__ import annotations

import json
import logging
import time

from addon.macros.cache import KEEP_SECONDS
from addon.platform.models import Tenant

log = logging.getLogger("addon.macros.own_writes")

PENDING_SECONDS = 24 * 3600  # a pending mark outlives any retry schedule, then lapses by itself


def _store():
    from addon.macros.service import macro_cache

    return macro_cache().store


def _changed_key(tenant_id: int, work_id: str) -> str:
    return f"t{tenant_id}:title-changed:{work_id}"


def _pending_key(tenant_id: int, work_id: str) -> str:
    return f"t{tenant_id}:stage-pending:{work_id}"


def stage_move_pending(tenant: Tenant, work_id: str, from_stage: str | None, to_stage: str) -> None:
    """A person approved a stage move; Consonance does not hold it yet."""
    body = json.dumps({"from": from_stage, "to": to_stage, "at": time.time()}).encode("utf-8")
    _store().set(_pending_key(tenant.id, str(work_id)), body, PENDING_SECONDS)
    log.info("stage move to %s pending for work %s", to_stage, work_id)


def pending_stage_move(tenant: Tenant, work_id: str) -> dict | None:
    """{"from": stage, "to": stage} while a stage move we owe Consonance is not written yet."""
    data = _store().get(_pending_key(tenant.id, str(work_id)))
    if not data:
        return None
    try:
        found = json.loads(data)
        return {"from": found.get("from"), "to": found["to"]}
    except (ValueError, KeyError, TypeError):
        return None


def title_changed(tenant: Tenant, work_id: str, *, written_by_us: bool = False) -> None:
    """Consonance now holds something newer for this title (our write, or one a poll found): every
    process's cached copy fetched before now is superseded; a pending move we wrote is no longer pending."""
    store = _store()
    store.set(_changed_key(tenant.id, str(work_id)), repr(time.time()).encode("ascii"), KEEP_SECONDS)
    if written_by_us:
        store.delete(_pending_key(tenant.id, str(work_id)))


def superseded(tenant: Tenant, work_id: str, fetched_at: float) -> bool:
    """True when the copy fetched at `fetched_at` is older than the title's last known change."""
    data = _store().get(_changed_key(tenant.id, str(work_id)))
    try:
        return bool(data) and float(data) > fetched_at
    except ValueError:
        return False
