"""Runners: inline threads return at once and dedupe queued keys; RQ dedupes by job id; runs are recorded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from rq import Queue, SimpleWorker

from addon.extensions import db
from addon.jobs.models import JobRun
from addon.jobs.runner import InlineRunner, RqRunner, job_id_for, make_runner, run_job
from tests.jobs import sample_jobs


@pytest.fixture(autouse=True)
def _reset_samples():
    sample_jobs.ran.clear()
    sample_jobs.gate.clear()
    yield
    sample_jobs.gate.set()


def runs() -> list[JobRun]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(JobRun).order_by(JobRun.id)).scalars())


def test_inline_runner_returns_before_the_work_runs_and_records_it(app, tenant):
    runner = InlineRunner(app, threads=1)
    try:
        job_id = runner.submit(
            "tests.jobs.sample_jobs.wait_for_gate",
            args=("first",),
            tenant_id=tenant.id,
            kind="sample.wait",
            dedupe_key="sample:1",
        )
        assert sample_jobs.ran == [], "submit returned while the job waits"
        sample_jobs.gate.set()
        assert runner.wait_idle(timeout=10)
    finally:
        runner.shutdown()
    assert sample_jobs.ran == ["first"]
    [run] = runs()
    assert (run.kind, run.job_id, run.dedupe_key, run.outcome, run.counts) == (
        "sample.wait",
        job_id,
        "sample:1",
        "partial",
        {"done": 1},
    )
    assert run.finished_at is not None and run.tenant_id == tenant.id


def test_inline_runner_does_not_queue_a_key_twice_while_it_waits(app, tenant):
    runner = InlineRunner(app, threads=1)
    try:
        runner.submit("tests.jobs.sample_jobs.wait_for_gate", args=("busy",), dedupe_key="busy")
        for label in ("a", "a-again", "a-third"):
            runner.submit("tests.jobs.sample_jobs.remember", args=(label,), dedupe_key="same-key")
        runner.submit("tests.jobs.sample_jobs.remember", args=("b",), dedupe_key="other-key")
        sample_jobs.gate.set()
        assert runner.wait_idle(timeout=10)
        runner.submit("tests.jobs.sample_jobs.remember", args=("a-later",), dedupe_key="same-key")
        assert runner.wait_idle(timeout=10)
    finally:
        runner.shutdown()
    assert sorted(sample_jobs.ran) == ["a", "a-later", "b", "busy"]


def test_jobs_run_with_tenant_and_job_id_in_the_log_context(app, tenant):
    result = run_job(app, "tests.jobs.sample_jobs.remember", ("x",), tenant_id=tenant.id, job_id="job-42")
    assert result["job_id"] == "job-42"
    assert result["tenant"] == tenant.log_name


def test_a_failing_job_is_recorded_failed_without_secrets(app, tenant):
    with pytest.raises(RuntimeError):
        run_job(app, "tests.jobs.sample_jobs.explode", tenant_id=tenant.id, kind="sample.explode")
    [run] = runs()
    assert run.outcome == "failed" and "Consonance said no" in run.error and "abc123" not in run.error


def test_backend_is_chosen_by_configuration(app, redis_url):
    app.config.update(JOB_BACKEND="rq", REDIS_URL=redis_url)
    assert isinstance(make_runner(app), RqRunner)
    app.config.update(JOB_BACKEND="inline")
    assert isinstance(make_runner(app), InlineRunner)
    assert make_runner(app).synchronous is True, "tests never leave job threads behind"
    app.config.update(INLINE_JOB_MODE="thread")
    assert make_runner(app).synchronous is False
    app.testing = False
    app.config.update(INLINE_JOB_MODE=None)
    assert make_runner(app).synchronous is False, "the embedded app answers before its jobs run"
    app.config.update(JOB_BACKEND="celery")
    with pytest.raises(ValueError):
        make_runner(app)


def test_rq_runner_queues_a_dedupe_key_once_while_queued(app, tenant, redis_url):
    runner = RqRunner(app, redis_url)
    first = runner.submit("tests.jobs.sample_jobs.remember", args=("a",), tenant_id=tenant.id, dedupe_key="poll:1:7")
    second = runner.submit("tests.jobs.sample_jobs.remember", args=("a",), tenant_id=tenant.id, dedupe_key="poll:1:7")
    other = runner.submit(
        "tests.jobs.sample_jobs.remember", args=("b",), tenant_id=tenant.id, dedupe_key="poll:1:8", queue="low"
    )
    assert first == second == job_id_for("poll:1:7") and other == job_id_for("poll:1:8")
    default, low = (
        Queue("consonance-default", connection=runner.connection),
        Queue("consonance-low", connection=runner.connection),
    )
    assert default.job_ids == [first] and low.job_ids == [other]

    SimpleWorker([default, low], connection=runner.connection).work(burst=True)
    assert sorted(sample_jobs.ran) == ["a", "b"]
    assert [(run.kind, run.outcome, run.job_id) for run in runs()] == [
        ("tests.jobs.sample_jobs.remember", "ok", first),
        ("tests.jobs.sample_jobs.remember", "ok", other),
    ]

    again = runner.submit("tests.jobs.sample_jobs.remember", args=("a2",), tenant_id=tenant.id, dedupe_key="poll:1:7")
    assert again == first and default.job_ids == [first], "a finished job's key can run again"
    job = default.fetch_job(first)
    assert job.timeout == runner.timeout and job.retries_left == runner.retries


def test_rq_runner_notices_when_redis_lost_its_queues(app, redis_url):
    import redis

    runner = RqRunner(app, redis_url)
    assert runner.queue_was_emptied() is True  # first sight of this Redis: nothing known to be queued
    assert runner.queue_was_emptied() is False
    redis.Redis.from_url(redis_url).flushdb()  # what a restart without persistence leaves
    assert runner.queue_was_emptied() is True and runner.queue_was_emptied() is False
