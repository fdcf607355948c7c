"""`make load`: 200 concurrent viewers for 60 seconds across the four macros and hot and cold titles while a
poll with changes and a pipeline summary run; then the same with Consonance answering 300 ms slower.

Prints figures (requests, p50/p99, errors, cache hit ratio, Consonance calls per distinct title) and
invariant checks, appends them to bench/RESULTS.md, and exits 1 when a check fails.

    .venv/bin/python -m load.run_load [--viewers 200] [--seconds 60] [--size 500] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import threading
import time

from load import invariants as inv
from load import records, report, traffic
from load.harness import Stack, StackOptions, wait_until

log = logging.getLogger("load.run_load")
HOT, COLD_A, COLD_B = range(1, 21), range(21, 301), range(301, 351)
SUMMARY_KIND = "pipeline_summary.regenerate"
APP_ENV = {"OUTBOX_BACKOFF_BASE_SECONDS": 1, "OUTBOX_BACKOFF_CAP_SECONDS": 10, "OUTBOX_DRAIN_EVERY_SECONDS": 5}


def _changes(stack: Stack) -> dict:
    """What happens in Consonance meanwhile: 5 acquisitions, 5 hot titles move stage, 3 cold titles slip."""
    acquired = {
        str(stack.sandbox("POST", "/works/acquire", {"title": f"Load Acquisition {n}"})["id"]): f"Load Acquisition {n}"
        for n in range(5)
    }
    for work in list(HOT)[:5]:
        stage = stack.sandbox("GET", f"/works/{work}")["projectStage"]
        stack.sandbox("POST", f"/works/{work}/stage", {"stage": "Published" if stage != "Published" else "Production"})
    for work in list(COLD_A)[:3]:
        stack.sandbox("POST", f"/works/{work}/slip", {"days": 21})
    return acquired


def _phase(stack: Stack, name: str, token_file, hot_lines: int, titles: set[str], args, during=None) -> dict:
    stack.sandbox("DELETE", "/requests")
    before = traffic.cache_lookups(stack)
    result: dict = {}
    runner = threading.Thread(
        target=lambda: result.update(
            run=traffic.run_viewers(
                stack, token_file, hot_lines, viewers=args.viewers, seconds=args.seconds, think_ms=args.think_ms
            )
        )
    )
    runner.start()
    extra = during() if during else None
    runner.join(args.seconds + 90)
    run = result["run"]
    run.failures = traffic.explain(run.failures, sorted(stack.run_dir.glob("*.log")))
    for failure in run.failures:
        print(f"failed view ({name}): {failure.describe()}", flush=True)
    ratio, lookups = traffic.hit_ratio(before, traffic.cache_lookups(stack))
    calls = traffic.calls_per_title(traffic.consonance_calls(stack), titles)
    return {"name": name, "run": result["run"], "hit_ratio": ratio, "lookups": lookups, "calls": calls, "extra": extra}


def run(args) -> tuple[list[tuple[str, str]], list[inv.Check]]:
    options = StackOptions(
        size=args.size, web_workers=args.web_workers, web_threads=args.web_threads, rq_workers=3, app_env=APP_ENV
    )
    with Stack(options) as stack:
        print(f"stack up: app {stack.app_url}, logs in {stack.run_dir}", flush=True)
        stack.wait_baseline_poll()  # later acquisitions are new against it
        scratch = stack.run_dir
        hot = [str(n) for n in HOT]
        hot_lines_a = traffic.write_tokens(stack, scratch / "views-a.txt", hot, [str(n) for n in COLD_A])
        hot_lines_b = traffic.write_tokens(stack, scratch / "views-b.txt", hot, [str(n) for n in COLD_B])
        print("tokens minted; phase 1", flush=True)

        sync = {}

        def during_a():
            time.sleep(5)
            sync["poll_after"] = stack.last_run_id("poll")
            sync["summary_after"] = stack.last_run_id(SUMMARY_KIND)
            sync["acquired"] = _changes(stack)
            sync["changed_at"] = dt.datetime.now(dt.UTC)
            stack.run_scheduled("poll")
            stack.submit("load.jobs.regenerate_summaries", SUMMARY_KIND)

        phase_a = _phase(
            stack, "normal", scratch / "views-a.txt", hot_lines_a, set(hot) | {str(n) for n in COLD_A}, args, during_a
        )
        poll = _poll_after_changes(stack, sync)
        summary = stack.wait_job(SUMMARY_KIND, sync["summary_after"], 180)
        started = time.monotonic()
        try:
            wait_until(lambda: not traffic_waiting(stack), 180, "outbox drain after phase 1", interval=1)
        except TimeoutError:
            pass
        drained_after = time.monotonic() - started
        depth = stack.outbox_depth()

        print("phase 2 (Consonance +300 ms)", flush=True)
        stack.sandbox("POST", "/faults", {"latencyMs": args.latency_ms})
        phase_b = _phase(
            stack,
            f"Consonance +{args.latency_ms} ms",
            scratch / "views-b.txt",
            hot_lines_b,
            set(hot) | {str(n) for n in COLD_B},
            args,
        )
        stack.sandbox("DELETE", "/faults")

        cold_b = {str(n) for n in COLD_B}
        cold_per = {k: v for k, v in phase_b["calls"]["per_op_title"].items() if k[1] in cold_b}
        worst_cold = max(cold_per.values(), default=0)
        acquired = sync["acquired"]
        pages = records.title_pages(stack, acquired)
        try:  # page events of the new page sets may still be running: judge the activity page once they end
            wait_until(lambda: records.unfinished_runs(stack) == 0, 120, "job runs to finish", interval=1)
        except TimeoutError:
            pass  # a run that never ends is judged as it stands: it must be on the activity page as running
        failed, unfinished, activity = records.activity_records(stack)
        summary_entries = _delivered(stack, "confluence.pipeline_summary")

        checks = [
            *(
                inv.Check(
                    f"every viewer is answered ({phase['name']})",
                    phase["run"].viewers_answered(args.think_ms) >= 0.9 * args.viewers,
                    f"~{phase['run'].viewers_answered(args.think_ms):.0f} of {args.viewers} viewers answered "
                    "(views/s × (mean latency + think time))",
                )
                for phase in (phase_a, phase_b)
            ),
            inv.Check("zero errors (normal)", phase_a["run"].errors == 0, _errors(phase_a["run"])),
            inv.Check(
                f"zero errors (Consonance +{args.latency_ms} ms)", phase_b["run"].errors == 0, _errors(phase_b["run"])
            ),
            inv.Check(
                "page views stay fast from cache with Consonance slow",
                phase_b["run"].p50_ms < args.latency_ms,
                f"p50 {phase_b['run'].p50_ms:.0f} ms, p99 {phase_b['run'].p99_ms:.0f} ms",
            ),
            inv.Check(
                "uncached views stay single-flight",
                0 < worst_cold <= 1,
                f"{len({k[1] for k in cold_per})} titles first viewed under latency; at most {worst_cold} "
                f"Consonance call per (operation, title)",
            ),
            inv.Check(
                "the poll with changes ran",
                poll["outcome"] == "ok" and poll["counts"].get("title_acquired", 0) == 5,
                f"{poll['outcome']}: {poll['counts']}",
            ),
            inv.Check(
                "the pipeline summary ran and was written",
                summary["outcome"] == "ok" and summary["counts"].get("owed") == 2 and summary_entries >= 2,
                f"{summary['outcome']}, owed {summary['counts'].get('owed')} (weekly + monthly); "
                f"{summary_entries} summary page writes delivered in the run",
            ),
            inv.page_sets_complete(list(acquired), pages, records.expected_roles(stack)),
            inv.outbox_drained(depth, drained_after),
            inv.nothing_hidden(failed, unfinished, activity),
        ]
        figures = []
        for phase in (phase_a, phase_b):
            r, c = phase["run"], phase["calls"]
            figures += [
                (
                    f"{phase['name']}: views",
                    f"{r.requests:,} in {r.seconds:.0f}s ({r.rps:.0f}/s), {args.viewers} viewers, "
                    f"think time {args.think_ms} ms ± 50%",
                ),
                (
                    f"{phase['name']}: latency",
                    f"p50 {r.p50_ms:.1f} ms, p90 {r.p90_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, max {r.max_ms:.0f} ms",
                ),
                (f"{phase['name']}: errors", _errors(r)),
                (f"{phase['name']}: failed views", failed_views(r)),
                (
                    f"{phase['name']}: cache hit ratio",
                    f"{phase['hit_ratio']:.3f} "
                    f"({', '.join(f'{k} {v:.0f}' for k, v in sorted(phase['lookups'].items()))})",
                ),
                (
                    f"{phase['name']}: Consonance calls per distinct title",
                    f"{c['per_title']:.2f} ({c['reads']} title reads for {c['titles_read']} of {c['titles_viewed']} titles; "
                    f"most for one operation and title: {c['max_op_title']}; by operation {c['by_operation']})",
                ),
            ]
        figures += [
            (
                "poll during phase 1",
                f"{poll['outcome']}, {(poll['finished'] - poll['started']).total_seconds():.1f}s, "
                f"{poll['counts'].get('title_acquired', 0)} acquired, "
                f"{poll['counts'].get('stage_changed', 0)} stage changes",
            ),
            (
                "pipeline summary during phase 1",
                f"{summary['outcome']}, {(summary['finished'] - summary['started']).total_seconds():.1f}s",
            ),
            (
                "processes",
                f"web (Procfile) ×{args.web_workers} ({args.web_threads} threads), rq worker ×3, scheduler, both sandboxes, "
                f"own redis-server, PostgreSQL scratch database; catalogue {args.size} works",
            ),
        ]
        return figures, checks


def _poll_after_changes(stack: Stack, sync: dict, attempts: int = 3) -> dict:
    """The first poll that began after the changes and did the comparison. A poll the scheduler began just
    before (its period turned) holds the site's poll lock, so ours steps aside ({"skipped": 1}) and that one
    misses the changes: ask again once it has ended, as the next scheduled poll would."""
    after = sync["poll_after"]
    for _ in range(attempts):
        run = wait_until(
            lambda after=after: next(
                (
                    r
                    for r in stack.job_runs("poll")
                    if r["id"] > after and r["finished"] and r["started"] >= sync["changed_at"]
                ),
                None,
            ),
            180,
            "a poll begun after the changes",
        )
        if not run["counts"].get("skipped"):
            return run
        after = run["id"]
        wait_until(lambda: all(r["finished"] for r in stack.job_runs("poll")), 180, "the poll holding the lock")
        stack.run_scheduled("poll")
    return run


def traffic_waiting(stack: Stack) -> int:
    depth = stack.outbox_depth()
    return depth.get("pending", 0) + depth.get("in_flight", 0)


def _delivered(stack: Stack, kind: str) -> int:
    from addon.extensions import db
    from addon.jobs.models import OutboxEntry

    with stack.app().app_context():
        count = (
            db.session.query(OutboxEntry).filter_by(tenant_id=stack.tenant_id, kind=kind, status="delivered").count()
        )
        db.session.remove()
        return count


def _errors(run: traffic.ViewRun) -> str:
    text = f"{run.errors} (socket {run.socket_errors}, non-2xx {run.non_2xx}, views without the panel {run.bad_views})"
    return text + (f"; {failed_views(run)}" if run.errors else "")


def failed_views(run: traffic.ViewRun, shown: int = 5) -> str:
    """Each failed view's status, macro, title, request id and cause (the app's log lines or its answer)."""
    parts = [f.describe() for f in run.failures[:shown]]
    if len(run.failures) > shown:
        parts.append(f"+{len(run.failures) - shown} more in the run's output")
    if run.socket_errors:
        parts.append(f"socket errors: {run.socket_detail} (no answer to name)")
    return "; ".join(parts) if parts else "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--think-ms", type=int, default=1000)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--web-threads", type=int, default=8, help="threads per web process (WEB_THREADS)")
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    started = time.monotonic()
    figures, checks = run(args)
    figures.append(("wall time", f"{time.monotonic() - started:.0f}s"))
    text = report.render("Load: viewers while syncs run", figures, checks)
    print(text, flush=True)
    if not args.no_record:
        report.record(
            "Load: 200 viewers while a poll and a pipeline summary run (`make load`)",
            "make load  # python -m load.run_load " + " ".join(argv if argv is not None else sys.argv[1:]),
            figures,
            checks,
        )
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
