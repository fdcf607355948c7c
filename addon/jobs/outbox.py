"""The transactional outbox: every write to Consonance or Confluence, recorded, then delivered.

`enqueue` adds a row to the caller's transaction (so the write is owed exactly when the change
that caused it commits); `deliver` claims it under a lease, runs its idempotent handler, and
records the outcome. At-least-once delivery plus idempotent handlers gives one effect.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from addon.extensions import db, rows_changed
from addon.jobs.errors import short_error
from addon.jobs.extension import current_app_object
from addon.jobs.models import DELIVERED, FAILED, IN_FLIGHT, PENDING, TARGETS, OutboxEntry
from addon.jobs.runner import get_runner
from addon.jobs.settings import setting
from addon.jobs.unique import insert_once
from addon.logs import log_context
from addon.platform.models import Tenant
from addon.retries import backoff_delay
from addon.utc import as_utc, utcnow

log = logging.getLogger("addon.jobs.outbox")

PENDING_KICKS = "addon.jobs.outbox_kicks"
DELIVER_JOB = "addon.jobs.outbox.deliver_job"

Handler = Callable[[Tenant, dict], dict]
StatusHook = Callable[[Tenant, dict, str], None]
_handlers: dict[str, Handler] = {}
_status_hooks: dict[str, StatusHook] = {}


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (e.g. the target object was deleted)."""


# An exception carrying a `not_sent_reason` attribute means the target system does not accept this kind of
# write at all (e.g. a tenant's Consonance lacks the mutation): the entry is settled with that reason, not
# retried and not shown as a failure.


class DeliveryOutcome:
    """What `deliver` did with an entry."""

    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"
    SKIPPED = "skipped"  # someone else holds it, or it is not due


# --- handlers ---------------------------------------------------------------------------------


def outbox_handler(kind: str, *, on_status: StatusHook | None = None):
    """Register `func(tenant, payload) -> dict` as the deliverer of `kind`; it must be idempotent. It reaches
    Consonance and Confluence through `addon.gateways.gateways()`, like every other caller.

    `on_status(tenant, payload, status)` runs in the same transaction when an entry of this kind
    fails for good (`failed`) or an admin retries it (`pending`), so records that mirror delivery
    (a decision's state) never disagree with the outbox.
    """

    def register(func: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and existing is not func and _qualified(existing) != _qualified(func):
            raise ValueError(f"outbox handler {kind!r} is already registered by {_qualified(existing)}")
        _handlers[kind] = func
        if on_status is not None:
            _status_hooks[kind] = on_status
        return func

    return register


def _notify_status(entry: OutboxEntry, status: str) -> None:
    hook = _status_hooks.get(entry.kind)
    if hook is not None:
        hook(db.session.get_one(Tenant, entry.tenant_id), json.loads(json.dumps(entry.payload)), status)


def _qualified(func) -> str:
    return f"{func.__module__}.{func.__qualname__}"


# --- enqueue ---------------------------------------------------------------------------------


def enqueue(
    tenant: Tenant, target: str, kind: str, payload: dict, dedupe_key: str, *, max_attempts: int | None = None
) -> OutboxEntry:
    """Add a write to the current transaction (not committed); a repeated dedupe_key returns the first entry."""
    if target not in TARGETS:
        raise ValueError(f"unknown outbox target {target!r}")
    if kind not in _handlers:
        raise ValueError(f"no outbox handler registered for {kind!r}")
    if not dedupe_key or len(dedupe_key) > 255:
        raise ValueError("dedupe_key must be 1-255 characters")
    json.dumps(payload)  # fail here, in the caller, rather than in a worker
    now = utcnow()
    entry_id, created = insert_once(
        OutboxEntry,
        {
            "tenant_id": tenant.id,
            "target": target,
            "kind": kind,
            "payload": payload,
            "dedupe_key": dedupe_key,
            "status": PENDING,
            "attempts": 0,
            "max_attempts": max_attempts or setting(current_app, "OUTBOX_MAX_ATTEMPTS"),
            "next_attempt_at": now,
            "created_at": now,
        },
        ("tenant_id", "dedupe_key"),
    )
    entry = db.session.get_one(OutboxEntry, entry_id)
    if created:
        log.info("outbox entry %s queued: %s", entry_id, kind)
        _kick_after_commit(entry)
    return entry


def waiting(tenant: Tenant, kind: str, payload: dict) -> OutboxEntry | None:
    """An entry of `kind` with exactly this payload that no worker has claimed yet, locked until the caller's
    transaction ends (so it cannot be claimed before the cause the caller records is committed), and queued
    for delivery again after that commit. For writes that read the current state when they run (a hub
    refresh): one still waiting will see the caller's change, so a second entry would only repeat it."""
    query = (
        sa.select(OutboxEntry)
        .where(OutboxEntry.tenant_id == tenant.id, OutboxEntry.kind == kind, OutboxEntry.status == PENDING)
        .order_by(OutboxEntry.id)
        .with_for_update()
    )
    wanted = json.loads(json.dumps(payload))
    for entry in db.session.execute(query).scalars():
        if entry.payload == wanted:
            _kick_after_commit(entry)
            return entry
    return None


def _kick_after_commit(entry: OutboxEntry) -> None:
    db.session.info.setdefault(PENDING_KICKS, []).append((entry.id, entry.tenant_id))


def kick(app: Flask, entries: list[tuple[int, int]]) -> None:
    """Ask the job runner to deliver these (entry id, tenant id) now; the drain catches any it misses."""
    runner = get_runner(app)
    for entry_id, tenant_id in entries:
        try:
            runner.submit(
                DELIVER_JOB,
                args=(entry_id,),
                tenant_id=tenant_id,
                kind="outbox.deliver",
                dedupe_key=f"outbox.deliver:{entry_id}",
            )
        except Exception:  # the queue is down: the scheduled drain delivers it later
            log.warning(
                "could not queue delivery of outbox entry %s; the drain will pick it up", entry_id, exc_info=True
            )


# --- delivery --------------------------------------------------------------------------------


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]


