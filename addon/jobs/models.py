"""Tables for background work: the outbox, job runs, schedule marks and processed events.

Every row belongs to a tenant; the unique constraints are what make enqueueing, scheduling
and event handling safe to repeat from any number of processes.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from addon.extensions import Model
from addon.platform.models import TenantOwned, utcnow

PENDING = "pending"
IN_FLIGHT = "in_flight"
DELIVERED = "delivered"
FAILED = "failed"
TARGETS = ("consonance", "confluence")


class OutboxEntry(TenantOwned, Model):
    """One write owed to Consonance or Confluence, recorded with the change that caused it."""

    __tablename__ = "outbox_entry"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "dedupe_key", name="uq_outbox_entry_tenant_id_dedupe_key"),
        sa.Index("ix_outbox_entry_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    locked_by: Mapped[str | None] = mapped_column(sa.String(64))
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    result: Mapped[dict | None] = mapped_column(sa.JSON)

    def __repr__(self) -> str:
        return f"<OutboxEntry {self.id} {self.kind} {self.status} tenant={self.tenant_id}>"


class JobRun(TenantOwned, Model):
    """One run of a background job; `outcome` is NULL while running (or if the worker died)."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(128))
    job_id: Mapped[str | None] = mapped_column(sa.String(128))
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(255))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(sa.String(16))  # ok | failed | partial
    counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str | None] = mapped_column(sa.String(500))


class ScheduleMark(TenantOwned, Model):
    """ "This kind of work was enqueued for this tenant in this period": the schedule's dedupe."""

    __tablename__ = "schedule_mark"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "kind", "period_key", name="uq_schedule_mark_tenant_id_kind_period_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    period_key: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)


class ProcessedEvent(TenantOwned, Model):
    """An incoming event already accepted, so a re-delivery is recognised and dropped."""

    __tablename__ = "processed_event"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "source", "event_key", name="uq_processed_event_tenant_id_source_event_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(32))
    event_key: Mapped[str] = mapped_column(sa.String(255))
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
