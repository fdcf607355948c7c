"""Tunables of background work: app.config first, then the environment, then a default.

They live here until they join `addon/config.py`'s SETTINGS table (owned by the platform).
"""
from __future__ import annotations

import os

from flask import Flask

DEFAULTS: dict[str, tuple[type, object]] = {
    "JOB_MODULES": (str, ""),  # comma-separated modules that register handlers and schedules
    "INLINE_JOB_THREADS": (int, 2),
    "INLINE_JOB_MODE": (str, ""),  # "thread" | "sync"; empty: sync under TESTING, else thread
    "JOB_TIMEOUT_SECONDS": (int, 600),
    "JOB_RESULT_TTL_SECONDS": (int, 3600),
    "JOB_FAILURE_TTL_SECONDS": (int, 7 * 24 * 3600),
    "JOB_RETRIES": (int, 3),
    "OUTBOX_LEASE_SECONDS": (float, 120.0),
    "OUTBOX_MAX_ATTEMPTS": (int, 8),
    "OUTBOX_BACKOFF_BASE_SECONDS": (float, 5.0),
    "OUTBOX_BACKOFF_CAP_SECONDS": (float, 3600.0),
    "OUTBOX_DRAIN_EVERY_SECONDS": (int, 60),
    "OUTBOX_DELIVER_ON_COMMIT": (str, "1"),
    "SCHEDULER_INTERVAL_SECONDS": (float, 30.0),
}


def setting(app: Flask, name: str):
    cast, default = DEFAULTS[name]
    value = app.config.get(name)
    if value is None:
        value = os.environ.get(name)
    if value is None or value == "" and default != "":
        return default
    return cast(value)


def flag(app: Flask, name: str) -> bool:
    return str(setting(app, name)).strip().lower() not in ("0", "false", "no", "off", "")
