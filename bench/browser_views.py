"""Benchmark: where editors feel it. A page with the four macros opened in Chromium inside the Confluence
emulator, timed from navigation to all four panels visible, on both transports, for a title never viewed
(uncached) and the same title again (cached), with the Consonance sandbox answering 100 ms slower.

The app runs as production runs it (the Procfile's granian web process, RQ worker, scheduler, PostgreSQL,
a redis-server of our own; `load.harness.Stack`), installed in the emulator as a Forge app or Connect-style.
Every view opens in a fresh browser context (nothing in the browser's cache), so cached and uncached differ
only by the app's cache. For each panel it records the backend round trips it made (Forge: `invoke` calls
through the bridge; Connect: requests to the app other than static files), when they ran (so panels that wait
on each other show), its bytes, the host's own calls (Forge `getContext`), and per view the Consonance calls
(the sandbox's request log) and the app's calls to Confluence (the emulator's request log). It prints the
front-end bundles' sizes against their budgets.

    .venv/bin/python -m bench.browser_views [--samples 5] [--latency-ms 100] [--modes forge,connect] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from load.harness import ROOT, Stack, StackOptions, machine, wait_until

RESULTS = ROOT / "bench" / "RESULTS.md"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
MACROS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")
# In every frame, from its first byte: the moment (epoch ms, the browser's clock) a macro panel is first laid out
# (a panel inserted before its frame is laid out is looked at again each animation frame until it is).
PANEL_CLOCK = """
(() => {
  const seen = () => {
    if (window.__c4cPanelAt) return;
    const panel = document.querySelector('[class*="c4c-panel--"]');
    if (panel && panel.getClientRects().length) window.__c4cPanelAt = performance.timeOrigin + performance.now();
    else if (panel) requestAnimationFrame(seen);  // inserted before its frame was laid out: look again next frame
  };
  new MutationObserver(seen).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""
# Front-end budgets, gzip bytes over the wire (what a panel costs a first-time viewer): a macro panel is one
# bundle and one stylesheet. The Forge bundle carries @forge/bridge; Connect's uses the host's all.js.
BUDGETS = {
    "static/customui/app.js": 40 * 1024,
    "static/customui/panel.css": 4 * 1024,
    "static/connect/macro.js": 4 * 1024,
    "static/admin/forge.js": 40 * 1024,
    "static/admin/connect.js": 8 * 1024,
    "static/admin/admin.css": 4 * 1024,
    "static/macroconfig/app.js": 40 * 1024,
    "static/macroconfig/connect.js": 6 * 1024,
    "static/macroconfig/picker.css": 4 * 1024,
}


@dataclass
class RoundTrip:
    kind: str  # "backend" (the app answered a view) | "static" | "host" (the emulator: bridge context, all.js)
    url: str
    started: float  # seconds after navigation began
    ended: float | None = None
    status: int | None = None
    bytes: int = 0


@dataclass
class View:
    seconds: float  # navigation to the last panel visible
    visible: dict[str, float]  # macro -> seconds to visible
    trips: dict[str, list[RoundTrip]] = field(default_factory=dict)  # macro -> its requests
    consonance_calls: Counter = field(default_factory=Counter)  # by operation, during the view
    confluence_calls: Counter = field(default_factory=Counter)  # the app's REST calls to the emulator, by route

    def backend(self, macro: str) -> list[RoundTrip]:
        return [t for t in self.trips.get(macro, []) if t.kind == "backend"]

    def overlap(self) -> str:
        """How the panels' backend calls overlapped: "all four" in flight at one moment, "some", or "none" (each
        began after the one before it ended: a chain, as if each panel waited on the last)."""
        firsts = sorted((self.backend(m)[0] for m in MACROS if self.backend(m)), key=lambda t: t.started)
        if len(firsts) < 2 or any(t.ended is None for t in firsts):
            return "?"
        if max(t.started for t in firsts) < min(t.ended for t in firsts):
            return "all four" if len(firsts) == len(MACROS) else "all"
        chained = all(b.started >= a.ended for a, b in zip(firsts, firsts[1:], strict=False))
        return "none" if chained else "some"

    def waterfall(self) -> str:
        """Each request of the view on one line, by start: where the time between navigation and the last panel
        went (which request waited, on what, and for how long)."""
        rows = sorted(
            ((t.started, t.ended, m, t.kind, urlsplit(t.url).path) for m, ts in self.trips.items() for t in ts),
            key=lambda row: row[0],
        )
        lines = [f"  {'start':>7} {'end':>7} {'ms':>6}  macro / kind / path"]
        for started, ended, macro, kind, path in rows:
            took = f"{(ended - started) * 1000:6.0f}" if ended is not None else "     ?"
            end = f"{ended * 1000:7.0f}" if ended is not None else "      ?"
            lines.append(f"  {started * 1000:7.0f} {end} {took}  {macro} / {kind} / {path}")
        lines += [f"  visible {m}: {self.visible[m] * 1000:.0f} ms" for m in MACROS if m in self.visible]
        return "\n".join(lines)


def bundle_sizes() -> list[dict]:
    rows = []
    for path in sorted((ROOT / "static").rglob("*")):
        relative = str(path.relative_to(ROOT))
        if path.is_file() and "/src/" not in relative and path.suffix in (".js", ".css"):
            data = path.read_bytes()
            budget = BUDGETS.get(relative)
            rows.append(
                {
                    "file": relative,
                    "raw": len(data),
                    "gzip": len(gzip.compress(data, 9)),
                    "budget": budget,
                }
            )
    return rows


def _classify(url: str, app_url: str, post_data: str | None) -> str:
    parts = urlsplit(url)
    if url.startswith(app_url):
        if parts.path.startswith(("/static/", "/customui/", "/macroconfig/")) or parts.path.endswith(
            (".js", ".css", ".html", ".png", ".svg", ".ico")
        ):
            return "static"
        return "backend"
    if parts.path.endswith("/bridge"):
        try:
            method = (json.loads(post_data or "{}") or {}).get("method")
        except ValueError:
            method = None
        return "backend" if method == "invoke" else "host"
    return "host"


def open_page(browser, stack: Stack, url: str, work: str) -> View:
    """One view in a fresh browser context, timed on the browser's clock: from the navigation's start (the top
    document's timeOrigin) to the moment each frame first laid out its panel."""
    context = browser.new_context(viewport={"width": 1100, "height": 2400})
    context.add_init_script(PANEL_CLOCK)
    page = context.new_page()
    trips: dict[object, RoundTrip] = {}
    frames: dict[object, object] = {}
    started = time.perf_counter()

    def on_request(request):
        try:
            post = request.post_data
        except Exception:  # noqa: BLE001 - binary bodies
            post = None
        kind = _classify(request.url, stack.app_url, post)
        trips[request] = RoundTrip(kind, request.url, time.perf_counter() - started)
        frames[request] = request.frame

    def on_finished(request):
        trip = trips.get(request)
        if trip is not None:
            trip.ended = time.perf_counter() - started

    page.on("request", on_request)
    page.on("requestfinished", on_finished)
    page.on("requestfailed", on_finished)
    stack.sandbox("DELETE", "/requests")
    requests.delete(stack.emulator_url + "/_emulator/requests", timeout=10)
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    origin = page.evaluate("performance.timeOrigin")
    visible: dict[str, float] = {}
    by_frame: dict[object, str] = {}
    deadline = time.perf_counter() + 60
    while len(visible) < len(MACROS) and time.perf_counter() < deadline:
        for frame in page.frames:
            if frame is page.main_frame:
                continue
            try:
                macro = by_frame.get(frame)
                if macro is None:  # kept once known: a frame can be seen before its element says which macro it is
                    macro = frame.frame_element().get_attribute("data-macro-key")
                    if macro:
                        by_frame[frame] = macro
                if macro in MACROS and macro not in visible:
                    at = frame.evaluate("window.__c4cPanelAt || 0")
                    if at:
                        visible[macro] = (at - origin) / 1000
            except Exception:  # noqa: BLE001 - a frame still navigating
                continue
        time.sleep(0.02)
    page.wait_for_load_state("networkidle")
    per_macro: dict[str, list[RoundTrip]] = {m: [] for m in MACROS}
    for request, trip in trips.items():
        macro = by_frame.get(frames[request])
        if macro in per_macro:
            try:
                trip.bytes = request.sizes()["responseBodySize"]
                response = request.response()
                trip.status = response.status if response else None
            except Exception:  # noqa: BLE001 - a request without a response
                pass
            # The browser's own clock for the request (the events above reach Python late, by tens of ms).
            timing = request.timing
            if timing.get("startTime", -1) > 0:
                trip.started = (timing["startTime"] - origin) / 1000
                if timing.get("responseEnd", -1) >= 0:
                    trip.ended = trip.started + timing["responseEnd"] / 1000
            per_macro[macro].append(trip)
    context.close()
    if len(visible) < len(MACROS):
        raise RuntimeError(f"panels not visible within 60 s: {sorted(set(MACROS) - set(visible))}")
    consonance = requests.get(stack.consonance_url + "/_sandbox/requests", params={"limit": 10_000}, timeout=30).json()
    emulator_log = requests.get(stack.emulator_url + "/_emulator/requests", timeout=30).json()
    app_calls = [e for e in emulator_log if e.get("path", "").startswith(("/wiki/api/", "/wiki/rest/"))]
    return View(
        seconds=max(visible.values()),
        visible=visible,
        trips=per_macro,
        consonance_calls=Counter(
            (c.get("operationName") or "?") + ("" if _names(c, work) else " (other titles: background work)")
            for c in consonance["requests"]
        ),
        confluence_calls=Counter(f"{e['method']} {_shape(e['path'])}" for e in app_calls),
    )


def _names(call: dict, work: str) -> bool:
    variables = call.get("variables") or {}
    return str(variables.get("workId") or variables.get("id") or "") == work


def _shape(path: str) -> str:
    """/wiki/api/v2/pages/123/properties -> /wiki/api/v2/pages/{id}/properties"""
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


def retitle(stack: Stack, page_id: str, work: str) -> None:
    """Point the page's four macros at another title (what an editor's macro configuration saves)."""
    for macro in MACROS:
        stack.emulator("POST", f"/pages/{page_id}/macros/seed-{macro}", {"parameters": {"title": work}})


def quiet(stack: Stack, seconds: float = 60) -> None:
    """Wait until the app's background work is done (page events of the edit, outbox writes), so the request
    logs read during a view hold only what the view caused."""
    from addon.extensions import db
    from addon.jobs.models import JobRun

    def settled():
        with stack.app().app_context():
            running = db.session.query(JobRun).filter(JobRun.finished_at.is_(None)).count()
            db.session.remove()
        depth = stack.outbox_depth()
        return running == 0 and not depth.get("pending") and not depth.get("in_flight")

    time.sleep(3.0)  # the emulator's page events reach the app and are queued
    try:
        wait_until(settled, seconds, "the app's background work", interval=0.5)
    except TimeoutError:
        with stack.app().app_context():
            running = [(r.kind, r.started_at) for r in db.session.query(JobRun).filter(JobRun.finished_at.is_(None))]
            db.session.remove()
        print(f"still busy after {seconds}s: runs {running}, outbox {stack.outbox_depth()}", flush=True)


def run_mode(browser, mode: str, samples: int, latency_ms: int, waterfall: bool = False) -> dict:
    options = StackOptions(size=300, web_workers=2, web_threads=8, rq_workers=1, mode=mode)
    with Stack(options) as stack:
        print(f"{mode}: stack up ({stack.app_url}), logs in {stack.run_dir}", flush=True)
        stack.wait_job("poll", 0, 180)  # the scheduler's first poll, so it does not run during the views
        seeded = stack.emulator("POST", "/seed", {"work_id": "1"})
        url = f"{stack.emulator_url}{seeded['pageUrl']}?as=557058:bench-editor"
        for _ in range(3):  # warm each web process (keys fetched, templates compiled) on a title not measured
            open_page(browser, stack, url, "1")
        stack.sandbox("POST", "/faults", {"latencyMs": latency_ms})
        views: dict[str, list[View]] = {"uncached": [], "cached": []}
        for sample in range(samples):
            retitle(stack, seeded["pageId"], str(101 + sample))
            for state in ("uncached", "cached"):
                quiet(stack)
                view = open_page(browser, stack, url, str(101 + sample))
                views[state].append(view)
                print(
                    f"{mode} {state} #{sample + 1}: all four panels in {view.seconds * 1000:.0f} ms "
                    f"({', '.join(f'{m} {view.visible[m] * 1000:.0f}' for m in MACROS)}); backend round trips "
                    f"{ {m: len(view.backend(m)) for m in MACROS} }, overlap {view.overlap()}; "
                    f"Consonance calls {dict(view.consonance_calls)}, app calls to Confluence "
                    f"{dict(view.confluence_calls)}",
                    flush=True,
                )
                if waterfall:
                    print(view.waterfall(), flush=True)
        stack.sandbox("DELETE", "/faults")
        return views


def summarise(mode: str, state: str, views: list[View]) -> dict:
    seconds = sorted(v.seconds for v in views)
    last = views[-1]
    return {
        "mode": mode,
        "state": state,
        "median_ms": statistics.median(seconds) * 1000,
        "max_ms": seconds[-1] * 1000,
        "per_panel_ms": {m: statistics.median(v.visible[m] for v in views) * 1000 for m in MACROS},
        "backend_trips": {m: max(len(v.backend(m)) for v in views) for m in MACROS},
        "host_trips": {m: max(sum(t.kind == "host" for t in v.trips[m]) for v in views) for m in MACROS},
        "static_requests": {m: max(sum(t.kind == "static" for t in v.trips[m]) for v in views) for m in MACROS},
        "kib_per_view": statistics.median(sum(t.bytes for m in MACROS for t in v.trips[m]) for v in views) / 1024,
        "overlap": Counter(v.overlap() for v in views),
        "first_trip_ms": {
            m: statistics.median(v.backend(m)[0].started for v in views if v.backend(m)) * 1000 for m in MACROS
        },
        "consonance": statistics.median(
            sum(n for op, n in v.consonance_calls.items() if "background" not in op) for v in views
        ),
        "consonance_ops": sum((v.consonance_calls for v in views), Counter()),
        "confluence": statistics.median(sum(v.confluence_calls.values()) for v in views),
        "confluence_routes": sum((v.confluence_calls for v in views), Counter()),
        "samples": len(views),
        "example": {m: [(t.kind, urlsplit(t.url).path) for t in last.trips[m]] for m in MACROS},
    }


def report(rows: list[dict], bundles: list[dict], latency_ms: int) -> str:
    lines = [
        "| transport | title | samples | navigation → all four panels visible, median (max) | per panel, median "
        "(title-status / rights / checklist / readiness) | backend round trips per panel | panels' backend calls "
        "overlap (views) | host calls per panel | static requests per panel | KiB the four panels received | "
        "Consonance calls for the viewed title per view, median | app calls to Confluence per view, median |",
        "|---|---|---:|---:|---|---|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        per_panel = " / ".join(f"{r['per_panel_ms'][m]:.0f}" for m in MACROS)
        lines.append(
            f"| {r['mode']} | {r['state']} | {r['samples']} | {r['median_ms']:.0f} ms ({r['max_ms']:.0f} ms) | "
            f"{per_panel} ms | "
            f"{' / '.join(str(r['backend_trips'][m]) for m in MACROS)} | "
            f"{', '.join(f'{k} ×{n}' for k, n in r['overlap'].most_common())} | "
            f"{' / '.join(str(r['host_trips'][m]) for m in MACROS)} | "
            f"{' / '.join(str(r['static_requests'][m]) for m in MACROS)} | {r['kib_per_view']:.0f} | "
            f"{r['consonance']:g} | {r['confluence']:g} |"
        )
    lines += [
        "",
        "Calls during the views, all samples (Consonance by operation; the app's calls to Confluence by route):",
        "",
    ]
    for r in rows:
        lines.append(
            f"- {r['mode']} {r['state']}: Consonance {dict(r['consonance_ops'].most_common())}; "
            f"Confluence {dict(r['confluence_routes'].most_common())}"
        )
    lines += [
        "",
        "| bundle | bytes | gzip bytes | gzip budget | within |",
        "|---|---:|---:|---:|---|",
    ]
    for b in bundles:
        budget = b["budget"]
        within = "—" if budget is None else ("yes" if b["gzip"] <= budget else "**NO**")
        lines.append(f"| {b['file']} | {b['raw']:,} | {b['gzip']:,} | {f'{budget:,}' if budget else '—'} | {within} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--modes", default="forge,connect")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--waterfall", action="store_true", help="print every view's requests by start time")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for mode in args.modes.split(","):
                views = run_mode(browser, mode, args.samples, args.latency_ms, args.waterfall)
                rows += [summarise(mode, state, views[state]) for state in ("uncached", "cached")]
        finally:
            browser.close()
    bundles = bundle_sizes()
    text = report(rows, bundles, args.latency_ms)
    print("\n" + text, flush=True)
    for r in rows:
        print(f"{r['mode']} {r['state']}: requests of one view's title-status panel: {r['example']['title-status']}")
    if not args.no_record:
        info = machine()
        command = "python -m bench.browser_views " + " ".join(argv if argv is not None else sys.argv[1:])
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(
                "\n".join(
                    [
                        "",
                        f"## Four macros in Chromium, Consonance +{args.latency_ms} ms ({dt.date.today().isoformat()})",
                        "",
                        f"Command: `{command}`  ",
                        f"Machine: `nproc` {info['nproc']}, {info['memory_gib']} GiB memory, {info['cpu']}; Debian "
                        "Chromium headless via Playwright, the app under granian (Procfile) with PostgreSQL and "
                        f"Redis, both sandboxes in their own processes; wall time {time.monotonic() - started:.0f}s. "
                        "Each view in a fresh browser context; each panel's time is when its frame first laid it "
                        "out (a MutationObserver on the browser's clock), from the navigation's start.",
                        "",
                        text,
                        "",
                    ]
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
