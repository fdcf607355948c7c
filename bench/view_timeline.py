"""Where a first view's time goes inside the production server, at one connection, step by step.

`bench.macro_views` (its uncached one-connection row) runs our app under the Procfile's `web:` command, with one
change: granian loads `timed_app` from here, which marks the steps of every macro view in the worker (the lane's
entry and exit, the token check, the Redis lookup and its send and answer, the request to Consonance, the
renders, the write after the answer and its encoding) with `time.perf_counter_ns()` (one clock for all threads
and processes) and the thread's CPU time, and writes them to a directory the run names. This module then prints,
per transport, the median time of each step from the view's entry, the turnaround from one view's answer to the
next view's entry, when the previous view's write ran, and the CPU our Python used.

The marks cost a few µs each, and every 200 views a worker appends the views finished since its last write to
its file (the last ~200 of a run are not written): compare steps within a run, not a run's views a second with
`bench.macro_views`' own.

    .venv/bin/python -m bench.view_timeline [--duration 30] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib
import itertools
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from bench import macro_harness as rig

RESULTS = rig.ROOT / "bench" / "RESULTS.md"
DIRECTORY_VARIABLE = "C4C_VIEW_TIMELINE_DIR"
WRITE_EVERY = 200  # views; each write appends the views finished since the last one
IN_FLIGHT = 8  # the newest views, held back from a write: they may still be marking (one connection has two)

# (module, class or None, function, step): what is marked. The lane's entry starts a view.
MARKED: tuple[tuple[str, str | None, str, str], ...] = (
    ("addon.web.macro_lane", "MacroLane", "__call__", "lane"),
    ("addon.web.macro_lane", None, "verify_connect_request", "Connect token check"),
    ("addon.web.macro_lane", None, "verify_forge_request", "Forge token check"),
    ("addon.platform.auth", None, "verify_invocation_token", "FIT verified"),
    ("addon.platform.tenants", None, "tenant_for_forge", "Forge installation's tenant"),
    ("addon.platform.tenants", None, "remember_system_token", "system token kept"),
    ("addon.platform.auth", None, "verify_invocation_token", "FIT verified"),
    ("addon.platform.tenants", None, "tenant_for_forge", "Forge installation's tenant"),
    ("addon.platform.tenants", None, "remember_system_token", "system token kept"),
    ("addon.macros.cache", "RedisStore", "get_or_lock", "Redis lookup"),
    ("redis.client", "Pipeline", "execute", "redis-py pipeline"),
    ("redis.connection", "AbstractConnection", "send_packed_command", "Redis send"),
    ("redis.connection", "AbstractConnection", "read_response", "Redis answer read"),
    ("addon.consonance.transport", "GraphQLTransport", "execute", "Consonance request"),
    ("addon.consonance.wire", None, "_read_answer", "Consonance answer read"),
    ("addon.consonance.gateway", None, "load_title", "reading the title"),
    ("addon.macros.service", None, "_build_view", "view model"),
    ("flask.templating", None, "_render", "render"),
    ("addon.macros.cache", "AfterAnswer", "__call__", "write after the answer"),
    ("addon.macros.codec", None, "dumps", "encoding the entry"),
)
CPU_STEPS = ("lane", "write after the answer")
READ, SENT = "Redis answer read", "Redis send <"


class Recorder:
    """Each thread's current view: a list of (mark, ns) that the lane's entry starts."""

    def __init__(self, directory: str | None, write_every: int = WRITE_EVERY, in_flight: int = IN_FLIGHT):
        self.directory = directory
        self.views: list[list] = []  # not yet written
        self._write_every = write_every
        self._in_flight = in_flight
        self._current = threading.local()
        self._lock = threading.Lock()
        self._started = 0

    def start_view(self) -> None:
        view: list = [("thread", threading.get_ident())]
        self._current.view = view
        with self._lock:
            self.views.append(view)
            self._started += 1
            due = self.directory is not None and self._started % self._write_every == 0
        if due:
            self.write()

    def mark(self, name: str) -> None:
        view = getattr(self._current, "view", None)
        if view is not None:
            view.append((name, time.perf_counter_ns()))

    def mark_cpu(self, name: str) -> None:
        view = getattr(self._current, "view", None)
        if view is not None:
            view.append(("cpu " + name, time.thread_time_ns()))

    def timed(self, function: Callable, step: str, starts_view: bool = False) -> Callable:
        cpu = step in CPU_STEPS

        @functools.wraps(function)
        def marked(*args, **kwargs):
            if starts_view:
                self.start_view()
            self.mark(step + " >")
            if cpu:
                self.mark_cpu(step + " >")
            try:
                return function(*args, **kwargs)
            finally:
                if cpu:
                    self.mark_cpu(step + " <")
                self.mark(step + " <")

        return marked

    def install(self, marked: Iterable[tuple[str, str | None, str, str]] = MARKED) -> None:
        for module_name, class_name, function_name, step in marked:
            owner = importlib.import_module(module_name)
            if class_name is not None:
                owner = getattr(owner, class_name)
            original = getattr(owner, function_name)
            setattr(owner, function_name, self.timed(original, step, starts_view=step == "lane"))

    def write(self) -> None:
        """Append the views finished since the last write to this process's file, one JSON line each, and forget
        them: a write costs the same at the end of a run as at its start."""
        assert self.directory is not None
        with self._lock:
            finished = self.views[: -self._in_flight] if self._in_flight else self.views[:]
            del self.views[: len(finished)]
        with (Path(self.directory) / f"{os.getpid()}.jsonl").open("a") as file:
            file.writelines(json.dumps(view) + "\n" for view in finished)


def timed_app():
    """granian's factory (`--factory bench.view_timeline:timed_app`): the web app with its steps marked."""
    recorder = Recorder(os.environ.get(DIRECTORY_VARIABLE) or None)
    recorder.install()
    from addon.wsgi import app

    return app


