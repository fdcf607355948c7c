"""`make chaos`: the production process layout under faults, each scenario followed by the invariants checked
against the sandboxes' own records (Consonance notes by externalRef, the emulator's pages and properties).

Scenarios, in order: workers SIGKILLed mid page set, outbox batch and summary; our own Redis restarted
mid-run; PostgreSQL backends of the scratch database terminated mid-transaction; Consonance flapping (errors,
429s, hangs) and Confluence 409/429 storms; duplicate and out-of-order page events while people write into
the pages; the same decision from two browser tabs (and two separate decisions at once). Exits 1 when an
invariant fails.

    .venv/bin/python -m load.run_chaos [--size 300] [--no-record]
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import requests

from addon.confluence import storage
from load import invariants as inv
from load import records, report
from load.harness import POSTGRES_SERVER, SPACE_KEY, Stack, StackOptions, wait_until

log = logging.getLogger("load.run_chaos")
APP_ENV = {
    "OUTBOX_LEASE_SECONDS": 10,
    "OUTBOX_BACKOFF_BASE_SECONDS": 1,
    "OUTBOX_BACKOFF_CAP_SECONDS": 4,
    "OUTBOX_DRAIN_EVERY_SECONDS": 3,
    "OUTBOX_MAX_ATTEMPTS": 30,
    "JOB_TIMEOUT_SECONDS": 20,
}
SUMMARY_KIND = "pipeline_summary.regenerate"
PERSON = "557058:chaos-editor"
DECIDED_WORKS = range(1, 42)  # the catalogue titles decisions are pushed on (the scenarios below)


class Chaos:
    """One chaos run: the stack, what we asked for (decisions, acquisitions, paragraphs), and a log of events."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.acquired: dict[str, str] = {}
        self.accepted_keys: dict[str, str] = {}  # idempotency key -> work id, for every 2xx answer
        self.markers: dict[str, str] = {}
        self.events: list[tuple[str, str]] = []
        self._fits: dict[str, dict] = {}
        self._lock = threading.Lock()
        self.refused: Counter[str] = Counter()  # pushes answered otherwise, by status and the panel's code
        self.decision_page = self._page_showing(DECIDED_WORKS)

    def _page_showing(self, works) -> str:
        """A page whose title-status panels show these titles, as an editor would make: a decision is bound to
        the page it is made on (the title its panel shows, the person's right to edit it)."""
        client = self.stack.confluence()
        space = client.get_space_by_key(SPACE_KEY)
        panels = storage.document(
            *(storage.our_macro("title-status", {"title": work}, macro_id=f"chaos-{work}") for work in works)
        )
        page = client.create_page(space.id, "Titles we are deciding on", panels, parent_id=space.homepage_id)
        return page.id

    def note(self, scenario: str, what: str) -> None:
        print(f"  [{scenario}] {what}", flush=True)
        self.events.append((scenario, what))

    # --- people's actions -------------------------------------------------------------------
    def push_decision(self, work_id: str, key: str | None = None, text: str = "Chaos note") -> int:
        """A browser pushing a decision; resent with the same key on a 5xx or no answer (as the form does)."""
        key = key or uuid.uuid4().hex
        minted = self.stack.mint("title-status", work_id, principal=PERSON, lifetime=600, content_id=self.decision_page)
        headers = {
            **minted["headers"],
            "Authorization": "Bearer " + minted["token"],
            "Content-Type": "application/json",
        }
        body = {
            "decisionType": "request_changes",
            "idempotencyKey": key,
            "text": f"{text} ({key[:6]})",
            "workId": work_id,
            "macro": "title-status",
        }
        status = 0
        for _ in range(8):
            try:
                answer = requests.post(
                    self.stack.app_url + "/forge/actions/decision", json=body, headers=headers, timeout=20
                )
                status = answer.status_code
            except requests.RequestException:
                answer, status = None, 0
            if 200 <= status < 300:
                with self._lock:
                    self.accepted_keys[key] = work_id
                return status
            if status and status < 500:
                break
            time.sleep(1)
        with self._lock:
            self.refused[f"{status} {_refusal_code(answer) if status else 'no answer'}"] += 1
        return status

    def push_many(self, work_ids: list[str]) -> list[int]:
        with ThreadPoolExecutor(6) as pool:
            return list(pool.map(self.push_decision, work_ids))

    def acquire(self, count: int, label: str) -> list[str]:
        ids = []
        for n in range(count):
            title = f"Chaos {label} {n} {uuid.uuid4().hex[:4]}"
            work = str(self.stack.sandbox("POST", "/works/acquire", {"title": title})["id"])
            self.acquired[work] = title
            ids.append(work)
        return ids

    def write_markers(self) -> int:
        """People write a paragraph into each title home and decision log (between syncs)."""
        client = self.stack.confluence()
        written = 0
        for page in records.title_pages(self.stack, self.acquired):
            if page["role"] not in ("home", "decision-log") or page["id"] in self.markers:
                continue
            marker = f"<p>Written by a person: chaos marker {uuid.uuid4().hex[:10]}</p>"
            for _ in range(5):
                try:
                    current = client.get_page(page["id"])
                    client.update_page(current, (current.body or "") + marker)
                    self.markers[page["id"]] = marker
                    written += 1
                    break
                except Exception:  # noqa: BLE001 - a 409/429 storm may be on: try again as a person would
                    time.sleep(1)
        return written

    # --- the machine room ---------------------------------------------------------------------
    def revive(self) -> None:
        """A supervisor: restart any worker or the scheduler that exited."""
        replaced = self.stack.replace_dead_workers()
        scheduler = self.stack.processes.get("scheduler")
        if scheduler is not None and not scheduler.alive():
            self.stack._start("scheduler", self.stack.procfile["scheduler"])
            replaced += 1
        if replaced:
            self.note("supervisor", f"restarted {replaced} exited process(es)")

    def terminate_backends(self) -> int:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
            return len(
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.stack.database_name,),
                ).fetchall()
            )


