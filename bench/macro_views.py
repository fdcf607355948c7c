"""Benchmark: macro views through the production server with full token verification, beside
atlassian-connect-express 11 (the best-known peer) serving the same panel in the same run.

Our app runs under the Procfile's `web:` command against PostgreSQL and Redis; the Connect tenant is
installed through the real signed-install route (RS256 key from a local key server), the Forge
tenant by its first Forge Invocation Token (local JWKS). Load comes from Debian's `wrk` in its own
process (one thread; Lua scripts vary the title or the token), on 127.0.0.1 only, for a fixed time.
Rows: our Connect iframe route (the headline, like for like with ACE's route and its context JWT),
our Forge remote route, and ACE; cached (one title, warmed) and uncached (every request a title not
yet viewed); 1 and 50 connections. Ratios are ours / ACE's. Each row's time is cut into `--rounds` slices that
take turns with the other targets' (each round begins with the next target), because this machine's speed drifts
by a quarter from one minute to the next: run one after the other, whichever row ran in a slow minute lost.

    .venv/bin/python -m bench.macro_views [--duration 10] [--uncached-duration 30] [--rounds 3] [--no-record]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests

from addon.consonance.operations import load_operation
from bench import macro_harness as rig
from bench.consonance_catalogue import sandbox_process

ROOT = rig.ROOT
RESULTS = ROOT / "bench" / "RESULTS.md"
WRK_DIR = ROOT / "bench" / "wrk"
QUERY = "pageId=1001&pageVersion=3&spaceKey=PUB&macroId=m-1&outputType=display&title={title}"
CACHED_TITLE = 7
PRODUCT_BASE_URL = "https://bench-site.atlassian.test/wiki"


@dataclass
class Row:
    target: str
    cache: str
    connections: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    titles: int | None = None  # uncached: distinct titles available to the run
    body_bytes: int | None = None
    consonance_reads: int | None = None  # title reads the sandbox answered during the run
    mean_ms: float | None = None
    server_cpu_ms: float | None = None  # CPU the measured server's processes used, per request
    consonance_cpu_ms: float | None = None  # CPU the Consonance sandbox used, per request
    server_syscalls: float | None = None  # system calls the measured server made, per request (--syscalls)
    round_rps: tuple[float, ...] = ()  # req/s of each slice, in the order the rounds ran

    def round_ratios(self, peer: Row) -> list[float]:
        """This row's req/s over the peer's, round by round: the two slices of a round ran seconds apart, so the
        spread of these shows how far the machine's drift moves the row's ratio."""
        if len(self.round_rps) != len(peer.round_rps):
            return []
        return [ours / theirs for ours, theirs in zip(self.round_rps, peer.round_rps, strict=True) if theirs > 0]

    @property
    def connections_answered(self) -> float | None:
        """How many of wrk's connections were being answered, by Little's law (each holds one request at a time,
        so req/s × mean latency counts the busy ones). wrk records nothing for a request that never gets an
        answer, so a server that leaves connections waiting (granian's --backpressure caps accepted connections,
        not requests) shows good latencies on fewer connections; this figure shows it."""
        return None if self.mean_ms is None else self.rps * self.mean_ms / 1000.0

    @property
    def left_connections_waiting(self) -> bool:
        answered = self.connections_answered
        return answered is not None and self.connections > 1 and answered < 0.9 * self.connections


def _title_reads(consonance_url: str) -> int:
    """Title reads the Consonance sandbox has answered so far (by operation, from its own counters)."""
    counters = requests.get(consonance_url + "/_sandbox/counters", timeout=30).json()
    return sum(n for operation, n in counters.get("byOperation", {}).items() if operation.startswith("Title"))


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


@dataclass
class Slice:
    """One wrk run of one target, a slice of its row: the rows' targets take turns, so the machine's drift
    (the same sandbox request cost 12-25 ms of CPU from one minute to the next here) falls on all of them."""

    requests: int
    seconds: float
    errors: int
    error_kinds: str
    mean_ms: float | None
    percentiles: list[tuple[float, float]]  # (percentile, milliseconds)
    consonance_reads: int
    server_cpu: float  # seconds
    sandbox_cpu: float
    syscalls: int | None
    syscalls_by_name: dict[str, int]


def measure_slice(
    url: str,
    consonance_url: str,
    *,
    connections: int,
    seconds: int,
    script: Path,
    script_args: list[str],
    titles: int | None,
    syscalls: bool,
) -> Slice:
    reads_before = _title_reads(consonance_url)
    server_pids, sandbox_pids = rig.listening_processes(url), rig.listening_processes(consonance_url)
    cpu_before = rig.cpu_seconds(server_pids), rig.cpu_seconds(sandbox_pids)
    counting = rig.SyscallCount(server_pids) if syscalls else contextlib.nullcontext()
    with counting:
        result = run_wrk(url, connections=connections, seconds=seconds, script=script, script_args=script_args)
    server_cpu = rig.cpu_seconds(server_pids) - cpu_before[0]
    sandbox_cpu = rig.cpu_seconds(sandbox_pids) - cpu_before[1]
    if titles is not None and result["requests"] > titles:
        # wrk's script starts the range again: the rest were cached views, not first ones
        raise RuntimeError(
            f"{url} made {result['requests']} uncached views over {titles} titles: raise --titles-per-run (and --size)"
        )
    return Slice(
        requests=result["requests"],
        seconds=result["requests"] / result["rps"] if result["rps"] else float(seconds),
        errors=result["errors"],
        error_kinds=result["error_kinds"],
        mean_ms=result["mean"],
        percentiles=result["percentiles"],
        consonance_reads=_title_reads(consonance_url) - reads_before,
        server_cpu=server_cpu,
        sandbox_cpu=sandbox_cpu,
        syscalls=counting.count if syscalls else None,
        syscalls_by_name=dict(counting.by_name) if syscalls and counting.by_name else {},
    )


def merged_row(
    target: str,
    cache: str,
    connections: int,
    slices: list[Slice],
    titles: int | None,
    body_bytes: int,
    syscalls: bool,
) -> Row:
    """A target's row from its slices: counts and CPU added up, req/s over the time its slices ran, and p50/p99
    of all its views (each slice's latency distribution weighted by its views)."""
    requests = sum(piece.requests for piece in slices)
    views = max(1, requests)
    distributions = [(piece.requests, piece.percentiles) for piece in slices]
    means = [(piece.requests, piece.mean_ms) for piece in slices if piece.mean_ms is not None]
    return Row(
        target,
        cache,
        connections,
        requests,
        requests / max(1e-9, sum(piece.seconds for piece in slices)),
        rig.merged_percentile(distributions, 50.0),
        rig.merged_percentile(distributions, 99.0),
        sum(piece.errors for piece in slices),
        titles,
        body_bytes,
        sum(piece.consonance_reads for piece in slices),
        sum(n * mean for n, mean in means) / max(1, sum(n for n, _ in means)) if means else None,
        1000 * sum(piece.server_cpu for piece in slices) / views,
        1000 * sum(piece.sandbox_cpu for piece in slices) / views,
        sum(piece.syscalls or 0 for piece in slices) / views if syscalls else None,
        tuple(piece.requests / piece.seconds if piece.seconds else 0.0 for piece in slices),
    )


def run_wrk(url: str, *, connections: int, seconds: int, script: Path, script_args: list[str]) -> dict:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
        "--",
        *script_args,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60, cwd=ROOT).stdout
    if "Requests/sec" not in output:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    percentiles = re.search(r"^C4C-PERCENTILES (.+)$", output, re.MULTILINE)
    if percentiles is None:
        raise RuntimeError(f"the script printed no percentiles (bench/wrk/percentiles.lua):\n{output}")
    mean = re.search(r"^\s+Latency\s+(\S+)\s", output, re.MULTILINE)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "mean": _ms(mean.group(1)) if mean else None,
        "percentiles": [
            (float(point), int(value) / 1000.0)
            for point, value in (item.split("=") for item in percentiles.group(1).split())
        ],
        "errors": (sum(map(int, socket_errors.groups())) if socket_errors else 0)
        + (int(non_2xx.group(1)) if non_2xx else 0),
        "error_kinds": ", ".join(
            [
                f"{kind} {n}"
                for kind, n in zip(("connect", "read", "write", "timeout"), socket_errors.groups(), strict=True)
                if n != "0"
            ]
            if socket_errors
            else []
        )
        + (f"non-2xx {non_2xx.group(1)}" if non_2xx else ""),
    }


