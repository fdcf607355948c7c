"""Benchmark: the scheduler's tick on a site count of many tenants, and what one due poll costs.

1,000 Forge tenants (default), each connected to a Consonance sandbox of 5,000 titles (one sandbox process
serves them all: a tenant's catalogue is what its key reads) with its own poll interval (5, 10, 15, 30 or
60 minutes, in turn). The app runs as production does (PostgreSQL scratch database, a redis-server of our
own, RQ queueing), in this process. Measured per tick: database statements (SQLAlchemy's cursor events),
Redis commands (the server's own `total_commands_processed`, nothing else talks to it), jobs queued, wall
time and tracemalloc peak, for

- the first tick (every tenant's every kind is due),
- an idle tick later in the same minute (nothing is due),
- the tick at the next minute (the minute-long kinds are due for every tenant),

first with a tenth of the tenants and then with all of them, so a tick's growth with tenants shows apart from
its growth with due work. Then one tenant's due poll runs as the worker runs it (5,000 titles: a first,
baseline poll and a steady one with 5 changes), with its Consonance requests, statements, time and peak.

    .venv/bin/python -m bench.scheduler_tick [--tenants 1000] [--titles 5000] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from datetime import timedelta

import redis
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench.consonance_catalogue import sandbox_process
from bench.macro_harness import scratch_database
from load.harness import ROOT, free_port, machine, wait_until

RESULTS = ROOT / "bench" / "RESULTS.md"
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
API_KEY = "sandbox-api-key"
POLL_MINUTES = (5, 10, 15, 30, 60)
# A moment in the middle of a minute, so "later in the same minute" and "the next minute" are exact.
START = dt.datetime(2026, 12, 7, 9, 0, 20, tzinfo=dt.UTC)


@contextmanager
def redis_server():
    """A redis-server of our own, so its command counter counts only this benchmark."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="c4c-tick-redis-")
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: redis.Redis.from_url(url, socket_timeout=1).ping(), 20, "redis-server")
        yield url
    finally:
        process.terminate()
        process.wait(10)


class Counters:
    """Database statements (this process's engine) and Redis commands (the whole server) between two reads."""

    def __init__(self, engine, redis_url: str):
        self.statements = 0
        self.redis = redis.Redis.from_url(redis_url)
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        self.statements += 1

    def read(self) -> tuple[int, int]:
        # INFO itself is one command, counted before it answers: subtract it
        return self.statements, int(self.redis.info("stats")["total_commands_processed"]) - 1


def measure(counters: Counters, work) -> dict:
    statements, commands = counters.read()
    tracemalloc.start()
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    statements_after, commands_after = counters.read()
    return {
        "result": result,
        "seconds": seconds,
        "peak_mib": peak / 2**20,
        "statements": statements_after - statements,
        "redis": commands_after - commands - 1,  # the first read's INFO
    }


def add_tenants(count: int, first: int, consonance_url: str) -> None:
    from addon.extensions import db
    from addon.platform import tenants
    from addon.platform.models import Tenant
    from addon.settings.service import update_settings

    for n in range(first, first + count):
        tenant = Tenant(
            transport=tenants.FORGE,
            external_id=f"ari:cloud:ecosystem::installation/bench-{n:05d}",
            cloud_id=f"bench-cloud-{n:05d}",
            site_url=f"https://bench-{n:05d}.atlassian.net",
            api_base_url=f"https://api.atlassian.com/ex/confluence/bench-cloud-{n:05d}",
            enabled=True,
        )
        db.session.add(tenant)
        db.session.flush()
        tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, API_KEY)
        db.session.commit()
        settings = {
            "consonance_host": consonance_url,
            "page_set_space_key": "PUB",
            "poll_interval_seconds": 60 * POLL_MINUTES[n % len(POLL_MINUTES)],
        }
        _, errors = update_settings(tenant, settings, actor="bench")
        if errors:
            raise RuntimeError(f"settings refused: {errors}")
        db.session.commit()


def tick_rows(app, counters: Counters, tenants: int, offset: timedelta) -> list[dict]:
    """The first, idle and next-minute ticks at START + offset (each tenant count gets its own hour)."""
    from addon.extensions import db
    from addon.jobs.schedule import tick

    rows = []
    for label, at in (
        ("first tick (everything due)", START + offset),
        ("idle tick (same minute)", START + offset + timedelta(seconds=15)),
        ("next minute", START + offset + timedelta(seconds=60)),
    ):
        with app.app_context():
            figures = measure(counters, lambda at=at: tick(at))
            db.session.remove()
        figures.update(label=label, tenants=tenants, queued=len(figures.pop("result")))
        rows.append(figures)
        print(
            f"{tenants:>5} tenants, {label}: {figures['queued']} queued, {figures['statements']} DB statements, "
            f"{figures['redis']} Redis commands, {figures['seconds'] * 1000:.0f} ms, "
            f"peak {figures['peak_mib']:.1f} MiB",
            flush=True,
        )
    return rows