# --- reading the marks -----------------------------------------------------------------------------------


def first_views(views: list[list]) -> list[dict]:
    """Views that asked Consonance and wrote after their answer, each as {mark: ns} (first occurrence, and each
    later one numbered: "Redis send > #2"), with its thread and transport."""
    found = []
    for view in views:
        marks = view[1:]
        names = {name for name, _ in marks}
        if "Consonance answer read >" not in names or "write after the answer <" not in names:
            continue
        seen: dict[str, int] = {}
        timeline: dict = {"thread": view[0][1], "transport": "forge" if "Forge token check >" in names else "connect"}
        previous, reading = "", False
        for name, at in marks:
            after, previous = previous, name
            if name == READ + " >":
                reading = after == SENT  # a pipeline's later answers are there already: only its first is a wait
            if name.startswith(READ) and not reading:
                continue
            seen[name] = seen.get(name, 0) + 1
            timeline[name if seen[name] == 1 else f"{name} #{seen[name]}"] = at
        found.append(timeline)
    return found


def step_medians(views: list[dict]) -> list[tuple[str, float, int]]:
    """(mark, median µs from the lane's entry, views with it) for marks most views have, in time order."""
    offsets: dict[str, list[float]] = {}
    for view in views:
        start = view["lane >"]
        for name, at in view.items():
            if name in ("thread", "transport") or name.startswith("cpu "):
                continue
            offsets.setdefault(name, []).append((at - start) / 1000)
    common = {name: values for name, values in offsets.items() if len(values) >= 0.9 * len(views)}
    rows = [(name, statistics.median(values), len(values)) for name, values in common.items()]
    return sorted(rows, key=lambda row: row[1])


