"""The schedule: `tick(now)` queues each tenant's due work once per period, however many schedulers tick.

Flows register periodic work with `@scheduled(kind, every=...)`; a `ScheduleMark` row per
(tenant, kind, period) is the dedupe, so a late or doubled tick never runs a period twice.

A tick costs in proportion to the work that became due, not to the number of tenants: each process
remembers the period it last saw marked for each (tenant, kind) and each tenant's intervals (kept while
the tenant's generation is unchanged, so a settings change applies at the next tick), so a tick reads
the enabled tenants' ids in one query and writes marks, in one statement per 500, only where a period
turned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from werkzeug.utils import import_string

from addon.extensions import db, rows_changed
from addon.jobs import outbox
from addon.jobs.extension import current_app_object
from addon.jobs.models import DELIVERED, JobRun, OutboxEntry, ProcessedEvent, ScheduleMark
from addon.jobs.runner import get_runner
from addon.jobs.settings import setting
from addon.jobs.unique import insert_many_once
from addon.platform import tenant_cache
from addon.platform.models import Tenant, utcnow

log = logging.getLogger("addon.jobs.schedule")

RUN_SCHEDULED = "addon.jobs.schedule.run_scheduled"
Interval = timedelta | Callable[[Flask, Tenant], timedelta]


@dataclass(frozen=True)
class Schedule:
    kind: str
    every: Interval
    func_path: str
    queue: str

    def interval(self, app: Flask, tenant: Tenant) -> timedelta:
        return self.every(app, tenant) if callable(self.every) else self.every


_schedules: dict[str, Schedule] = {}


def scheduled(kind: str, every: Interval, queue: str = "default"):
    """Register `func(tenant) -> counts dict` to run per enabled tenant every `every` (a timedelta,
    or `(app, tenant) -> timedelta` for per-tenant intervals)."""

    def register(func):
        _schedules[kind] = Schedule(kind, every, f"{func.__module__}.{func.__qualname__}", queue)
        return func

    return register


def schedules() -> dict[str, Schedule]:
    return dict(_schedules)


def period_key(every: timedelta, now: datetime) -> str:
    """Which period `now` falls in: whole multiples of `every` since the epoch (UTC)."""
    seconds = max(int(every.total_seconds()), 1)
    return f"{seconds}s:{int(now.timestamp()) // seconds}"


# A tenant's intervals are read again at least this often even when its generation says nothing changed
# (the bound for changes made outside the ORM), spread over ten minutes by tenant id.
INTERVALS_RECHECK_SECONDS = 600
STATE_EXTENSION = "addon.jobs.schedule"


@dataclass
class ScheduleState:
    """What this process knows of the schedule between ticks (the marks stay the dedupe across processes)."""

    marked: dict[tuple[int, str], str] = field(default_factory=dict)  # (tenant id, kind) -> period seen marked
    intervals: dict[int, tuple[tuple | None, float, dict[str, timedelta]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _state(app: Flask) -> ScheduleState:
    found = app.extensions.get(STATE_EXTENSION)
    if found is None:
        found = app.extensions.setdefault(STATE_EXTENSION, ScheduleState())
    return found


def _enabled_tenant_ids() -> list[int]:
    return list(
        db.session.execute(
            sa.select(Tenant.id).where(Tenant.enabled.is_(True), Tenant.uninstalled_at.is_(None)).order_by(Tenant.id)
        ).scalars()
    )


def _intervals(app: Flask, tenant_ids: list[int]) -> dict[int, dict[str, timedelta]]:
    """Each tenant's interval per kind: remembered while its generation is unchanged, else computed (the
    tenants that need it loaded in one query per 500)."""
    state, cache, clock = _state(app), tenant_cache.current(), time.monotonic()
    stale = {}
    for tenant_id in tenant_ids:
        generation = cache.generation(tenant_id) if cache is not None else None
        known = state.intervals.get(tenant_id)
        recheck = INTERVALS_RECHECK_SECONDS * (1 + (tenant_id % 60) / 60)
        if known is None or generation is None or known[0] != generation or clock - known[1] > recheck:
            stale[tenant_id] = generation
    ids = list(stale)
    for start in range(0, len(ids), 500):
        for tenant in db.session.execute(sa.select(Tenant).where(Tenant.id.in_(ids[start : start + 500]))).scalars():
            per_kind = {s.kind: s.interval(app, tenant) for s in list(_schedules.values())}
            state.intervals[tenant.id] = (stale[tenant.id], clock, per_kind)
    if len(state.intervals) > len(tenant_ids):  # tenants that left
        wanted = set(tenant_ids)
        for tenant_id in [t for t in state.intervals if t not in wanted]:
            del state.intervals[tenant_id]
    return {tenant_id: state.intervals[tenant_id][2] for tenant_id in tenant_ids if tenant_id in state.intervals}


def _current_periods(app: Flask, now: datetime):
    """(tenant id, schedule, period) for every enabled tenant and registered schedule, at `now`."""
    tenant_ids = _enabled_tenant_ids()
    intervals = _intervals(app, tenant_ids)
    for tenant_id in tenant_ids:
        for schedule in list(_schedules.values()):
            every = intervals.get(tenant_id, {}).get(schedule.kind)
            if every is not None:
                yield tenant_id, schedule, period_key(every, now)


def tick(now: datetime | None = None) -> list[tuple[int, str, str]]:
    """Queue what is due for every enabled tenant; returns (tenant id, kind, period) for each queued.

    Only (tenant, kind) pairs whose period turned since this process last saw them marked reach the
    database; of those, the ones another scheduler marked first are left to it."""
    app = current_app_object()
    state = _state(app)
    periods = list(_current_periods(app, now or utcnow()))
    with state.lock:
        due = [(t, s, p) for t, s, p in periods if state.marked.get((t, s.kind)) != p]
    if not due:
        return []
    created = _mark(due)
    with state.lock:
        for tenant_id, schedule, period in due:
            state.marked[(tenant_id, schedule.kind)] = period
    queued = []
    for tenant_id, schedule, period in due:
        if (tenant_id, schedule.kind, period) not in created:
            continue
        if _submit(app, tenant_id, schedule, period):
            queued.append((tenant_id, schedule.kind, period))
        else:
            with state.lock:
                state.marked.pop((tenant_id, schedule.kind), None)
    if queued:
        log.info("schedule tick queued %d jobs", len(queued))
    return queued


def requeue_unstarted(now: datetime | None = None) -> list[tuple[int, str, str]]:
    """Queue again the current period's work that was queued but never started, because its job was lost
    with the queue (Redis lost its data, or the embedded process holding it stopped). Work still waiting in
    the queue is not doubled: the runner keeps one job per dedupe key. Older periods are left to the next."""
    app = current_app_object()
    due = {
        _dedupe_key(schedule.kind, tenant_id, period): (tenant_id, schedule, period)
        for tenant_id, schedule, period in _current_periods(app, now or utcnow())
    }
    if not due:
        return []
    marks = db.session.execute(
        sa.select(ScheduleMark.tenant_id, ScheduleMark.kind, ScheduleMark.period_key, ScheduleMark.created_at).where(
            ScheduleMark.tenant_id.in_({tenant_id for tenant_id, _s, _p in due.values()}),
            ScheduleMark.period_key.in_({period for _t, _s, period in due.values()}),
        )
    ).all()
    marked = {_dedupe_key(kind, tenant_id, period) for tenant_id, kind, period, _at in marks} & set(due)
    if not marked:
        return []
    started = set(
        db.session.execute(
            sa.select(JobRun.dedupe_key).where(
                JobRun.started_at >= min(at for *_key, at in marks), JobRun.dedupe_key.in_(marked)
            )
        ).scalars()
    )
    requeued = []
    for key in sorted(marked - started):
        tenant_id, schedule, period = due[key]
        if _submit(app, tenant_id, schedule, period):
            requeued.append((tenant_id, schedule.kind, period))
    if requeued:
        log.warning("queued again %d scheduled jobs of this period that never started", len(requeued))
    return requeued


def _dedupe_key(kind: str, tenant_id: int, period: str) -> str:
    return f"{kind}:{tenant_id}:{period}"


def _mark(due: list[tuple[int, Schedule, str]]) -> set[tuple[int, str, str]]:
    """Mark every due (tenant, kind, period) at once; returns those marked here (not by another scheduler)."""
    created_at = utcnow()
    created = insert_many_once(
        ScheduleMark,
        [
            {"tenant_id": tenant_id, "kind": schedule.kind, "period_key": period, "created_at": created_at}
            for tenant_id, schedule, period in due
        ],
        ("tenant_id", "kind", "period_key"),
    )
    db.session.commit()
    return created


def _submit(app: Flask, tenant_id: int, schedule: Schedule, period: str) -> bool:
    try:
        get_runner(app).submit(
            RUN_SCHEDULED,
            args=(schedule.kind, tenant_id),
            tenant_id=tenant_id,
            kind=schedule.kind,
            dedupe_key=_dedupe_key(schedule.kind, tenant_id, period),
            queue=schedule.queue,
        )
        return True
    except Exception:
        # The queue is down: forget the mark so the next tick tries this period again.
        log.warning("could not queue %s for tenant %s; the next tick retries", schedule.kind, tenant_id, exc_info=True)
        db.session.execute(
            sa.delete(ScheduleMark).where(
                ScheduleMark.tenant_id == tenant_id,
                ScheduleMark.kind == schedule.kind,
                ScheduleMark.period_key == period,
            )
        )
        db.session.commit()
        return False


def run_scheduled(kind: str, tenant_id: int) -> dict:
    """Job function: run one tenant's scheduled work, unless the tenant left meanwhile."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or not tenant.enabled or tenant.uninstalled_at is not None:
        return {"skipped": 1}
    schedule = _schedules.get(kind)
    if schedule is None:
        raise LookupError(f"no scheduled work registered as {kind!r}")
    return import_string(schedule.func_path)(tenant) or {}


