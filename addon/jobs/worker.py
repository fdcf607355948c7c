"""An RQ worker that builds the app once, before forking, so each job starts in milliseconds.

Use with `rq worker --worker-class addon.jobs.worker.AppWorker ...`; plain `rq worker` also
works (each job's work horse then builds the app itself).
"""

from __future__ import annotations

from rq import Worker

from addon.extensions import db
from addon.jobs import runner


class AppWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        runner.worker_app()

    def main_work_horse(self, job, queue):
        # Connections opened before the fork belong to the parent: forget them, never share sockets.
        with runner.worker_app().app_context():
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)
