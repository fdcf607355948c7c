"""The embedded default's own clock: with jobs on in-process threads, the app ticks the schedule itself —
the same `run_scheduler` loop as the `scheduler` process — often enough for a short POLL_INTERVAL_SECONDS."""

from __future__ import annotations

import time

import sqlalchemy as sa

from addon.extensions import db
from addon.gateways import TenantGateways, register_gateways
from addon.jobs.clock import clock_interval, start_embedded_clock, stop_embedded_clock
from addon.jobs.models import JobRun, ScheduleMark
from addon.jobs.runner import InlineRunner, set_runner
from tests.jobs.conftest import make_tenant


def test_the_tick_follows_a_short_poll_interval(app):
    app.config.update(POLL_INTERVAL_SECONDS=20, SCHEDULER_INTERVAL_SECONDS=30)
    assert clock_interval(app) == 2.0
    app.config.update(POLL_INTERVAL_SECONDS=300)
    assert clock_interval(app) == 5.0  # a newly connected site is polled within seconds
    app.config.update(POLL_INTERVAL_SECONDS=5)
    assert clock_interval(app) == 1.0


def test_no_clock_where_jobs_do_not_run_on_threads_here(app):
    assert start_embedded_clock(app) is None  # the test runner here records jobs, runs none
    set_runner(app, InlineRunner(app, synchronous=True))
    assert start_embedded_clock(app) is None


def test_the_clock_ticks_the_schedule_with_nobody_asking(app):
    app.config.update(POLL_INTERVAL_SECONDS=20)
    register_gateways(app, TenantGateways.from_config(app))  # the real poll meets the real gateways
    tenant = make_tenant()
    runner = InlineRunner(app, threads=2)
    set_runner(app, runner)
    assert start_embedded_clock(app) is not None
    assert start_embedded_clock(app) is None  # one clock per app
    try:
        deadline = time.monotonic() + 10
        polls = []
        while time.monotonic() < deadline and not polls:
            db.session.rollback()
            polls = (
                db.session.execute(
                    sa.select(JobRun).where(
                        JobRun.tenant_id == tenant.id, JobRun.kind == "poll", JobRun.finished_at.is_not(None)
                    )
                )
                .scalars()
                .all()
            )
            time.sleep(0.2)
        assert polls and polls[0].counts == {"skipped": 1}  # ran, found no Consonance connection
        marks = db.session.execute(sa.select(ScheduleMark.period_key).where(ScheduleMark.kind == "poll")).scalars()
        assert all(key.startswith("20s:") for key in marks)  # periods of POLL_INTERVAL_SECONDS
    finally:
        stop_embedded_clock(app)
        runner.wait_idle(timeout=10)
        runner.shutdown()