def _shows_panel(page: str, title_text: str) -> bool:
    page = page.replace("&#39;", "'").replace("&#34;", '"')
    return html.escape(title_text, quote=False) in page and "c4c-panel--title-status" in page


def _check(response: requests.Response, title_text: str) -> int:
    """A measured route must answer the real panel, not an error page."""
    response.raise_for_status()
    if not _shows_panel(response.text, title_text):
        raise RuntimeError(f"{response.url[:80]} did not answer the title-status panel: {response.text[-1500:]}")
    return len(response.content)


def _work_title(consonance_url: str, work_id: int) -> str:
    body = {"query": load_operation("TitleByWorkId").document, "variables": {"workId": str(work_id)}}
    answer = requests.post(
        consonance_url + "/graphql",
        json=body,
        timeout=30,
        headers={"Authorization": f"Bearer {rig.CONSONANCE_API_KEY}"},
    ).json()
    return answer["data"]["work"]["title"]


def _connect_tenants_to_consonance(app, consonance_url: str) -> None:
    """What an admin does on the configuration page: Consonance address and API key for each site."""
    from addon.extensions import db
    from addon.platform import tenants
    from addon.platform.models import Tenant
    from addon.settings.service import update_settings

    with app.app_context():
        for tenant in db.session.query(Tenant).all():
            tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, rig.CONSONANCE_API_KEY)
            db.session.commit()
            update_settings(tenant, {"consonance_host": consonance_url}, actor="bench")