def turnarounds(views_by_process: list[list[dict]]) -> dict[str, float]:
    """Medians over consecutive first views of one process (one connection: one after the other)."""
    gaps, write_starts, write_ends, same_thread = [], [], [], []
    for views in views_by_process:
        ordered = sorted(views, key=lambda view: view["lane >"])
        for previous, view in itertools.pairwise(ordered):
            start = view["lane >"]
            gaps.append((start - previous["lane <"]) / 1000)
            write_starts.append((previous["write after the answer >"] - start) / 1000)
            write_ends.append((previous["write after the answer <"] - start) / 1000)
            same_thread.append(1.0 if view["thread"] == previous["thread"] else 0.0)
    if not gaps:
        return {}
    return {
        "previous answer handed over → this view's entry (µs)": statistics.median(gaps),
        "previous view's write begins, from this view's entry (µs)": statistics.median(write_starts),
        "previous view's write ends, from this view's entry (µs)": statistics.median(write_ends),
        "views on the same thread as the view before (share)": statistics.mean(same_thread),
    }


def cpu_medians(views: list[dict]) -> dict[str, float]:
    """Median thread CPU (µs) of the steps in CPU_STEPS."""
    found = {}
    for step in CPU_STEPS:
        spent = [
            (view[f"cpu {step} <"] - view[f"cpu {step} >"]) / 1000
            for view in views
            if f"cpu {step} >" in view and f"cpu {step} <" in view
        ]
        if spent:
            found[step] = statistics.median(spent)
    return found


def report(directory: Path) -> list[str]:
    """Markdown lines: per transport, the steps' medians, the turnarounds and the CPU."""
    by_transport: dict[str, list[list[dict]]] = {}
    for path in sorted(directory.glob("*.jsonl")):
        views = first_views([json.loads(line) for line in path.read_text().splitlines() if line])
        for transport in ("connect", "forge"):
            mine = [view for view in views if view["transport"] == transport]
            if mine:
                by_transport.setdefault(transport, []).append(mine)
    lines = []
    for transport, per_process in by_transport.items():
        views = [view for process in per_process for view in process]
        lines += [
            "",
            f"{transport}: {len(views):,} first views",
            "",
            "| step | median µs from the view's entry | views |",
            "|---|---:|---:|",
        ]
        lines += [f"| {name} | {median:,.0f} | {count:,} |" for name, median, count in step_medians(views)]
        lines += ["", "| between views, and CPU | median |", "|---|---:|"]
        for name, value in turnarounds(per_process).items():
            lines.append(f"| {name} | {value:.2f} |" if "share" in name else f"| {name} | {value:,.0f} |")
        for step, spent in cpu_medians(views).items():
            lines.append(f"| thread CPU in {step} (µs) | {spent:,.0f} |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds of first views per target")
    parser.add_argument("--record", action="store_true", help="append the tables to bench/RESULTS.md")
    args = parser.parse_args(argv)
    from bench import macro_views

    web = rig.procfile_web_command()
    if " addon.wsgi:app" not in web:
        raise RuntimeError(f"the Procfile's web: line does not serve addon.wsgi:app: {web}")
    with tempfile.TemporaryDirectory(prefix="c4c-timeline-") as directory:
        server = f"env {DIRECTORY_VARIABLE}={directory} " + web.replace(
            " addon.wsgi:app", " --factory bench.view_timeline:timed_app"
        )
        macro_views.main(
            [
                "--caches",
                "uncached",
                "--connections",
                "1",
                "--rounds",
                "1",
                "--uncached-duration",
                str(args.duration),
                "--no-record",
                "--server-command",
                server,
            ]
        )
        lines = report(Path(directory))
    for line in lines:
        print(line)
    if args.record:
        heading = [
            "",
            f"## A first view's steps inside the production server, one connection ({dt.date.today().isoformat()})",
            "",
            f"Command: `.venv/bin/python -m bench.view_timeline --duration {args.duration} --record`  ",
            f"Machine: {macro_views.machine()}; Python {platform.python_version()}.  ",
            f"Our server: `{web}` with granian loading `bench.view_timeline:timed_app` (the same app, its steps "
            "marked); first views of titles never viewed, one connection, beside the peer as in `bench.macro_views`.",
        ]
        with RESULTS.open("a") as handle:
            handle.write("\n".join(heading + lines) + "\n")


if __name__ == "__main__":
    main()
