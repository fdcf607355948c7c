"""One way to run job functions by dotted name: in-process threads (embedded) or RQ on Redis.

Either way a job runs inside an app context with its tenant and job id in the log context,
and a tenant's job leaves a `JobRun` row (NULL outcome = still running, or the worker died).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, current_app
from werkzeug.utils import import_string

from addon import metrics
from addon.extensions import db
from addon.jobs.errors import short_error
from addon.jobs.extension import Runner, jobs_extension
from addon.jobs.models import JobRun
from addon.jobs.settings import setting
from addon.logs import log_context
from addon.platform.models import Tenant, utcnow

log = logging.getLogger("addon.jobs.runner")

QUEUE_NAMES = {"default": "consonance-default", "low": "consonance-low"}
QUEUE_MARKER = "c4c:queue-marker"  # lives beside the queues; gone when Redis lost its data
RQ_ENTRY = "addon.jobs.worker.rq_entry"  # what RQ runs (by name): it builds the app in a worker
OUTCOMES = ("ok", "failed", "partial")


def job_id_for(dedupe_key: str) -> str:
    """A stable job id for a dedupe key (RQ ids must be short and safe in Redis keys)."""
    return "ck-" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]


def get_runner(app: Flask) -> Runner:
    return jobs_extension(app).runner


def set_runner(app: Flask, runner: Runner) -> None:
    jobs_extension(app).runner = runner


def submit(func_path: str, args: tuple = (), kwargs: dict | None = None, **options) -> str | None:
    """Queue a job on the current app's runner."""
    return get_runner(current_app).submit(func_path, args, kwargs, **options)


def make_runner(app: Flask) -> Runner:
    backend = (app.config.get("JOB_BACKEND") or "inline").lower()
    if backend == "rq":
        return RqRunner(app, app.config.get("REDIS_URL") or "")
    if backend == "inline":
        mode = setting(app, "INLINE_JOB_MODE") or ("sync" if app.testing else "thread")
        if mode not in ("sync", "thread"):
            raise ValueError(f"INLINE_JOB_MODE must be 'sync' or 'thread', not {mode!r}")
        # Under TESTING, jobs run inside submit: no thread outlives a test or races its teardown.
        return InlineRunner(app, threads=setting(app, "INLINE_JOB_THREADS"), synchronous=mode == "sync")
    raise ValueError(f"JOB_BACKEND must be 'inline' or 'rq', not {backend!r}")


# --- running a job ---------------------------------------------------------------------------


def run_job(
    app: Flask,
    func_path: str,
    args=(),
    kwargs=None,
    *,
    tenant_id: int | None = None,
    kind: str | None = None,
    dedupe_key: str | None = None,
    job_id: str | None = None,
):
    """Run one job function in a fresh app context, recording a JobRun when it belongs to a tenant."""
    func = import_string(func_path)
    kind = kind or func_path
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
        with log_context(tenant=tenant.log_name if tenant else None, job_id=job_id):
            run_id = _start_run(tenant, kind, job_id, dedupe_key)
            try:
                result = func(*args, **(kwargs or {}))
            except Exception as exc:
                db.session.rollback()
                log.exception("job %s failed", kind)
                _finish_run(run_id, "failed", {}, short_error(exc))
                raise
            counts = _json_safe(result) if isinstance(result, dict) else {}
            outcome = counts.pop("outcome", "ok")
            _finish_run(run_id, outcome if outcome in OUTCOMES else "ok", counts, None)
            log.info("job %s finished: %s", kind, counts)
            return result


def _start_run(tenant: Tenant | None, kind: str, job_id: str | None, dedupe_key: str | None) -> int | None:
    if tenant is None:
        return None
    run = JobRun(tenant_id=tenant.id, kind=kind[:128], job_id=job_id, dedupe_key=dedupe_key, started_at=utcnow())
    db.session.add(run)
    db.session.commit()
    return run.id


def _finish_run(run_id: int | None, outcome: str, counts: dict, error: str | None) -> None:
    """Commits the job's own session too: a job that returned is a finished unit of work."""
    if run_id is not None:
        run = db.session.get_one(JobRun, run_id)
        run.outcome, run.counts, run.error, run.finished_at = outcome, counts, error, utcnow()
        metrics.observe_job_since(run.kind, outcome, run.started_at)
    db.session.commit()


def _json_safe(value: dict) -> dict:
    return json.loads(json.dumps(value, default=str))


# --- in-process ------------------------------------------------------------------------------


