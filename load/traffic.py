"""Viewer traffic and what it cost: wrk (its own process, Lua script `load/wrk/viewers.lua`) on 127.0.0.1
against the Forge macro route with FITs minted by the emulator; the app's `/metrics` for cache lookups;
the Consonance sandbox's request log for calls per title."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

from load.harness import Stack

MACROS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")
SCRIPT = Path(__file__).resolve().parent / "wrk" / "viewers.lua"
CACHE_METRIC = re.compile(r'^c4c_macro_cache_lookups_total\{result="(\w+)"\}\s+([\d.e+]+)$', re.MULTILINE)


@dataclass(frozen=True)
class FailedView:
    """One view that was not a 200 with the panel, as wrk saw it, and why (from its body and the app's log)."""

    status: int
    request_id: str
    macro: str
    title: str
    body: str  # the first 300 characters
    log_lines: tuple[str, ...] = ()  # the app's log lines carrying this request id

    @property
    def cause(self) -> str:
        """The app's own words: its log lines for the request, else the error the body names, else the body."""
        if self.log_lines:
            return " | ".join(self.log_lines)
        try:
            answer = json.loads(self.body)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("error"):
            return f"{answer['error']}: {answer.get('message', '')}".strip()
        return self.body[:160] or "(empty body)"

    def describe(self) -> str:
        return f"{self.status} {self.macro} title {self.title} (request {self.request_id}): {self.cause}"


@dataclass
class ViewRun:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    non_2xx: int
    bad_views: int
    socket_detail: str = ""  # "connect 0, read 0, write 0, timeout 0"
    mean_ms: float = 0.0
    failures: list[FailedView] = field(default_factory=list)  # the bad views wrk printed (up to 100 per thread)

    def viewers_answered(self, think_ms: int) -> float:
        """How many viewers were being answered, by Little's law: each viewer waits for its answer, thinks, asks
        again, so views/s × (mean latency + mean think time) counts them. wrk records nothing for a view never
        answered: a server that leaves some connections waiting (granian's --backpressure caps connections, not
        requests) serves fewer viewers with good latencies, and only this figure shows it."""
        return self.rps * (self.mean_ms + think_ms) / 1000.0

    @property
    def errors(self) -> int:
        """Socket errors plus every view that was not a 200 with the panel (non-2xx are among bad views)."""
        return self.socket_errors + self.bad_views


def write_tokens(stack: Stack, path: Path, hot: list[str], cold: list[str], *, lifetime: int = 900) -> int:
    """One line per (title, macro), hot titles first; returns the number of hot lines."""
    pairs = [(work, macro) for work in hot + cold for macro in MACROS]

    def line(pair):
        work, macro = pair
        minted = stack.mint(macro, work, lifetime=lifetime, content_id=f"2{int(work):05d}")
        headers = minted["headers"]
        return "\t".join(
            (
                macro,
                minted["token"],
                headers.get("x-forge-oauth-system", ""),
                headers.get("x-forge-oauth-user", ""),
                work,
            )
        )

    with ThreadPoolExecutor(8) as pool:
        lines = list(pool.map(line, pairs))
    path.write_text("\n".join(lines) + "\n")
    return len(hot) * len(MACROS)


def _ms(microseconds: str) -> float:
    return int(microseconds) / 1000.0


def run_viewers(
    stack: Stack,
    token_file: Path,
    hot_lines: int,
    *,
    viewers: int,
    seconds: int,
    hot_share: float = 0.8,
    think_ms: int = 1000,
    threads: int = 2,
) -> ViewRun:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{viewers}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        stack.app_url,
        "--",
        str(token_file),
        str(hot_lines),
        str(hot_share),
        str(think_ms),
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    return parse_wrk(output)


BAD_VIEW = re.compile(r"^BAD_VIEW\t(\d+)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$", re.MULTILINE)


def parse_wrk(output: str) -> ViewRun:
    """wrk's summary plus what `viewers.lua` printed (percentiles, bad views one by one)."""
    if "Requests/sec" not in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", output)
    wall = float(total.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[total.group(3)]
    pct = dict(re.findall(r"^PCT ([\d.]+) (\d+)$", output, re.MULTILINE))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return ViewRun(
        requests=int(total.group(1)),
        seconds=wall,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(pct["50"]),
        p90_ms=_ms(pct["90"]),
        p99_ms=_ms(pct["99"]),
        max_ms=_ms(re.search(r"^MAXLAT (\d+)$", output, re.MULTILINE).group(1)),
        mean_ms=_ms(re.search(r"^MEANLAT (\d+)$", output, re.MULTILINE).group(1)),
        socket_errors=sum(map(int, sockets.groups())) if sockets else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        bad_views=int(re.search(r"^BAD_VIEWS (\d+)$", output, re.MULTILINE).group(1)),
        socket_detail=(
            ", ".join(
                f"{n} {v}" for n, v in zip(("connect", "read", "write", "timeout"), sockets.groups(), strict=True)
            )
            if sockets
            else ""
        ),
        failures=[
            FailedView(int(status), request_id, macro, title, body)
            for status, request_id, macro, title, body in BAD_VIEW.findall(output)
        ],
    )


def explain(failures: list[FailedView], log_paths: list[Path]) -> list[FailedView]:
    """Each failed view with the app's log lines for its request id (JSON logs: `request_id`, `message`, the
    last line of `exc`), read from the processes' logs."""
    wanted = {f.request_id for f in failures if f.request_id not in ("", "-")}
    found: dict[str, list[str]] = {}
    for path in log_paths if wanted else ():
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            if '"request_id"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            request_id = entry.get("request_id") if isinstance(entry, dict) else None
            if request_id in wanted:
                text = f"{entry.get('level', '')} {entry.get('logger', '')}: {entry.get('message', '')}"
                exc = (entry.get("exc") or "").strip().splitlines()
                found.setdefault(request_id, []).append(text + (f" ({exc[-1]})" if exc else ""))
    return [replace(f, log_lines=tuple(found.get(f.request_id, ()))) for f in failures]


def cache_lookups(stack: Stack) -> Counter:
    """The macro cache's lookups so far, summed over every web process (prometheus multiprocess mode)."""
    text = requests.get(stack.app_url + "/metrics", timeout=30).text
    counts = Counter()
    for result, value in CACHE_METRIC.findall(text):
        counts[result] += float(value)
    return counts


def hit_ratio(before: Counter, after: Counter) -> tuple[float, dict]:
    delta = {k: after[k] - before[k] for k in set(after) | set(before)}
    total = sum(delta.values())
    return ((delta.get("hit", 0) / total) if total else 0.0), delta


def consonance_calls(stack: Stack) -> list[dict]:
    """The sandbox's request log since it was last cleared (its own record of every GraphQL call)."""
    return requests.get(stack.consonance_url + "/_sandbox/requests", params={"limit": 200_000}, timeout=60).json()[
        "requests"
    ]


def calls_per_title(log: list[dict], titles: set[str]) -> dict:
    """Title reads (calls carrying a work id) per distinct viewed title: total, mean, and the worst
    (operation, title) pair."""
    per = Counter()
    for call in log:
        variables = call.get("variables") or {}
        work = str(variables.get("workId") or variables.get("id") or "")
        if work in titles:
            per[(call.get("operationName") or "?", work)] += 1
    reads = sum(per.values())
    distinct = len({work for _, work in per})
    worst = per.most_common(1)[0] if per else (("-", "-"), 0)
    ops = Counter(op for op, _ in per.elements())
    return {
        "reads": reads,
        "titles_read": distinct,
        "titles_viewed": len(titles),
        "per_title": reads / distinct if distinct else 0.0,
        "max_op_title": worst[1],
        "worst": worst[0],
        "by_operation": dict(ops),
        "per_op_title": per,
    }