def _claimable(now: datetime):
    return sa.or_(
        sa.and_(OutboxEntry.status == PENDING, OutboxEntry.next_attempt_at <= now),
        sa.and_(OutboxEntry.status == IN_FLIGHT, OutboxEntry.locked_until < now),
    )


def _claim(entry_id: int, me: str, now: datetime, lease_seconds: float) -> bool:
    """Take the entry under a lease, in its own committed transaction; False if not due or taken."""
    session = db.session
    condition = sa.and_(OutboxEntry.id == entry_id, _claimable(now))
    if session.get_bind().dialect.name == "postgresql":
        locked = session.execute(
            sa.select(OutboxEntry.id).where(condition).with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if locked is None:
            session.rollback()
            return False
    claimed = (
        rows_changed(
            session.execute(
                sa.update(OutboxEntry)
                .where(condition)
                .values(
                    status=IN_FLIGHT,
                    locked_by=me,
                    locked_until=now + timedelta(seconds=lease_seconds),
                    attempts=OutboxEntry.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )
    session.commit()
    return claimed


def deliver(entry_id: int, *, now: datetime | None = None) -> str:
    """Deliver one entry if it is due and nobody else holds it; commits. Returns an `DeliveryOutcome` value."""
    app = current_app_object()
    me = worker_id()
    start = now or utcnow()
    if not _claim(entry_id, me, start, setting(app, "OUTBOX_LEASE_SECONDS")):
        return DeliveryOutcome.SKIPPED
    entry = db.session.get_one(OutboxEntry, entry_id, populate_existing=True)  # ours now, under the lease
    tenant = db.session.get_one(Tenant, entry.tenant_id)
    with log_context(tenant=tenant.log_name):
        if entry.attempts > entry.max_attempts:
            return _record_failure(
                entry, me, "worker lost during the last attempt (lease expired)", permanent=True, now=now
            )
        if not tenant.enabled or tenant.uninstalled_at is not None:
            return _record_failure(entry, me, "the site has uninstalled or disabled the app", permanent=True, now=now)
        handler = _handlers.get(entry.kind)
        if handler is None:
            return _record_failure(entry, me, f"no handler registered for {entry.kind}", permanent=False, now=now)
        payload = json.loads(json.dumps(entry.payload))
        try:
            result = handler(tenant, payload)
        except PermanentError as exc:
            db.session.rollback()
            return _record_failure(entry, me, short_error(exc), permanent=True, now=now)
        except Exception as exc:
            not_sent = getattr(exc, "not_sent_reason", None)
            if not_sent:  # the target does not accept this kind of write at all: settle it, never retry
                db.session.rollback()
                log.info("outbox entry %s (%s) not sent: %s", entry_id, entry.kind, not_sent)
                return _record_success(entry, me, {"not_sent": str(not_sent)}, now=now)
            db.session.rollback()
            log.warning(
                "outbox entry %s (%s) attempt %s failed: %s", entry_id, entry.kind, entry.attempts, short_error(exc)
            )
            return _record_failure(entry, me, short_error(exc), permanent=False, now=now)
        return _record_success(entry, me, result, now=now)


def _record_success(entry: OutboxEntry, me: str, result, *, now: datetime | None) -> str:
    safe_result = json.loads(json.dumps(result if result is not None else {}, default=str))
    updated = rows_changed(
        db.session.execute(
            sa.update(OutboxEntry)
            .where(OutboxEntry.id == entry.id, OutboxEntry.locked_by == me, OutboxEntry.status == IN_FLIGHT)
            .values(
                status=DELIVERED,
                delivered_at=now or utcnow(),
                result=safe_result,
                last_error=None,
                locked_by=None,
                locked_until=None,
            )
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()  # also commits whatever the handler recorded in the session
    if not updated:
        log.warning("outbox entry %s delivered after its lease passed to another worker", entry.id)
        return DeliveryOutcome.SKIPPED
    log.info("outbox entry %s delivered (%s, attempt %s)", entry.id, entry.kind, entry.attempts)
    return DeliveryOutcome.DELIVERED


def _record_failure(entry: OutboxEntry, me: str, reason: str, *, permanent: bool, now: datetime | None) -> str:
    entry_id, attempts, max_attempts, kind = entry.id, entry.attempts, entry.max_attempts, entry.kind
    clock = now or utcnow()
    if permanent or attempts >= max_attempts:
        values: dict[str, str | datetime] = {"status": FAILED}
        outcome = DeliveryOutcome.FAILED
    else:
        app = current_app
        delay = backoff_delay(
            attempts - 1,
            base=setting(app, "OUTBOX_BACKOFF_BASE_SECONDS"),
            cap=setting(app, "OUTBOX_BACKOFF_CAP_SECONDS"),
        )
        values = {"status": PENDING, "next_attempt_at": clock + timedelta(seconds=delay)}
        outcome = DeliveryOutcome.RETRYING
    updated = rows_changed(
        db.session.execute(
            sa.update(OutboxEntry)
            .where(OutboxEntry.id == entry_id, OutboxEntry.locked_by == me, OutboxEntry.status == IN_FLIGHT)
            .values(last_error=reason[:500], locked_by=None, locked_until=None, **values)
            .execution_options(synchronize_session=False)
        )
    )
    if updated and outcome == DeliveryOutcome.FAILED:
        _notify_status(entry, FAILED)
    db.session.commit()
    if not updated:
        return DeliveryOutcome.SKIPPED
    if outcome == DeliveryOutcome.FAILED:
        log.error("outbox entry %s (%s) failed after %s attempts: %s", entry_id, kind, attempts, reason)
    return outcome


def deliver_job(entry_id: int) -> dict:
    """Job function: deliver one entry (queued right after the enqueuing transaction commits)."""
    return {"outcome": "ok", deliver(entry_id): 1}


def drain(tenant: Tenant | None = None, limit: int = 100, *, now: datetime | None = None) -> dict:
    """Deliver up to `limit` due entries (one tenant or all), oldest first; counts per outcome."""
    clock = now or utcnow()
    query = sa.select(OutboxEntry.id).where(_claimable(clock)).order_by(OutboxEntry.next_attempt_at).limit(limit)
    if tenant is not None:
        query = query.where(OutboxEntry.tenant_id == tenant.id)
    due = db.session.execute(query).scalars().all()
    db.session.commit()
    counts = {
        DeliveryOutcome.DELIVERED: 0,
        DeliveryOutcome.RETRYING: 0,
        DeliveryOutcome.FAILED: 0,
        DeliveryOutcome.SKIPPED: 0,
    }
    for entry_id in due:
        counts[deliver(entry_id, now=now)] += 1
    return counts


# --- admin -----------------------------------------------------------------------------------


def retry(entry_id: int, *, tenant: Tenant | None) -> bool:
    """Make a failed entry due again with fresh attempts (admin Retry); the caller commits. Scoped by tenant."""
    query = sa.update(OutboxEntry).where(OutboxEntry.id == entry_id, OutboxEntry.status == FAILED)
    if tenant is not None:
        query = query.where(OutboxEntry.tenant_id == tenant.id)
    updated = rows_changed(
        db.session.execute(
            query.values(
                status=PENDING, attempts=0, next_attempt_at=utcnow(), locked_by=None, locked_until=None
            ).execution_options(synchronize_session=False)
        )
    )
    if updated:
        entry = db.session.get_one(OutboxEntry, entry_id, populate_existing=True)
        _notify_status(entry, PENDING)
        _kick_after_commit(entry)
    return bool(updated)


def entries(tenant: Tenant, *, status: str | None = None, limit: int = 50) -> list[OutboxEntry]:
    """A tenant's entries, newest first, for the admin and activity pages."""
    query = sa.select(OutboxEntry).where(OutboxEntry.tenant_id == tenant.id)
    if status is not None:
        query = query.where(OutboxEntry.status == status)
    return list(db.session.execute(query.order_by(OutboxEntry.id.desc()).limit(limit)).scalars())


def depth(tenant: Tenant | None = None) -> dict[str, int]:
    """Entry counts by status (all four statuses always present), for metrics and the activity page."""
    query = sa.select(OutboxEntry.status, sa.func.count()).group_by(OutboxEntry.status)
    if tenant is not None:
        query = query.where(OutboxEntry.tenant_id == tenant.id)
    counts = {status: 0 for status in (PENDING, IN_FLIGHT, DELIVERED, FAILED)}
    counts.update(dict(db.session.execute(query).all()))
    return counts


def oldest_age(tenant: Tenant | None = None, *, now: datetime | None = None) -> float:
    """Seconds since the oldest undelivered (pending or in-flight) entry was created; 0 when none."""
    query = sa.select(sa.func.min(OutboxEntry.created_at)).where(OutboxEntry.status.in_((PENDING, IN_FLIGHT)))
    if tenant is not None:
        query = query.where(OutboxEntry.tenant_id == tenant.id)
    oldest = db.session.execute(query).scalar_one_or_none()
    if oldest is None:
        return 0.0
    return max(0.0, ((now or utcnow()) - as_utc(oldest)).total_seconds())