class InlineRunner:
    """Embedded mode: a small thread pool, so a web request returns before its work runs.

    `synchronous=True` runs each job inside `submit` (tests, CLI). Jobs queued here live only as
    long as the process; the outbox and the schedule make up for any lost on a restart.
    """

    def __init__(self, app: Flask, *, threads: int = 2, synchronous: bool = False):
        self.app = app
        self.threads = threads
        self.synchronous = synchronous
        self._lock = threading.Lock()
        self._queued: set[str] = set()
        self._futures: set[Future] = set()
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, func_path, args=(), kwargs=None, *, tenant_id=None, kind=None, dedupe_key=None, queue="default"):
        job_id = job_id_for(dedupe_key) if dedupe_key else "inline-" + uuid.uuid4().hex
        call = (func_path, tuple(args), dict(kwargs or {}))
        options = {"tenant_id": tenant_id, "kind": kind, "dedupe_key": dedupe_key, "job_id": job_id}
        if self.synchronous:
            self._run(job_id, call, options)
            return job_id
        with self._lock:
            if job_id in self._queued:
                return job_id
            self._queued.add(job_id)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="addon-job")
            future = self._pool.submit(self._run, job_id, call, options)
            self._futures.add(future)
            future.add_done_callback(self._futures.discard)
        return job_id

    def queue_was_emptied(self) -> bool:
        return False  # in-process: what a stopped process held is found by the scheduler's start-up sweep

    def _run(self, job_id, call, options):
        with self._lock:
            self._queued.discard(job_id)
        func_path, args, kwargs = call
        try:
            run_job(self.app, func_path, args, kwargs, **options)
        except Exception:  # already logged and recorded by run_job; a thread has nobody to raise to
            pass

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every queued job (including ones they queue) has finished."""
        while True:
            with self._lock:
                pending = set(self._futures)
            if not pending:
                return True
            done, not_done = wait(pending, timeout=timeout)
            if not_done:
                return False

    def shutdown(self, wait_for_jobs: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait_for_jobs)
            self._pool = None


# --- RQ --------------------------------------------------------------------------------------


class RqRunner:
    """Production: RQ queues `consonance-default` and `consonance-low` on Redis."""

    def __init__(self, app: Flask, redis_url: str):
        from redis import Redis

        if not redis_url:
            raise ValueError("JOB_BACKEND=rq needs REDIS_URL")
        self.connection = Redis.from_url(redis_url)
        self.timeout = setting(app, "JOB_TIMEOUT_SECONDS")
        self.result_ttl = setting(app, "JOB_RESULT_TTL_SECONDS")
        self.failure_ttl = setting(app, "JOB_FAILURE_TTL_SECONDS")
        self.retries = setting(app, "JOB_RETRIES")

    def queue(self, name: str = "default"):
        from rq import Queue

        return Queue(QUEUE_NAMES[name], connection=self.connection)

    def submit(self, func_path, args=(), kwargs=None, *, tenant_id=None, kind=None, dedupe_key=None, queue="default"):
        from rq import Retry
        from rq.exceptions import DuplicateJobError

        job_id = job_id_for(dedupe_key) if dedupe_key else None
        meta = {"tenant_id": tenant_id, "kind": kind, "dedupe_key": dedupe_key}
        retry = Retry(max=self.retries, interval=[10, 60, 300][: self.retries] or [10]) if self.retries else None
        target = self.queue(queue)
        for _ in range(2):
            try:
                job = target.enqueue_call(
                    RQ_ENTRY,
                    args=(func_path, list(args), dict(kwargs or {}), meta),
                    job_id=job_id,
                    timeout=self.timeout,
                    result_ttl=self.result_ttl,
                    failure_ttl=self.failure_ttl,
                    retry=retry,
                    unique=job_id is not None,
                    description=f"{kind or func_path} {dedupe_key or ''}".strip(),
                )
                return job.id
            except DuplicateJobError:
                if not self._clear_if_finished(job_id):
                    log.debug("job %s (%s) is already queued or running", job_id, dedupe_key)
                    return job_id
        return job_id

    def queue_was_emptied(self) -> bool:
        """A marker key set once in the queue's Redis: gone means Redis lost its data (and its queued jobs)."""
        try:
            return bool(self.connection.set(QUEUE_MARKER, utcnow().isoformat(), nx=True))
        except Exception:  # noqa: BLE001 - Redis down: nothing can be queued again until it is back anyway
            log.debug("queue marker unreadable", exc_info=True)
            return False

    def _clear_if_finished(self, job_id: str) -> bool:
        """A finished or failed job with this id is history, not a duplicate: remove it so the key can run again."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return True
        if job.get_status(refresh=True) in (
            JobStatus.FINISHED,
            JobStatus.FAILED,
            JobStatus.STOPPED,
            JobStatus.CANCELED,
        ):
            job.delete()
            return True
        return False
