"""A real RQ worker process SIGKILLed mid-delivery: the entry is delivered by another, with one effect.

The handler records its effect, then blocks; we kill the worker and its work horse (as when a
machine dies), wait out the lease, tick the schedule (which queues the
outbox drain) and let a second worker finish. The fake handler is idempotent by key, as real ones are.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from addon.extensions import db
from addon.jobs import outbox, schedule
from addon.jobs.models import DELIVERED, IN_FLIGHT, OutboxEntry
from addon.jobs.runner import make_runner, set_runner

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 1


@pytest.fixture
def app_config(app_config, redis_url):
    app_config.update(JOB_BACKEND="rq", REDIS_URL=redis_url, OUTBOX_LEASE_SECONDS=LEASE_SECONDS)
    return app_config


def start_worker(app, redis_url, log_path, *, burst):
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "JOB_BACKEND": "rq",
        "JOB_MODULES": "tests.jobs.fake_handlers",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENCRYPTION_KEYS": app.config["ENCRYPTION_KEYS"],
        "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOG_LEVEL": "INFO",
    }
    command = [
        str(Path(sys.executable).with_name("rq")),
        "worker",
        "--url",
        redis_url,
        "--worker-class",
        "addon.jobs.worker.AppWorker",
        "--path",
        str(ROOT),
        *(["--burst"] if burst else []),
        "consonance-default",
        "consonance-low",
    ]
    with log_path.open("ab") as log:  # the worker gets its own copy of the descriptor
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_for(path: Path, process, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared; worker exit code {process.poll()}")
        time.sleep(0.05)


def test_a_killed_worker_leaves_one_effect_and_a_delivered_entry(app, tenant, redis_url, tmp_path):
    set_runner(app, make_runner(app))  # the real RQ runner, not the tests' recorder
    log_path = tmp_path / "workers.log"
    entry = outbox.enqueue(
        tenant,
        "confluence",
        "test.file_effect",
        {"dir": str(tmp_path), "key": "page-set:W1", "block": True},
        dedupe_key="page-set:W1",
    )
    db.session.commit()  # queues the delivery job on Redis

    first = start_worker(app, redis_url, log_path, burst=False)
    try:
        wait_for(tmp_path / "started", first)
        work_horse = int((tmp_path / "started").read_text())  # RQ forks each job into its own process group
        os.kill(work_horse, signal.SIGKILL)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    db.session.expire_all()
    assert db.session.get(OutboxEntry, entry.id).status == IN_FLIGHT, "the dead worker's claim is still held"

    (tmp_path / "release").touch()
    time.sleep(LEASE_SECONDS + 0.2)
    assert any(kind == "outbox.drain" for _, kind, _ in schedule.tick())
    second = start_worker(app, redis_url, log_path, burst=True)
    try:
        assert second.wait(timeout=30) == 0, log_path.read_text()[-3000:]
    finally:  # never leave a worker running past the test
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(timeout=10)

    db.session.expire_all()
    row = db.session.get(OutboxEntry, entry.id)
    assert (row.status, row.attempts) == (DELIVERED, 2), log_path.read_text()[-3000:]
    assert len((tmp_path / "attempts.log").read_text().split()) == 2, "delivered at least once more"
    assert (tmp_path / "effects.log").read_text().split() == ["page-set:W1"], "exactly one effect"