def scenario_kill_workers(chaos: Chaos) -> None:
    stack, name = chaos.stack, "SIGKILL"
    stack.emulator("POST", "/faults", {"path": r".*/pages$", "method": "POST", "latency_ms": 700, "count": None})
    stack.sandbox("POST", "/faults", {"operation": "AddWorkNote", "latencyMs": 800})
    stack.sandbox("POST", "/faults", {"operation": "CatalogueTitles", "latencyMs": 1500})
    works = chaos.acquire(4, "killed")
    stack.run_scheduled("poll")
    chaos.push_many([str(n) for n in range(1, 9)])
    stack.submit("load.jobs.regenerate_summaries", SUMMARY_KIND)
    try:
        wait_until(lambda: stack.outbox_depth().get("in_flight", 0) >= 2, 30, "writes in flight")
    except TimeoutError:
        chaos.note(name, "fewer than 2 writes in flight when the workers were killed")
    time.sleep(1.5)
    depth = stack.outbox_depth()
    killed = stack.kill_workers()
    chaos.note(
        name,
        f"acquired {works}, 8 decisions, summary queued; killed {killed} worker/horse processes with "
        f"{depth.get('in_flight', 0)} writes in flight",
    )
    stack.emulator("DELETE", "/faults")
    stack.sandbox("DELETE", "/faults")
    for _ in range(stack.options.rq_workers):
        stack.start_worker()
    stack.submit("load.jobs.regenerate_summaries", SUMMARY_KIND)  # the admin's Regenerate after a lost run


def scenario_redis_restart(chaos: Chaos) -> None:
    stack, name = chaos.stack, "Redis restart"
    works = chaos.acquire(2, "redis")
    pushing = threading.Thread(target=chaos.push_many, args=([str(n) for n in range(9, 15)],))
    pushing.start()
    stack.run_scheduled("poll")
    stack.restart_redis(down_seconds=3)
    pushing.join(120)
    time.sleep(3)
    chaos.revive()
    stack.run_scheduled("poll")
    chaos.note(name, f"own redis-server stopped for 3 s mid-run (acquired {works}, 6 decisions pushed meanwhile)")


