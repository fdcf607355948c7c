"""The schedule tick: each tenant's due work queued once per period, however many schedulers tick."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from addon.extensions import db
from addon.jobs import outbox, schedule
from addon.jobs.models import DELIVERED, JobRun, OutboxEntry, ProcessedEvent, ScheduleMark
from addon.jobs.runner import InlineRunner, set_runner
from addon.platform.models import utcnow
from tests.fixtures.tenants import make_tenant

NOW = datetime(2026, 3, 2, 9, 1, 30, tzinfo=UTC)


def queued_kinds(recorder, kind="test.poll"):
    return [(job["tenant_id"], job["dedupe_key"]) for job in recorder.submitted if job["kind"] == kind]


def test_the_same_period_is_queued_once_and_the_next_period_again(tenant, recorder):
    schedule.tick(NOW)
    schedule.tick(NOW + timedelta(minutes=2))  # a late or repeated tick in the same 5-minute period
    assert len(queued_kinds(recorder)) == 1
    schedule.tick(NOW + timedelta(minutes=5))
    assert len(queued_kinds(recorder)) == 2
    kinds = {job["kind"] for job in recorder.submitted}
    assert {"test.poll", "outbox.drain", "jobs.prune"} <= kinds
    prune = [job for job in recorder.submitted if job["kind"] == "jobs.prune"]
    assert len(prune) == 1 and prune[0]["queue"] == "low"


def test_only_enabled_tenants_get_work(tenant, recorder):
    gone = make_tenant(enabled=False, uninstalled_at=utcnow())
    schedule.tick(NOW)
    assert {tenant_id for tenant_id, _ in queued_kinds(recorder)} == {tenant.id}
    assert gone.id not in {job["tenant_id"] for job in recorder.submitted}


def test_two_schedulers_ticking_at_once_queue_each_period_once(app, tenant, other_tenant, recorder):
    barrier = threading.Barrier(3)
    errors = []

    def scheduler():
        try:
            with app.app_context():
                barrier.wait(timeout=5)
                schedule.tick(NOW)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert sorted(queued_kinds(recorder)) == sorted(
        [
            (tenant.id, f"test.poll:{tenant.id}:300s:{int(NOW.timestamp()) // 300}"),
            (other_tenant.id, f"test.poll:{other_tenant.id}:300s:{int(NOW.timestamp()) // 300}"),
        ]
    )
    assert db.session.execute(sa.select(sa.func.count()).select_from(ScheduleMark)).scalar_one() == 2 * len(
        schedule.schedules()
    )


def test_a_tick_that_cannot_queue_retries_the_period_next_time(tenant, recorder):
    recorder.broken = True
    assert schedule.tick(NOW) == []
    recorder.broken = False
    assert (tenant.id, "test.poll", f"300s:{int(NOW.timestamp()) // 300}") in schedule.tick(NOW)


def test_scheduled_work_runs_for_its_tenant_and_is_recorded(app, tenant):
    set_runner(app, InlineRunner(app, synchronous=True))
    schedule.tick(NOW)
    runs = {run.kind: run for run in db.session.execute(sa.select(JobRun)).scalars()}
    assert runs["test.poll"].counts == {"polled": tenant.id} and runs["test.poll"].outcome == "ok"
    assert runs["outbox.drain"].outcome == "ok"


def test_the_drain_schedule_delivers_due_entries(app, tenant, fake_consonance):
    entry = outbox.enqueue(tenant, "consonance", "test.add_note", {"work_id": "W", "text": "t", "key": "k"}, "k")
    db.session.commit()
    set_runner(app, InlineRunner(app, synchronous=True))
    schedule.tick(utcnow())
    db.session.expire_all()
    assert db.session.get(OutboxEntry, entry.id).status == DELIVERED
    assert fake_consonance.notes == {"k": "W: t"}


def test_run_scheduled_skips_a_tenant_that_left(app, tenant):
    tenant.enabled = False
    db.session.commit()
    assert schedule.run_scheduled("test.poll", tenant.id) == {"skipped": 1}


def test_prune_forgets_old_bookkeeping_but_keeps_failures(tenant, other_tenant):
    old = utcnow() - timedelta(days=40)
    for owner in (tenant, other_tenant):
        db.session.add_all(
            [
                ScheduleMark(tenant_id=owner.id, kind="k", period_key="p", created_at=old),
                ProcessedEvent(tenant_id=owner.id, source="forge", event_key="page:1:2", received_at=old),
                JobRun(tenant_id=owner.id, kind="k", started_at=old),
                OutboxEntry(
                    tenant_id=owner.id,
                    target="consonance",
                    kind="test.add_note",
                    payload={},
                    dedupe_key="d",
                    status="delivered",
                    delivered_at=old,
                    created_at=old,
                ),
                OutboxEntry(
                    tenant_id=owner.id,
                    target="consonance",
                    kind="test.add_note",
                    payload={},
                    dedupe_key="f",
                    status="failed",
                    created_at=old,
                ),
            ]
        )
    db.session.commit()
    assert schedule.prune(tenant) == {"schedule_marks": 1, "processed_events": 1, "job_runs": 1, "delivered_entries": 1}
    remaining = db.session.execute(sa.select(OutboxEntry.tenant_id, OutboxEntry.dedupe_key)).all()
    assert sorted(remaining) == sorted([(tenant.id, "f"), (other_tenant.id, "d"), (other_tenant.id, "f")])


def test_cli_tick_and_drain(app, tenant, recorder, fake_consonance):
    outbox.enqueue(tenant, "consonance", "test.add_note", {"work_id": "W", "text": "t", "key": "k"}, "k")
    db.session.commit()
    cli = app.test_cli_runner()
    result = cli.invoke(args=["jobs", "tick"])
    assert result.exit_code == 0 and "queued" in result.output
    result = cli.invoke(args=["jobs", "drain", "--tenant", str(tenant.id)])
    assert result.exit_code == 0 and '"delivered": 1' in result.output
    result = cli.invoke(args=["jobs", "stats"])
    assert '"delivered": 1' in result.output


def test_scheduler_loop_ticks_until_stopped(app, tenant, recorder, monkeypatch):
    stop = threading.Event()
    ticks = []
    original = schedule.tick

    def counting_tick(now=None):
        ticks.append(1)
        if len(ticks) >= 2:
            stop.set()
        return original(now)

    monkeypatch.setattr(schedule, "tick", counting_tick)
    schedule.run_scheduler(app, interval=0.01, stop=stop)
    assert len(ticks) == 2
    assert len(queued_kinds(recorder)) == 1, "two ticks in one period queue one poll"


def test_period_keys_split_time_into_whole_intervals():
    every = timedelta(minutes=5)
    assert schedule.period_key(every, NOW) == schedule.period_key(every, NOW + timedelta(minutes=3, seconds=29))
    assert schedule.period_key(every, NOW) != schedule.period_key(every, NOW + timedelta(minutes=3, seconds=30))


def test_runs_left_unfinished_by_a_dead_worker_are_marked_lost(app, tenant, other_tenant):
    app.config["JOB_TIMEOUT_SECONDS"] = 60
    now = utcnow()
    db.session.add_all(
        [
            JobRun(tenant_id=tenant.id, kind="poll", started_at=now - timedelta(minutes=10)),
            JobRun(tenant_id=tenant.id, kind="page-set", started_at=now - timedelta(seconds=30)),
            JobRun(tenant_id=other_tenant.id, kind="poll", started_at=now - timedelta(minutes=10)),
        ]
    )
    db.session.commit()
    assert schedule.mark_lost_runs(tenant, now) == 1
    outcomes = db.session.execute(sa.select(JobRun.tenant_id, JobRun.kind, JobRun.outcome).order_by(JobRun.id)).all()
    assert outcomes == [(tenant.id, "poll", "failed"), (tenant.id, "page-set", None), (other_tenant.id, "poll", None)]


def test_work_queued_but_never_started_is_queued_again_within_its_period(app, tenant, recorder):
    schedule.tick(NOW)
    recorder.submitted.clear()  # the queue lost them: nothing ran, no JobRun exists
    later = NOW + timedelta(minutes=1)
    requeued = {(tenant_id, kind) for tenant_id, kind, _period in schedule.requeue_unstarted(later)}
    assert {(tenant.id, "test.poll"), (tenant.id, "jobs.prune")} <= requeued
    assert (tenant.id, "outbox.drain") not in requeued  # its period is over: the next one runs it
    assert len(queued_kinds(recorder)) == 1

    poll = next(job for job in recorder.submitted if job["kind"] == "test.poll")
    db.session.add(JobRun(tenant_id=tenant.id, kind="test.poll", dedupe_key=poll["dedupe_key"], outcome="ok"))
    db.session.commit()
    recorder.submitted.clear()
    again = {kind for _tenant_id, kind, _period in schedule.requeue_unstarted(later)}
    assert "test.poll" not in again and "jobs.prune" in again  # what started is not run twice
    next_period = {kind for _t, kind, _p in schedule.requeue_unstarted(NOW + timedelta(minutes=6))}
    assert "test.poll" not in next_period  # an earlier period is never queued again: the new one runs it


def test_a_tenant_that_left_gets_nothing_queued_again(app, tenant, recorder):
    schedule.tick(NOW)
    tenant.enabled = False
    db.session.commit()
    recorder.submitted.clear()
    assert schedule.requeue_unstarted(NOW + timedelta(minutes=1)) == []


def test_the_scheduler_sweeps_at_start_and_whenever_the_queue_lost_its_jobs(app, tenant, recorder, monkeypatch):
    stop = threading.Event()
    sweeps, ticks = [], []
    monkeypatch.setattr(schedule, "requeue_unstarted", lambda now=None: sweeps.append(len(ticks)) or [])

    def counting_tick(now=None):
        ticks.append(1)
        if len(ticks) >= 4:
            stop.set()
        return []

    monkeypatch.setattr(schedule, "tick", counting_tick)
    recorder.emptied = [False, False, True, False]
    schedule.run_scheduler(app, interval=0.01, stop=stop)
    assert sweeps == [0, 2]  # before the first tick, and before the tick after the queue was emptied


class Statements:
    """Counts the SQL statements the app's engine runs inside the block."""

    def __init__(self):
        self.count = 0

    def _count(self, *_args):
        self.count += 1

    def __enter__(self):
        sa.event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        sa.event.remove(db.engine, "before_cursor_execute", self._count)


