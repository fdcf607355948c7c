"""Background work: job runner (inline or RQ), transactional outbox, schedule tick, event dedupe."""

from __future__ import annotations

import importlib
import importlib.util
import logging

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from addon.jobs import schedule  # noqa: F401  (built-in schedules: the outbox drain)
from addon.jobs.cli import jobs_cli
from addon.jobs.extension import JobsExtension, attach, current_app_object
from addon.jobs.outbox import PENDING_KICKS, kick
from addon.jobs.runner import make_runner
from addon.jobs.settings import flag, setting

log = logging.getLogger("addon.jobs")

DEFAULT_MODULES = ("addon.flows",)


def init_app(app: Flask) -> None:
    """Attach the runner, import the modules that register handlers and schedules (calling their
    optional `init_jobs(app)`), add the CLI."""
    attach(app, JobsExtension(runner=make_runner(app)))
    for name in _job_modules(app):
        module = importlib.import_module(name)
        hook = getattr(module, "init_jobs", None)
        if callable(hook):
            hook(app)
    app.cli.add_command(jobs_cli)
    _listen_for_commits()


def _job_modules(app: Flask) -> list[str]:
    configured = [name.strip() for name in str(setting(app, "JOB_MODULES")).split(",") if name.strip()]
    defaults = [name for name in DEFAULT_MODULES if importlib.util.find_spec(name) is not None]
    return defaults + configured


def _listen_for_commits() -> None:
    if not sa.event.contains(Session, "after_commit", _after_commit):
        sa.event.listen(Session, "after_commit", _after_commit)
        sa.event.listen(Session, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    """Entries committed just now are handed to the runner at once (the drain is the safety net)."""
    kicks = session.info.pop(PENDING_KICKS, None)
    if kicks and has_app_context() and flag(current_app, "OUTBOX_DELIVER_ON_COMMIT"):
        kick(current_app_object(), kicks)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KICKS, None)
