"""Benchmark: one change-detection poll over a large catalogue with 50 changes since the last poll.

For each size (default 10,000 and 50,000 works): the Consonance sandbox runs in its own process, the
Confluence emulator in a thread; 30 existing titles are given page sets and a baseline poll is taken.
Then 50 changes are made through the sandbox control endpoints — 10 acquisitions, 20 stage moves
and 10 publication-date slips of managed titles, 10 stage moves of unmanaged titles — and one poll is
measured (Consonance requests, wall time, tracemalloc peak), then the outbox is drained and the
Confluence writes are counted and compared with the pages those changes should touch.

    .venv/bin/python -m bench.flows_poll [--sizes 10000,50000] [--database-url URL] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from addon import create_app
from addon.confluence.client import ConfluenceClient
from addon.extensions import db
from addon.flows.change_detection import detect_and_dispatch
from addon.flows.page_sets import make_page_set
from addon.gateways import gateways
from addon.jobs import outbox
from addon.platform import tenants
from addon.platform.models import Tenant
from addon.settings.service import update_settings
from bench.consonance_catalogue import sandbox_process
from sandbox.confluence.testing import running_emulator
from sandbox.consonance.vocab import PROJECT_STAGES

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
API_KEY = "sandbox-api-key"
MANAGED = 30


def _app(database_url: str):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench",
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "BASE_URL": "http://127.0.0.1:9",
            "APP_KEY": "com.consonance.confluence",
            "JOB_BACKEND": "inline",
            "REDIS_URL": "",
            "OUTBOX_DELIVER_ON_COMMIT": "0",
            "LOG_LEVEL": "WARNING",
            "CONSONANCE_ALLOWED_HOSTS": "127.0.0.1",  # the sandbox on loopback over http
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _tenant(emulator, consonance_url: str) -> Tenant:
    installation = emulator.install_forge("http://127.0.0.1:9")
    emulator.seed("1")
    tenant = Tenant(
        transport=tenants.FORGE,
        external_id=installation["installationId"],
        site_url=emulator.url,
        api_base_url=installation["apiBaseUrl"],
        enabled=True,
    )
    db.session.add(tenant)
    db.session.commit()
    tenants.set_secret(tenant, tenants.FORGE_SYSTEM_TOKEN, emulator.store.forge.system_token)
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, API_KEY)
    db.session.commit()
    update_settings(tenant, {"consonance_host": consonance_url, "page_set_space_key": "PUB"}, actor="bench")
    return tenant


class StatementCounter:
    """SQL statements the app's engine ran since the last `take()` (this benchmark runs without Redis: the
    embedded cache and inline jobs, so it makes no Redis operations)."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        self.count += 1

    def take(self) -> int:
        taken, self.count = self.count, 0
        return taken

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)


class HandlerReads:
    """Per outbox kind: entries delivered and the Consonance requests their handlers made (the transport's count
    around each handler call; the bench drains in this one thread)."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.entries: dict[str, int] = {}
        self.reads: dict[str, int] = {}
        self._real = dict(outbox._handlers)

    def __enter__(self):
        for kind, handler in self._real.items():
            outbox._handlers[kind] = self._counting(kind, handler)
        return self

    def _counting(self, kind, handler):
        def counted(tenant, payload):
            before = self.gateway.stats.requests
            try:
                return handler(tenant, payload)
            finally:
                self.entries[kind] = self.entries.get(kind, 0) + 1
                self.reads[kind] = self.reads.get(kind, 0) + self.gateway.stats.requests - before

        return counted

    def __exit__(self, *exc):
        outbox._handlers.update(self._real)

    def describe(self) -> str:
        return ", ".join(f"{kind} {self.entries[kind]}×/{self.reads.get(kind, 0)}" for kind in sorted(self.entries))


class WriteCounter:
    """Counts the app's non-GET requests to Confluence (page, property, label and attachment writes)."""

    def __init__(self):
        self.writes = 0
        self._real = ConfluenceClient.request

    def __enter__(self):
        counter = self

        def counting(client, method, *args, **kwargs):
            if method.upper() != "GET":
                counter.writes += 1
            return counter._real(client, method, *args, **kwargs)

        ConfluenceClient.request = counting
        return self

    def __exit__(self, *exc):
        ConfluenceClient.request = self._real


def _page_versions(emulator) -> dict[str, tuple[str, int]]:
    with emulator.store.lock:
        return {p.id: (p.title, p.current.number) for p in emulator.store.pages.values() if p.status == "current"}


def _written(before: dict, after: dict) -> set[str]:
    return {pid for pid, (_, version) in after.items() if pid not in before or before[pid][1] != version}


