"""What `addon.jobs.init_app` attaches to the app: the runner jobs are queued on. One typed object,
read through `jobs_extension(app)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

from flask import Flask, current_app
from werkzeug.local import LocalProxy

EXTENSION_KEY = "addon.jobs"


class Runner(Protocol):
    def submit(
        self,
        func_path: str,
        args: tuple = (),
        kwargs: dict | None = None,
        *,
        tenant_id: int | None = None,
        kind: str | None = None,
        dedupe_key: str | None = None,
        queue: str = "default",
    ) -> str | None:
        """Queue `func_path(*args, **kwargs)`; a dedupe_key already queued is not queued again. Returns the job id."""

    def queue_was_emptied(self) -> bool:
        """True once after the queue lost what it held (a Redis that restarted without its data): the
        schedule then queues again the work of this period that never started."""


@dataclass
class JobsExtension:
    runner: Runner


def jobs_extension(app: Flask) -> JobsExtension:
    """The app's jobs extension; a KeyError before `addon.jobs.init_app` ran."""
    return app.extensions[EXTENSION_KEY]


def attach(app: Flask, extension: JobsExtension) -> None:
    app.extensions[EXTENSION_KEY] = extension


def current_app_object() -> Flask:
    """The app behind `current_app` (not the context-local proxy), to keep beyond this context: threads, hooks."""
    return cast("LocalProxy[Flask]", current_app)._get_current_object()