def benchmark(args) -> tuple[list[Row], dict]:
    from addon import create_app
    from addon.extensions import db

    secret_key, encryption_key = rig.new_secrets()
    lifetime = 3600
    rows: list[Row] = []
    with (
        rig.scratch_database() as database_url,
        rig.own_redis() as redis_url,
        rig.KeyServer() as keys,
        sandbox_process(args.size, seed=42) as consonance_url,
        tempfile.TemporaryDirectory() as scratch,
    ):
        port = rig.free_port()
        environment = rig.app_environment(
            port=port,
            database_url=database_url,
            redis_url=redis_url,
            keys_url=keys.url,
            secret_key=secret_key,
            encryption_key=encryption_key,
        )
        # The site's politeness budget is a deployment setting; the peer has none. The sandbox is ours, so the
        # per-minute cap is raised above what a run asks; the concurrency cap stays at its default.
        environment["CONSONANCE_REQUESTS_PER_MINUTE"] = str(args.budget_per_minute)
        setup_app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": secret_key,
                "ENCRYPTION_KEYS": encryption_key,
                "LOG_LEVEL": "WARNING",
                "CONSONANCE_ALLOWED_HOSTS": "127.0.0.1",  # the sandbox on loopback over http
            }
        )
        with setup_app.app_context():
            db.create_all()
        command = args.server_command or rig.procfile_web_command()
        with rig.app_server(environment, command) as base:
            client_key, shared_secret = "bench-client-key", os.urandom(32).hex()
            payload = {
                "key": rig.APP_KEY,
                "clientKey": client_key,
                "sharedSecret": shared_secret,
                "baseUrl": PRODUCT_BASE_URL,
                "displayUrl": PRODUCT_BASE_URL,
                "productType": "confluence",
                "eventType": "installed",
                "accountId": "557058:bench-admin",
            }
            token = keys.signed_install("POST", "/connect/installed", client_key, base)
            requests.post(
                base + "/connect/installed", json=payload, headers={"Authorization": "JWT " + token}, timeout=30
            ).raise_for_status()
            site = PRODUCT_BASE_URL.rsplit("/wiki", 1)[0]
            installation = "ari:cloud:ecosystem::installation/bench-forge-1"
            forge_path = "/forge/macro/title-status"
            forge_headers = {
                "Content-Type": "application/json",
                "x-forge-oauth-system": "bench-system-token",
                "x-forge-oauth-user": "bench-user-token",
            }
            first_fit = keys.fit(installation, site_url=site, title=str(CACHED_TITLE), lifetime=lifetime)
            requests.post(
                base + forge_path,
                data="{}",
                timeout=30,
                headers={**forge_headers, "Authorization": "Bearer " + first_fit},
            ).raise_for_status()
            _connect_tenants_to_consonance(setup_app, consonance_url)

            ctx = rig.context_jwt(client_key, shared_secret, lifetime)
            query_file = Path(scratch) / "TitleByWorkId.graphql"
            query_file.write_text(load_operation("TitleByWorkId").document)
            with rig.ace_peer(
                client_key=client_key,
                shared_secret=shared_secret,
                product_base_url=PRODUCT_BASE_URL,
                consonance_url=consonance_url,
                query_file=str(query_file),
            ) as ace:
                connect_path = "/connect/macro/title-status?" + QUERY + "&jwt=" + ctx
                cached_title = _work_title(consonance_url, CACHED_TITLE)
                sizes = {
                    "ours-connect": _check(
                        requests.get(base + connect_path.format(title=CACHED_TITLE), timeout=30), cached_title
                    ),
                    "ace": _check(
                        requests.get(ace + connect_path.format(title=CACHED_TITLE), timeout=30), cached_title
                    ),
                }
                forge_answer = requests.post(
                    base + forge_path,
                    data="{}",
                    timeout=30,
                    headers={**forge_headers, "Authorization": "Bearer " + first_fit},
                )
                forge_answer.raise_for_status()
                if not _shows_panel(forge_answer.json()["html"], cached_title):
                    raise RuntimeError("the Forge route did not answer the panel")
                sizes["ours-forge"] = len(forge_answer.content)
                cached_token_file = Path(scratch) / "fit-cached.txt"
                cached_token_file.write_text(first_fit + "\n")

                next_title = CACHED_TITLE + 1
                targets = [("ours-connect", base), ("ours-forge", base), ("ace", ace)]

                def plan(target: str, cache: str, titles: int) -> tuple[Path, list[str], int | None]:
                    """wrk's script and arguments for one slice: cached views of one title, or first views of
                    `titles` titles no run has viewed (and the number of them)."""
                    nonlocal next_title
                    if cache == "uncached" and next_title + titles > args.size:
                        raise RuntimeError("catalogue too small for the uncached runs: raise --size")
                    if target == "ours-forge":
                        if cache == "cached":
                            return WRK_DIR / "forge_macro.lua", [str(cached_token_file), forge_path], None
                        token_file = Path(scratch) / f"fit-{next_title}.txt"
                        token_file.write_text(
                            "".join(
                                keys.fit(installation, site_url=site, title=str(n), lifetime=lifetime) + "\n"
                                for n in range(next_title, next_title + titles)
                            )
                        )
                        next_title += titles
                        return WRK_DIR / "forge_macro.lua", [str(token_file), forge_path], titles
                    first, count = CACHED_TITLE, 1
                    if cache == "uncached":
                        first, count, next_title = next_title, titles, next_title + titles
                    script_args = [str(first), str(count), connect_path]
                    return WRK_DIR / "vary_title.lua", script_args, (titles if cache == "uncached" else None)

                for cache in args.caches:
                    for connections in args.connections:
                        seconds = args.duration if cache == "cached" else args.uncached_duration
                        slice_seconds = max(1, round(seconds / args.rounds))
                        titles_per_slice = args.titles_per_run // args.rounds
                        if cache == "cached" and args.warmup:
                            for target, url in targets:
                                script, script_args, _ = plan(target, cache, 0)
                                run_wrk(
                                    url,
                                    connections=connections,
                                    seconds=args.warmup,
                                    script=script,
                                    script_args=script_args,
                                )
                        slices: dict[str, list[Slice]] = {target: [] for target, _ in targets}
                        for turn in range(args.rounds):  # each round starts with the next target: drift falls on all
                            for target, url in targets[turn % 3 :] + targets[: turn % 3]:
                                script, script_args, titles = plan(target, cache, titles_per_slice)
                                slices[target].append(
                                    measure_slice(
                                        url,
                                        consonance_url,
                                        connections=connections,
                                        seconds=slice_seconds,
                                        script=script,
                                        script_args=script_args,
                                        titles=titles,
                                        syscalls=args.syscalls,
                                    )
                                )
                        merged = [
                            merged_row(
                                target,
                                cache,
                                connections,
                                slices[target],
                                titles_per_slice * args.rounds if cache == "uncached" else None,
                                sizes[target],
                                args.syscalls,
                            )
                            for target, _ in targets
                        ]
                        rows.extend(merged)  # all three before printing: a line's ratios need the peer's row
                        for (target, _), row in zip(targets, merged, strict=True):
                            print(_line(row, rows), flush=True)
                            if row.left_connections_waiting:
                                print(
                                    f"  {target} {cache} {connections}: only ~{row.connections_answered:.0f} of "
                                    f"{connections} connections were answered; the rest waited the whole run",
                                    flush=True,
                                )
                            kinds = "; ".join(piece.error_kinds for piece in slices[target] if piece.error_kinds)
                            if kinds:
                                print(f"  {target} {cache} {connections}: errors: {kinds}", flush=True)
                            by_name: dict[str, int] = {}
                            for piece in slices[target]:
                                for name, n in piece.syscalls_by_name.items():
                                    by_name[name] = by_name.get(name, 0) + n
                            if by_name:
                                views = max(1, row.requests)
                                top = sorted(by_name.items(), key=lambda item: -item[1])[:14]
                                print(
                                    f"  {target} system calls per view: "
                                    + ", ".join(f"{name} {n / views:.1f}" for name, n in top),
                                    flush=True,
                                )
        meta = {"server_command": command, "ace_version": _ace_version(), "node": _node_version(), "size": args.size}
    return rows, meta