def _control(url: str, method: str, path: str, body=None) -> dict:
    response = requests.request(method, f"{url}/_sandbox{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json() if response.content else {}


def _stage_after(stage: str) -> str:
    order = PROJECT_STAGES
    return order[(order.index(stage) + 1) % len(order)] if stage in order else "Editorial"


def run_size(size: int, database_url: str) -> dict:
    app = _app(database_url)
    with sandbox_process(size, seed=42) as consonance_url, running_emulator() as emulator, app.app_context():
        tenant = _tenant(emulator, consonance_url)
        gateway = gateways().consonance(tenant)
        client = gateways().confluence(tenant)
        step = size // (2 * MANAGED)
        managed = [str(1 + i * step) for i in range(MANAGED)]
        for work_id in managed:  # titles the app already manages (their page sets exist)
            make_page_set(tenant, client, gateway.title(work_id))
        started, before_requests = time.perf_counter(), gateway.stats.requests
        detect_and_dispatch(tenant, gateway.iter_fingerprints())
        baseline_seconds, baseline_requests = time.perf_counter() - started, gateway.stats.requests - before_requests

        # the first sync's own work (launch hubs for the forthcoming list), drained before the changes are made
        pages_before, before_requests, started = _page_versions(emulator), gateway.stats.requests, time.perf_counter()
        with HandlerReads(gateway) as first_sync_kinds:
            while any(outbox.drain(tenant=tenant, limit=500).values()):
                pass
        first_sync = {
            "seconds": time.perf_counter() - started,
            "reads": gateway.stats.requests - before_requests,
            "pages": len(_written(pages_before, _page_versions(emulator))),
            "by_kind": first_sync_kinds.describe(),
        }

        # 50 changes through the sandbox's control endpoints
        summaries, hub_seasons = {}, set()
        for work_id in managed[:20]:
            stage = _control(consonance_url, "GET", f"/works/{work_id}")["projectStage"]
            summaries[work_id] = _control(
                consonance_url, "POST", f"/works/{work_id}/stage", {"stage": _stage_after(stage)}
            )
        for work_id in managed[20:30]:
            hub_seasons.add(_control(consonance_url, "GET", f"/works/{work_id}").get("season") or "No season")
            summaries[work_id] = _control(consonance_url, "POST", f"/works/{work_id}/slip", {"days": 21})
        unmanaged = [str(size - i * 7) for i in range(10)]
        for work_id in unmanaged:
            stage = _control(consonance_url, "GET", f"/works/{work_id}")["projectStage"]
            moved = _control(consonance_url, "POST", f"/works/{work_id}/stage", {"stage": _stage_after(stage)})
            if stage.lower() != "published":  # forthcoming at the first sync, so managed: its season's hub shows it
                hub_seasons.add(moved.get("season") or "No season")
        acquired = [
            _control(consonance_url, "POST", "/works/acquire", {"title": f"Bench Acquisition {n}"}) for n in range(10)
        ]

        before_requests = gateway.stats.requests
        statements = StatementCounter(db.engine)
        tracemalloc.start()
        started = time.perf_counter()
        counts = detect_and_dispatch(tenant, gateway.iter_fingerprints())
        poll_seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        poll_statements = statements.take()
        poll_requests = gateway.stats.requests - before_requests

        pages_before = _page_versions(emulator)
        handler_reads = gateway.stats.requests
        _control(consonance_url, "DELETE", "/requests")
        started = time.perf_counter()
        with WriteCounter() as writes, HandlerReads(gateway) as by_kind:
            while any(outbox.drain(tenant=tenant, limit=500).values()):
                pass
        drain_seconds = time.perf_counter() - started
        drain_statements = statements.take()
        statements.close()
        handler_reads = gateway.stats.requests - handler_reads
        by_operation = _control(consonance_url, "GET", "/counters")["byOperation"]
        pages_after = _page_versions(emulator)
        written = _written(pages_before, pages_after)

        # what should have been touched: new page sets, homes of moved titles, hubs of every affected season
        titles = {pid: title for pid, (title, _) in pages_after.items()}
        expected = {
            pid
            for pid, title in titles.items()
            if any(title == a["title"] or title.startswith(a["title"] + " — ") for a in acquired)
        }
        from addon.titles.service import pages_of

        expected |= {pages_of(tenant, work_id)["home"].page_id for work_id in managed[:20]}
        expected |= {pages_of(tenant, work_id)["schedule"].page_id for work_id in managed[20:30]}  # the slipped dates
        seasons = (
            hub_seasons
            | {summaries[w].get("season") or "No season" for w in managed}
            | {a.get("season") or "No season" for a in acquired}
        )
        expected |= {pid for pid, title in titles.items() if title in {f"Launch hub — {s}" for s in seasons}}
        gateway.close()
        return {
            "size": size,
            "baseline_seconds": baseline_seconds,
            "baseline_requests": baseline_requests,
            "first_sync": first_sync,
            "changes": 50,
            "events": {
                k: counts[k]
                for k in ("title_acquired", "stage_changed", "dates_changed", "readiness_changed", "rights_changed")
            },
            "changed": counts["changed"],
            "new": counts["new"],
            "poll_requests": poll_requests,
            "poll_seconds": poll_seconds,
            "poll_statements": poll_statements,
            "drain_statements": drain_statements,
            "peak_mib": peak / 2**20,
            "drain_seconds": drain_seconds,
            "handler_reads": handler_reads,
            "reads_by_operation": ", ".join(f"{op} {n}" for op, n in sorted(by_operation.items())),
            "by_kind": by_kind.describe(),
            "confluence_writes": writes.writes,
            "pages_written": len(written),
            "pages_expected": len(expected),
            "exact": written == expected,
            "unexpected": sorted(titles[pid] for pid in written - expected),
            "missed": sorted(titles[pid] for pid in expected - written),
        }


def record(rows: list[dict], command: str) -> None:
    lines = [
        "",
        f"## Change-detection poll with 50 changes (flows, {dt.date.today().isoformat()})",
        "",
        f"Command: `{command}` (Consonance sandbox in its own process, Confluence emulator in a thread, "
        f"{os.cpu_count()} CPU cores; peak = tracemalloc peak during the measured poll; {MANAGED} managed titles; "
        "DB statements counted on the engine; no Redis in this run, so no Redis operations).",
        "",
        "| works | baseline poll: requests, wall time (s) | first sync drain: Consonance reads, pages written, "
        "wall time (s) | changed works | events | Consonance requests per poll "
        "| poll wall time (s) | poll peak memory (MiB) | poll DB statements "
        "| outbox drain (s) | drain DB statements | Consonance reads by handlers | Confluence write requests "
        "| pages written | pages the changes affect | exactly those |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        events = ", ".join(f"{k} {v}" for k, v in r["events"].items() if v)
        lines.append(
            f"| {r['size']:,} | {r['baseline_requests']}, {r['baseline_seconds']:.1f} | "
            f"{r['first_sync']['reads']}, {r['first_sync']['pages']}, {r['first_sync']['seconds']:.1f} | "
            f"{r['changed'] + r['new']} | {events} | {r['poll_requests']} | "
            f"{r['poll_seconds']:.1f} | {r['peak_mib']:.1f} | {r['poll_statements']:,} | {r['drain_seconds']:.1f} | "
            f"{r['drain_statements']:,} | {r['handler_reads']} | "
            f"{r['confluence_writes']} | {r['pages_written']} | {r['pages_expected']} | "
            f"{'yes' if r['exact'] else 'NO'} |"
        )
    for r in rows:
        lines += [
            "",
            f"{r['size']:,} works, the drain after the poll: Consonance requests by operation: {r['reads_by_operation']}; "
            f"outbox entries × / Consonance requests by kind: {r['by_kind']}. First sync drain by kind: "
            f"{r['first_sync']['by_kind']}.",
        ]
    lines += [
        "",
        "The 10 stage moves of unmanaged titles cost no Confluence write on title pages (they have none); those "
        "forthcoming at the first sync are managed, so their seasons' launch hubs are rewritten. Page writes are the "
        "10 new page sets (6 pages each), the 20 moved titles' home pages, the 10 slipped titles' schedule pages "
        "(their milestone dates) and the launch hubs of the seasons involved. The baseline poll (first poll of a tenant) records every work's snapshot and owes the first "
        "sync's launch hubs (one per season with forthcoming titles or managed ones); that work is drained and "
        "counted apart, before the 50 changes are made. The measured poll runs under tracemalloc (about 2-3x "
        "slower than the untraced baseline poll, which reads the same pages).",
    ]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "flows_bench.db")
        row = run_size(size, url)
        rows.append(row)
        print(
            f"{size:>6} works: baseline poll {row['baseline_requests']} requests, {row['baseline_seconds']:.1f}s; "
            f"{row['changed'] + row['new']} changed, events {row['events']}; poll "
            f"{row['poll_requests']} Consonance requests, {row['poll_seconds']:.1f}s, peak {row['peak_mib']:.1f} MiB, "
            f"{row['poll_statements']} DB statements; "
            f"drain {row['drain_seconds']:.1f}s, {row['handler_reads']} Consonance reads, "
            f"{row['confluence_writes']} Confluence writes on {row['pages_written']} pages "
            f"(expected {row['pages_expected']}, exact: {row['exact']})",
            flush=True,
        )
        if not row["exact"]:
            print(f"        written, not affected: {row['unexpected']}; affected, not written: {row['missed']}")
        fs = row["first_sync"]
        print(
            f"        first sync drain: {fs['reads']} Consonance reads, {fs['pages']} pages, {fs['seconds']:.1f}s; "
            f"by kind {fs['by_kind']}",
            flush=True,
        )
        print(f"        drain requests by operation: {row['reads_by_operation']}", flush=True)
        print(f"        outbox entries × / Consonance requests by kind: {row['by_kind']}", flush=True)
    if not args.no_record:
        record(rows, "python -m bench.flows_poll " + " ".join(argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":
    main()