def scenario_database_drop(chaos: Chaos) -> None:
    name = "PostgreSQL drop"
    pushing = threading.Thread(target=chaos.push_many, args=([str(n) for n in range(15, 27)],))
    pushing.start()
    terminated = 0
    for _ in range(4):
        time.sleep(0.7)
        terminated += chaos.terminate_backends()
    pushing.join(120)
    chaos.revive()
    chaos.note(name, f"terminated {terminated} backends of the scratch database while 12 decisions were pushed")


def scenario_outside_flapping(chaos: Chaos) -> None:
    stack, name = chaos.stack, "flapping"
    stack.sandbox("POST", "/faults", {"errorRate": 0.3, "seed": 7})
    stack.sandbox("POST", "/faults", {"rateLimitCount": 6, "retryAfter": 1})
    stack.sandbox("POST", "/faults", {"hangCount": 2, "hangSeconds": 15})
    stack.emulator("POST", "/faults", {"path": r".*/pages/\d+$", "method": "PUT", "status": 409, "count": 8})
    stack.emulator("POST", "/faults", {"path": r".*", "method": "POST", "status": 429, "count": 12})
    works = chaos.acquire(2, "flapping")
    for work in list(chaos.acquired)[:4]:
        stack.sandbox("POST", f"/works/{work}/stage", {"stage": "Contracted"})
    stack.run_scheduled("poll")
    chaos.push_many([str(n) for n in range(27, 35)])
    time.sleep(12)
    stack.sandbox("DELETE", "/faults")
    stack.emulator("DELETE", "/faults")
    chaos.note(
        name,
        f"Consonance: 30% errors, 6×429, 2 hangs; Confluence: 8×409 on page PUT, 12×429 on POST; "
        f"acquired {works}, 4 stage moves, 8 decisions",
    )


def scenario_events_and_people(chaos: Chaos) -> None:
    stack, name = chaos.stack, "events"
    wait_until(lambda: _waiting(stack) == 0, 90, "page work before people write", interval=1)
    stack.emulator("POST", "/events/settings", {"duplicates": 2, "out_of_order": True, "reorder_window_seconds": 1})
    written = chaos.write_markers()
    for work in list(chaos.acquired)[:4]:
        stack.sandbox("POST", f"/works/{work}/stage", {"stage": "Writing"})
    stack.run_scheduled("poll")
    time.sleep(5)
    written += chaos.write_markers()
    chaos.note(
        name,
        f"each page event delivered 3 times, newest first; {written} paragraphs written by people; "
        f"4 stage moves rewrite the title homes' status regions",
    )


def scenario_two_tabs(chaos: Chaos) -> None:
    name = "two tabs"
    key = uuid.uuid4().hex
    with ThreadPoolExecutor(2) as pool:
        same = list(pool.map(lambda _: chaos.push_decision("40", key, "Same form, two tabs"), range(2)))
        separate = list(pool.map(lambda text: chaos.push_decision("41", None, text), ["Tab A", "Tab B"]))
    chaos.note(name, f"same key twice at once → {same}; two separate decisions at once → {separate}")


def _refusal_code(answer) -> str:
    """The code a refused push's JSON answer gives (title_not_on_page, ...), or its status text."""
    try:
        found = answer.json()
    except ValueError:
        return "not JSON"
    return str(found.get("code") or found.get("error") or "") if isinstance(found, dict) else ""


def _waiting(stack: Stack) -> int:
    depth = stack.outbox_depth()
    return depth.get("pending", 0) + depth.get("in_flight", 0)