def _ace_version() -> str:
    package = rig.ACE_DIR / "node_modules" / "atlassian-connect-express" / "package.json"
    return json.loads(package.read_text())["version"]


def _node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def _peer(row: Row, rows: list[Row]) -> Row | None:
    return next(
        (r for r in rows if r.target == "ace" and r.cache == row.cache and r.connections == row.connections), None
    )


def _line(row: Row, rows: list[Row]) -> str:
    peer = _peer(row, rows)
    rps_ratio = f"{row.rps / peer.rps:.2f}×" if peer and row.target != "ace" else "—"
    p99_ratio = f"{row.p99_ms / peer.p99_ms:.2f}×" if peer and row.target != "ace" else "—"
    by_round = row.round_ratios(peer) if peer and row.target != "ace" else []
    round_range = f"{min(by_round):.2f}–{max(by_round):.2f}×" if by_round else "—"
    wrapped = " (wrapped: some repeats)" if row.titles and row.requests > row.titles else ""
    reads = f"{row.consonance_reads / max(1, row.requests):.2f}" if row.consonance_reads is not None else "—"
    answered = "—" if row.connections_answered is None else f"{row.connections_answered:.1f}"
    if row.left_connections_waiting:
        answered += " ⚠"
    return (
        f"| {row.target} | {row.cache}{wrapped} | {row.connections} | {row.requests:,} | {row.rps:,.0f} | "
        f"{row.p50_ms:.2f} | {row.p99_ms:.2f} | {row.errors} | {rps_ratio} | {round_range} | {p99_ratio} | "
        f"{row.body_bytes:,} | "
        f"{reads} | {answered} | {_cpu(row.server_cpu_ms)} | {_cpu(row.consonance_cpu_ms)} |"
        + ("" if row.server_syscalls is None else f" {row.server_syscalls:.1f} |")
    )


