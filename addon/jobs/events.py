"""Incoming-event dedupe: Atlassian re-delivers events, so each (tenant, source, key) is handled once."""

from __future__ import annotations

from addon.jobs.models import ProcessedEvent
from addon.jobs.unique import insert_once
from addon.platform.models import Tenant, utcnow


def record_event_once(tenant: Tenant, source: str, key: str) -> bool:
    """True the first time this event is seen, False for any re-delivery, even a concurrent one.

    Runs in the caller's transaction: commit it together with the job or outbox entry the event causes.
    """
    if not key or len(key) > 255:
        raise ValueError("event key must be 1-255 characters")
    _, created = insert_once(
        ProcessedEvent,
        {"tenant_id": tenant.id, "source": source[:32], "event_key": key, "received_at": utcnow()},
        ("tenant_id", "source", "event_key"),
    )
    return created