def final_checks(chaos: Chaos, drain_seconds: float) -> list[inv.Check]:
    stack = chaos.stack
    started = time.monotonic()
    quiet = []  # the outbox must stay empty for three checks in a row (page events keep owing work for a while)

    def settled() -> bool:
        quiet.append(_waiting(stack) == 0 and _page_sets_settled(chaos))
        return len(quiet) >= 3 and all(quiet[-3:])

    try:
        wait_until(settled, drain_seconds, "outbox drain", interval=3)
    except TimeoutError:
        pass
    waited = time.monotonic() - started
    depth = stack.outbox_depth()
    recorded = records.decision_keys(stack)
    unrecorded = sorted(set(chaos.accepted_keys) - set(recorded))
    notes = records.notes_by_work(stack, set(recorded.values()))
    pages = records.title_pages(stack, chaos.acquired)
    bodies = {page_id: records.page_body(stack, page_id) for page_id in chaos.markers}
    failed, unfinished, activity = records.activity_records(stack)
    return [
        inv.Check(
            "every accepted push is a recorded decision",
            bool(chaos.accepted_keys) and not unrecorded,  # no accepted push at all proves nothing: a failure
            f"{len(chaos.accepted_keys)} pushes answered 2xx, {len(recorded)} decisions recorded"
            + (f"; not recorded {unrecorded[:3]}" if unrecorded else "")
            + (f"; refused {dict(chaos.refused)}" if chaos.refused else ""),
        ),
        inv.decisions_exactly_once(recorded, notes),
        inv.page_sets_complete(list(chaos.acquired), pages, records.expected_roles(stack)),
        inv.markers_survive(chaos.markers, bodies),
        inv.outbox_drained(depth, waited),
        inv.nothing_hidden(failed, unfinished, activity),
    ]


def _page_sets_settled(chaos: Chaos) -> bool:
    pages = records.title_pages(chaos.stack, chaos.acquired)
    return inv.page_sets_complete(list(chaos.acquired), pages, records.expected_roles(chaos.stack)).ok


def run(args) -> tuple[list[tuple[str, str]], list[inv.Check], Chaos]:
    options = StackOptions(
        size=args.size,
        web_workers=3,
        web_threads=8,
        rq_workers=3,
        app_env=APP_ENV,
        settings={"poll_interval_seconds": 60},
    )
    with Stack(options) as stack:
        print(f"stack up: app {stack.app_url}, logs in {stack.run_dir}", flush=True)
        stack.wait_baseline_poll()
        chaos = Chaos(stack)
        timings = []
        for scenario in (
            scenario_kill_workers,
            scenario_redis_restart,
            scenario_database_drop,
            scenario_outside_flapping,
            scenario_events_and_people,
            scenario_two_tabs,
        ):
            began = time.monotonic()
            print(scenario.__doc__ or scenario.__name__, flush=True)
            scenario(chaos)
            timings.append((scenario.__name__, time.monotonic() - began))
        stack.emulator("POST", "/events/settings", {"duplicates": 0, "out_of_order": False})
        chaos.revive()
        last_poll = stack.last_run_id("poll")
        stack.run_scheduled("poll")  # what the next scheduled poll does: catch anything a killed poll missed
        stack.wait_job("poll", last_poll, 120)
        checks = final_checks(chaos, args.drain_seconds)
        outcomes = records.run_outcomes(stack)
        figures = [(f"scenario: {scenario}", what) for scenario, what in chaos.events]
        figures += [
            (
                "job runs by kind and outcome",
                ", ".join(f"{k} {o} {n}" for (k, o), n in sorted(outcomes.items()) if k != "outbox.drain"),
            ),
            ("outbox drains (scheduled)", str(sum(n for (k, _), n in outcomes.items() if k == "outbox.drain"))),
            (
                "processes",
                f"web (Procfile) ×3 (8 threads), rq worker ×3 (replaced when killed), scheduler, both "
                f"sandboxes, own redis-server, PostgreSQL scratch database; catalogue {args.size} works",
            ),
        ]
        return figures, checks, chaos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--drain-seconds", type=float, default=180)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    started = time.monotonic()
    figures, checks, _ = run(args)
    figures.append(("wall time", f"{time.monotonic() - started:.0f}s"))
    print(report.render("Chaos: faults, then invariants against the sandboxes' records", figures, checks), flush=True)
    if not args.no_record:
        report.record(
            "Chaos: killed workers, Redis restart, dropped connections, flapping systems (`make chaos`)",
            "make chaos  # python -m load.run_chaos " + " ".join(argv if argv is not None else sys.argv[1:]),
            figures,
            checks,
        )
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