def poll_rows(app, counters: Counters, consonance_url: str) -> list[dict]:
    """One tenant's due poll as the worker runs it: the baseline, then one with 5 changes."""
    from addon.extensions import db
    from addon.jobs.schedule import run_scheduled

    rows = []
    for label in ("poll, first (baseline)", "poll, 5 changes"):
        if label.endswith("changes"):
            for work in range(1, 6):
                requests.post(
                    f"{consonance_url}/_sandbox/works/{work}/slip", json={"days": 7}, timeout=30
                ).raise_for_status()
        requests.delete(f"{consonance_url}/_sandbox/requests", timeout=30)
        with app.app_context():
            figures = measure(counters, lambda: run_scheduled("poll", 1))
            db.session.remove()
        log = requests.get(f"{consonance_url}/_sandbox/requests", params={"limit": 100_000}, timeout=60).json()
        counts = figures.pop("result")
        figures.update(label=label, consonance=len(log["requests"]), counts=counts)
        rows.append(figures)
        print(
            f"{label}: {figures['consonance']} Consonance requests, {figures['statements']} DB statements, "
            f"{figures['redis']} Redis commands, {figures['seconds']:.1f}s, peak {figures['peak_mib']:.1f} MiB; "
            f"{ {k: v for k, v in counts.items() if v} }",
            flush=True,
        )
    return rows


def run(tenants: int, titles: int) -> tuple[list[dict], list[dict]]:
    from addon import create_app
    from addon.extensions import db
    from addon.platform import tenant_cache

    small = max(1, tenants // 10)
    with (
        sandbox_process(titles, seed=7) as consonance_url,
        redis_server() as redis_url,
        scratch_database("c4c_bench_tick") as url,
    ):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": "bench",
                "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "BASE_URL": "http://127.0.0.1:9",
                "JOB_BACKEND": "rq",
                "LOG_LEVEL": "WARNING",
                "OUTBOX_DELIVER_ON_COMMIT": "0",
                "CONSONANCE_ALLOWED_HOSTS": "127.0.0.1",  # the sandbox on loopback over http
            }
        )
        with app.app_context():
            db.create_all()
            cache = tenant_cache.current()
            wait_until(lambda: cache.bus.healthy, 20, "the invalidation bus")
            counters = Counters(db.engine, redis_url)
            started = time.perf_counter()
            add_tenants(small, 0, consonance_url)
            db.session.remove()
        rows = tick_rows(app, counters, small, timedelta(0))
        with app.app_context():
            add_tenants(tenants - small, small, consonance_url)
            db.session.remove()
        print(f"{tenants} tenants made in {time.perf_counter() - started:.0f}s", flush=True)
        rows += tick_rows(app, counters, tenants, timedelta(hours=1))
        polls = poll_rows(app, counters, consonance_url)
        cache.bus.stop()  # before its redis-server stops
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return rows, polls


def record(rows: list[dict], polls: list[dict], tenants: int, titles: int, command: str) -> None:
    info = machine()
    lines = [
        "",
        f"## Scheduler tick for {tenants:,} tenants of {titles:,} titles each ({dt.date.today().isoformat()})",
        "",
        f"Command: `{command}`  ",
        f"Machine: `nproc` {info['nproc']}, {info['memory_gib']} GiB memory, {info['cpu']}. PostgreSQL scratch "
        "database, a redis-server of our own (its command counter), RQ queueing; the tick in this process, "
        "under tracemalloc (peak = tracemalloc peak during the tick).",
        "",
        "| tenants | tick | jobs queued | DB statements | Redis commands | wall time (ms) | peak memory (MiB) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['tenants']:,} | {r['label']} | {r['queued']:,} | {r['statements']:,} | {r['redis']:,} | "
            f"{r['seconds'] * 1000:,.0f} | {r['peak_mib']:.1f} |"
        )
    lines += [
        "",
        f"One due poll of one tenant ({titles:,} titles), as the worker runs it:",
        "",
        "| poll | Consonance requests | DB statements | Redis commands | wall time (s) | peak memory (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for p in polls:
        lines.append(
            f"| {p['label']} | {p['consonance']} | {p['statements']:,} | {p['redis']:,} | {p['seconds']:.1f} | "
            f"{p['peak_mib']:.1f} |"
        )
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--titles", type=int, default=5000)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    rows, polls = run(args.tenants, args.titles)
    if not args.no_record:
        record(
            rows,
            polls,
            args.tenants,
            args.titles,
            "python -m bench.scheduler_tick " + " ".join(argv if argv is not None else sys.argv[1:]),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