def test_a_tick_with_nothing_due_costs_the_same_for_2_tenants_as_for_40(tenant, other_tenant, recorder):
    schedule.tick(NOW)
    with Statements() as two:
        assert schedule.tick(NOW + timedelta(seconds=10)) == []
    for _ in range(38):
        make_tenant()
    first = schedule.tick(NOW + timedelta(seconds=20))  # the new tenants' first periods are due
    assert {tenant_id for tenant_id, _kind, _period in first} == set(range(other_tenant.id + 1, other_tenant.id + 39))
    submitted = len(recorder.submitted)
    with Statements() as forty:
        assert schedule.tick(NOW + timedelta(seconds=25)) == []  # still 09:01
    assert forty.count == two.count == 1  # the enabled tenants' ids; nothing is written
    assert len(recorder.submitted) == submitted


def test_a_tick_writes_marks_for_due_work_in_one_statement(tenant, other_tenant, recorder):
    for _ in range(8):
        make_tenant()
    with Statements() as first:
        queued = schedule.tick(NOW)
    assert len(queued) == 10 * len(schedule.schedules())
    # tenant ids, the ten tenants loaded once for their intervals (their settings), one insert of every mark,
    # and the commit's statements: nothing per (tenant, kind)
    assert first.count < 5 * 10
    with Statements() as next_minute:
        queued = schedule.tick(NOW + timedelta(minutes=1))
    minute_kinds = {kind for _tenant_id, kind, _period in queued}
    assert minute_kinds and len(queued) == 10 * len(minute_kinds)
    assert next_minute.count <= 3  # tenant ids, one insert, and nothing else


