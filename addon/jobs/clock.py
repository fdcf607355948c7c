"""The embedded default's own clock: the schedule ticked inside the app process, by the same loop the
`scheduler` process runs (`schedule.run_scheduler`, whose `tick` Forge's scheduled trigger also calls), so
polls, summaries and drains happen with nobody clicking and no other process to start."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from addon.jobs.runner import InlineRunner, get_runner
from addon.jobs.schedule import run_scheduler
from addon.jobs.settings import setting

log = logging.getLogger("addon.jobs.clock")

CLOCK_KEY = "addon.jobs.clock"


MAX_TICK_SECONDS = 5.0


def clock_interval(app: Flask) -> float:
    """Seconds between ticks: at most MAX_TICK_SECONDS (a new connection is polled at once) and a tenth of
    the poll interval (POLL_INTERVAL_SECONDS=20 is met within 2 s); never more than once a second."""
    return max(
        1.0,
        min(
            float(setting(app, "SCHEDULER_INTERVAL_SECONDS")),
            setting(app, "POLL_INTERVAL_SECONDS") / 10,
            MAX_TICK_SECONDS,
        ),
    )


def start_embedded_clock(app: Flask) -> threading.Thread | None:
    """Start ticking in a daemon thread when jobs run in this process on threads (the embedded default);
    production (RQ) has its `scheduler` processes and tests run jobs synchronously, so neither gets one."""
    runner = get_runner(app)
    if not isinstance(runner, InlineRunner) or runner.synchronous or CLOCK_KEY in app.extensions:
        return None
    stop = threading.Event()
    interval = clock_interval(app)
    thread = threading.Thread(target=run_scheduler, args=(app, interval, stop), name="addon-clock", daemon=True)
    app.extensions[CLOCK_KEY] = (thread, stop)
    thread.start()
    log.info("embedded clock ticking every %s s", interval)
    return thread


def stop_embedded_clock(app: Flask, timeout: float = 5) -> None:
    thread, stop = app.extensions.pop(CLOCK_KEY, (None, None))
    if stop is not None:
        stop.set()
        thread.join(timeout)