def run_scheduler(app: Flask, interval: float, stop: threading.Event | None = None) -> None:
    """Tick every `interval` seconds until `stop` is set; a failed tick is logged and the loop goes on."""
    stop = stop or threading.Event()
    swept = False  # at start-up, and whenever the queue lost its jobs, queue again what never started
    while not stop.is_set():
        with app.app_context():
            try:
                if get_runner(app).queue_was_emptied() or not swept:
                    requeue_unstarted()
                    swept = True
                tick()
            except Exception:
                log.exception("schedule tick failed; retrying in %s s", interval)
                db.session.rollback()
        stop.wait(interval)


# --- built-in scheduled work ------------------------------------------------------------------


def _drain_interval(app: Flask, _tenant: Tenant) -> timedelta:
    return timedelta(seconds=setting(app, "OUTBOX_DRAIN_EVERY_SECONDS"))


@scheduled("outbox.drain", every=_drain_interval)
def drain_outbox(tenant: Tenant) -> dict:
    """Deliver the tenant's due entries: retries, and any whose first delivery was lost with a worker."""
    counts = outbox.drain(tenant=tenant, limit=500)
    counts["lost_runs"] = mark_lost_runs(tenant)
    return counts


def mark_lost_runs(tenant: Tenant, now: datetime | None = None) -> int:
    """Runs unfinished long past the job timeout died with their worker: say so on the activity page."""
    app = current_app_object()
    cutoff = (now or utcnow()) - timedelta(seconds=2 * setting(app, "JOB_TIMEOUT_SECONDS") + 60)
    lost = rows_changed(
        db.session.execute(
            sa.update(JobRun)
            .where(JobRun.tenant_id == tenant.id, JobRun.finished_at.is_(None), JobRun.started_at < cutoff)
            .values(outcome="failed", finished_at=now or utcnow(), error="worker lost (killed or restarted) mid-run")
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return lost


@scheduled("jobs.prune", every=timedelta(days=1), queue="low")
def prune(tenant: Tenant, *, keep: timedelta = timedelta(days=30)) -> dict:
    """Forget old schedule marks, processed events, job runs and delivered entries (failed ones stay)."""
    cutoff = utcnow() - keep
    removed = {}
    for name, model, column, extra in (
        ("schedule_marks", ScheduleMark, ScheduleMark.created_at, None),
        ("processed_events", ProcessedEvent, ProcessedEvent.received_at, None),
        ("job_runs", JobRun, JobRun.started_at, None),
        ("delivered_entries", OutboxEntry, OutboxEntry.delivered_at, OutboxEntry.status == DELIVERED),
    ):
        condition = sa.and_(model.tenant_id == tenant.id, column < cutoff, *([extra] if extra is not None else []))
        removed[name] = rows_changed(
            db.session.execute(sa.delete(model).where(condition).execution_options(synchronize_session=False))
        )
    db.session.commit()
    return removed