def test_a_changed_poll_interval_applies_at_the_next_tick(app, tenant, recorder):
    from addon.settings.service import update_settings

    update_settings(tenant, {"poll_interval_seconds": 600}, actor="test")
    db.session.commit()
    assert (tenant.id, "poll", f"600s:{int(NOW.timestamp()) // 600}") in schedule.tick(NOW)
    update_settings(tenant, {"poll_interval_seconds": 1200}, actor="test")
    db.session.commit()
    later = NOW + timedelta(seconds=5)
    assert [q for q in schedule.tick(later) if q[1] == "poll"] == [
        (tenant.id, "poll", f"1200s:{int(later.timestamp()) // 1200}")
    ]


def test_schedulers_in_two_processes_queue_each_period_once(app, app_config, tenant, other_tenant, recorder):
    """Each process remembers only what it saw; the marks keep two processes (two apps here) from doubling."""
    from addon import create_app

    other = create_app(app_config)
    other_recorder = type(recorder)()
    from addon.jobs.runner import set_runner as set_other_runner

    set_other_runner(other, other_recorder)
    first = schedule.tick(NOW)
    with other.app_context():
        assert schedule.tick(NOW) == []  # marked by the first process
        second = schedule.tick(NOW + timedelta(minutes=5))
        db.session.remove()
    assert schedule.tick(NOW + timedelta(minutes=5)) == []  # marked by the second
    assert first and second
    assert len(other_recorder.submitted) == len(second)
    queued = [job["dedupe_key"] for job in recorder.submitted + other_recorder.submitted]
    assert len(queued) == len(set(queued))


def test_a_tenant_that_leaves_gets_no_more_work(tenant, other_tenant, recorder):
    schedule.tick(NOW)
    other_tenant.enabled = False
    db.session.commit()
    later = schedule.tick(NOW + timedelta(days=1))
    assert later and {tenant_id for tenant_id, _kind, _period in later} == {tenant.id}
