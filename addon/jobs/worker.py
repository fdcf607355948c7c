"""An RQ worker that builds the app once, before forking, so each job starts in milliseconds.

Use with `rq worker --worker-class addon.jobs.worker.AppWorker ...`; plain `rq worker` also
works (each job's work horse then builds the app itself).
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, has_app_context
from rq import Worker, get_current_job

from addon import create_app
from addon.extensions import db
from addon.jobs.runner import run_job

_worker_app: Flask | None = None
_worker_app_lock = threading.Lock()


def worker_app() -> Flask:
    """The app a worker process runs jobs in, built from the environment once per process."""
    global _worker_app
    with _worker_app_lock:
        if _worker_app is None:
            _worker_app = create_app()
        return _worker_app


def rq_entry(func_path: str, args: list, kwargs: dict, meta: dict):
    """What RQ actually runs (`runner.RQ_ENTRY`): find the app, then `run_job`."""
    app = current_app._get_current_object() if has_app_context() else worker_app()  # type: ignore[attr-defined]
    job = get_current_job()
    return run_job(
        app,
        func_path,
        tuple(args),
        kwargs,
        tenant_id=meta.get("tenant_id"),
        kind=meta.get("kind"),
        dedupe_key=meta.get("dedupe_key"),
        job_id=job.id if job else None,
    )


class AppWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        worker_app()

    def main_work_horse(self, job, queue):
        # Connections opened before the fork belong to the parent: forget them, never share sockets.
        with worker_app().app_context():
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)