def _cpu(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:.2f}"


def header(syscalls: bool = False) -> str:
    columns = (
        "| target | cache | connections | requests | req/s | p50 (ms) | p99 (ms) | errors | req/s ÷ ACE "
        "| req/s ÷ ACE by round (lowest–highest) | p99 ÷ ACE "
        "| response bytes | Consonance reads per view | connections answered (req/s × mean) "
        "| server CPU per view (ms) | sandbox CPU per view (ms) |"
    )
    alignment = "|---|---|" + "---:|" * 14
    if syscalls:
        columns, alignment = columns + " server system calls per view |", alignment + "---:|"
    return columns + "\n" + alignment


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"`nproc` {os.cpu_count()}, {int(mem) / 2**20:.1f} GiB memory, {cpu}; load average when recorded "
        f"{' '.join(load)} (other work shares these cores: compare rows of one run, not runs)"
    )


def record(rows: list[Row], meta: dict, command: str, args) -> None:
    lines = [
        "",
        f"## Macro views through the production server vs atlassian-connect-express ({dt.date.today().isoformat()})",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}; Python {platform.python_version()}, node {meta['node']}.  ",
        f"Our server: `{meta['server_command']}` (Procfile `web:`), PostgreSQL + Redis, JOB_BACKEND=rq.  ",
        f"Peer: atlassian-connect-express {meta['ace_version']} (bench/ace_peer/server.js), node `cluster` on "
        f"{os.cpu_count()} workers, in-process store, `addon.authenticate(true)` on the same route and query.  ",
        f"Load: `wrk -t1` with bench/wrk/*.lua, {args.duration}s per cached row after {args.warmup}s warm-up, "
        f"{args.uncached_duration}s per uncached row over {args.titles_per_run} titles never viewed before; each row "
        f"is {args.rounds} slices taking turns with the other targets' (each round starting with the next target), "
        "so the machine's drift falls on all of them, its p50/p99 merged from the slices' latency distributions "
        "by their views, and its ratio also given round by round (ours ÷ the peer's slice of the same round; "
        "lowest–highest) "
        f"(Consonance sandbox, {meta['size']} works, in its own process, connections kept open as a hosted API "
        "keeps them). Errors = non-2xx + socket errors. "
        f"Our sites' Consonance budget: {args.budget_per_minute} requests a minute (raised: the peer has none), "
        "8 at once (the default). Consonance reads per view: the sandbox's own count of title reads during the "
        "run over the run's requests (a first view reads once; a view answered without reading shows below 1). "
        "CPU per view: user + system CPU of the measured server's processes (those holding its listening socket "
        "and their children) and of the sandbox's, from /proc, over the run's requests."
        + (
            " System calls counted with `perf stat` on the servers (`--syscalls`): tracing slows each call, and ours "
            "make more, so this run's ratios are not comparable with those of runs without it."
            if args.syscalls
            else ""
        ),
        "",
        header(args.syscalls),
    ]
    lines += [_line(row, rows) for row in rows]
    with RESULTS.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per cached run")
    parser.add_argument(
        "--uncached-duration",
        type=int,
        default=30,
        help="seconds per uncached row (its slices long enough that the ~1 s views at 50 connections in flight "
        "when a slice ends are few)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before each cached run (0: none)")
    parser.add_argument("--caches", type=lambda s: s.split(","), default=["cached", "uncached"])
    parser.add_argument("--connections", type=lambda s: [int(c) for c in s.split(",")], default=[1, 50])
    parser.add_argument(
        "--size", type=int, help="works in the Consonance sandbox (default: as many as the uncached rows view)"
    )
    parser.add_argument(
        "--titles-per-run",
        type=int,
        default=6000,
        help="distinct titles per uncached row (each slice may view a third of them: 200 a second for 10 s)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="slices each row's time is cut into, taking turns with the other targets"
    )
    parser.add_argument("--server-command", help="serve the app with this instead of the Procfile's web: line")
    parser.add_argument(
        "--budget-per-minute", type=int, default=60000, help="each site's Consonance requests a minute (our app)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    parser.add_argument(
        "--syscalls",
        action="store_true",
        help="count the servers' system calls per view (perf stat; tracing slows them: ratios not comparable)",
    )
    args = parser.parse_args(argv)
    if args.size is None:  # every uncached row's titles are works no run viewed before, after the cached one
        uncached_rows = len(args.connections) * 3 if "uncached" in args.caches else 0
        args.size = max(1000, CACHED_TITLE + 1 + uncached_rows * args.titles_per_run)
    if args.syscalls and shutil.which("perf") is None:
        parser.error("--syscalls counts with perf, which is not installed (Debian: apt-get install linux-perf)")
    print(header(args.syscalls), flush=True)
    rows, meta = benchmark(args)
    if not args.no_record:
        record(
            rows, meta, rig.shell_join([".venv/bin/python", "-m", "bench.macro_views", *(argv or sys.argv[1:])]), args
        )


if __name__ == "__main__":
    main()
