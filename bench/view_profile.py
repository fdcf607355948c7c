"""Where one macro view spends its time, per transport: the app built as the Procfile's web process builds it
(PostgreSQL, Redis, the macro lane), one title viewed once, then the same view repeated in this process (or,
with `--uncached`, first views of titles never viewed), straight into the WSGI app (no server: only our code
and the libraries it calls, and its round trips to Redis and the Consonance sandbox).

Prints, per transport, the Redis commands and database statements one cached view makes, and either a
cProfile table (`--profile`) or nothing else; run under valgrind's callgrind (`--callgrind`, which re-runs
this module under it) for instruction counts. Those counts are not to be trusted as they stand: the two runs
they subtract also differ in how long setup waited for the sandbox and the bus (polling loops that valgrind
slows unevenly), by millions of instructions either way (seen 2026-12-06: +1.9 M and -2.2 M per cached view).

    .venv/bin/python -m bench.view_profile [--views 2000] [--uncached] [--profile] [--callgrind]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from werkzeug.test import EnvironBuilder

from bench import macro_harness as rig
from bench.consonance_catalogue import sandbox_process

TITLE = 7
QUERY = "pageId=1001&pageVersion=3&spaceKey=PUB&macroId=m-1&outputType=display&title={title}"
FORGE_BODY = b'{"call":{"functionKey":"title-status","payload":{}},"context":{}}'


class RedisCommands:
    """Counts this process's round trips to Redis as its connections send them (a pipeline, or a write whose
    answer is read later, is one trip), and names what each trip carried."""

    def __init__(self):
        self.count = 0  # round trips
        self.names: dict[str, int] = {}

    @staticmethod
    def _commands(packed: bytes) -> list[list[bytes]]:
        """The commands in a packed send (RESP arrays of bulk strings)."""
        commands, at = [], 0
        while at < len(packed):
            end = packed.index(b"\r\n", at)
            count, at = int(packed[at + 1 : end]), end + 2
            command = []
            for _ in range(count):
                end = packed.index(b"\r\n", at)
                length, at = int(packed[at + 1 : end]), end + 2
                command.append(packed[at : at + length])
                at += length + 2
            commands.append(command)
        return commands

    @staticmethod
    def _name(command: list[bytes]) -> str:
        # the command and its key's family (the key up to its last ':'), so each round trip can be told apart
        name = command[0].decode()
        key_at = 3 if name.upper() in ("EVAL", "EVALSHA") else 1  # a script's first key follows its body and count
        key = command[key_at].decode(errors="replace") if len(command) > key_at else ""
        return f"{name} {key.rsplit(':', 1)[0]}" if ":" in key else name

    def wrap(self) -> None:
        import redis.connection

        send = redis.connection.AbstractConnection.send_packed_command

        def counted(connection, command, check_health=True):
            packed = command if isinstance(command, bytes) else b"".join(command)
            names = [self._name(c) for c in self._commands(packed)]
            self.count += 1
            label = " + ".join(names)
            self.names[label] = self.names.get(label, 0) + 1
            return send(connection, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counted


def _environ(base_url: str, method: str, path_and_query: str, headers: dict, body: bytes = b"") -> dict:
    split = urlsplit(path_and_query)
    return EnvironBuilder(
        path=split.path, query_string=split.query, method=method, headers=headers, data=body, base_url=base_url
    ).get_environ()


def _call(app, environ: dict) -> tuple[str, bytes]:
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].getvalue())
    found = {}

    def start_response(status, headers, exc_info=None):
        found["status"] = status

    answer = app(environ, start_response)
    try:
        body = b"".join(answer)
    finally:
        if hasattr(answer, "close"):  # as a server does: what a view leaves for after its answer runs here
            answer.close()
    return found["status"], body


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=2000, help="cached views measured per transport")
    parser.add_argument("--profile", action="store_true", help="print a cProfile table per transport")
    parser.add_argument("--transports", default="connect,forge")
    parser.add_argument("--uncached", action="store_true", help="first views: each view a title not viewed before")
    parser.add_argument("--callgrind", action="store_true", help="count instructions under valgrind's callgrind")
    args = parser.parse_args(argv)
    if args.callgrind:
        _under_callgrind(args)
        return

    from addon import create_app
    from addon.extensions import db

    secret_key, encryption_key = rig.new_secrets()
    with (
        rig.scratch_database("c4c_bench_profile") as database_url,
        rig.own_redis() as redis_url,
        rig.KeyServer() as keys,
        sandbox_process(max(200, 2 * args.views + 20) if args.uncached else 200, seed=42) as consonance_url,
    ):
        os.environ.update(
            rig.app_environment(
                port=8000,
                database_url=database_url,
                redis_url=redis_url,
                keys_url=keys.url,
                secret_key=secret_key,
                encryption_key=encryption_key,
            )
        )
        base = "http://127.0.0.1:8000"
        app = create_app()
        with app.app_context():
            db.create_all()
        client_key, shared_secret = "bench-client-key", os.urandom(32).hex()
        install = {
            "key": rig.APP_KEY,
            "clientKey": client_key,
            "sharedSecret": shared_secret,
            "baseUrl": "https://bench-site.atlassian.test/wiki",
            "displayUrl": "https://bench-site.atlassian.test/wiki",
            "productType": "confluence",
            "eventType": "installed",
            "accountId": "557058:bench-admin",
        }
        test_client = app.test_client()
        signed = keys.signed_install("POST", "/connect/installed", client_key, base)
        assert (
            test_client.post("/connect/installed", json=install, headers={"Authorization": "JWT " + signed}).status_code
            == 200
        )
        forge_installation, site = (
            "ari:cloud:ecosystem::installation/bench-forge-1",
            "https://bench-site.atlassian.test",
        )
        fit = keys.fit(forge_installation, site_url=site, title=str(TITLE), lifetime=3600)
        forge_headers = {
            "Authorization": "Bearer " + fit,
            "Content-Type": "application/json",
            "x-forge-oauth-system": "bench-system-token",
            "x-forge-oauth-user": "bench-user-token",
        }
        assert test_client.post("/forge/macro/title-status", data=b"{}", headers=forge_headers).status_code == 200
        from bench.macro_views import _connect_tenants_to_consonance

        _connect_tenants_to_consonance(app, consonance_url)
        requests.Session().close()
        context = rig.context_jwt(client_key, shared_secret, 3600)

        def view(transport: str, title: int) -> dict:
            if transport == "connect":
                path = "/connect/macro/title-status?" + QUERY.format(title=title) + "&jwt=" + context
                return _environ(base, "GET", path, {})
            token = (
                fit if title == TITLE else keys.fit(forge_installation, site_url=site, title=str(title), lifetime=3600)
            )
            return _environ(
                base,
                "POST",
                "/forge/macro/title-status",
                {**forge_headers, "Authorization": "Bearer " + token},
                FORGE_BODY,
            )

        views = {transport: view(transport, TITLE) for transport in ("connect", "forge")}
        next_title = TITLE + 1
        redis_commands = RedisCommands()
        redis_commands.wrap()
        statements = []
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2]))
        for transport in args.transports.split(","):
            environ = views[transport]
            for _ in range(3):  # first view (through the route), then the lane's
                status, body = _call(app, environ)
                assert status.startswith("200"), (status, body[:500])
            redis_before, statements_before = redis_commands.count, len(statements)
            status, body = _call(app, environ)
            assert status.startswith("200") and b"c4c-panel--title-status" in body, body[:300]
            print(
                f"{transport}: one cached view: {redis_commands.count - redis_before} Redis round trips, "
                f"{len(statements) - statements_before} database statements, {len(body):,} bytes"
            )
            if args.uncached:
                environs = [view(transport, n) for n in range(next_title, next_title + args.views)]
                next_title += args.views
            else:
                environs = [environ] * args.views
            what = "first" if args.uncached else "cached"
            redis_before, statements_before = redis_commands.count, len(statements)
            profiler = cProfile.Profile() if args.profile else None
            started, cpu_started, thread_started = time.perf_counter(), time.process_time(), time.thread_time()
            if profiler:
                profiler.enable()
            for one in environs:
                status, _ = _call(app, one)
                assert status.startswith("200"), status
            if profiler:
                profiler.disable()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            own_cpu = time.thread_time() - thread_started
            print(
                f"{transport}: {args.views} {what} views in {elapsed:.3f}s: {elapsed / max(1, args.views) * 1e6:.0f} µs "
                f"each, {cpu / max(1, args.views) * 1e6:.0f} µs of this process's CPU "
                f"({own_cpu / max(1, args.views) * 1e6:.0f} µs in the viewing thread); "
                f"Redis round trips {(redis_commands.count - redis_before) / max(1, args.views):.1f} and "
                f"statements {(len(statements) - statements_before) / max(1, args.views):.1f} per view"
            )
            print(f"{transport}: Redis round trips by what they sent, all views so far: {redis_commands.names}")
            if profiler:
                stream = io.StringIO()
                pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(35)
                print(stream.getvalue())
                stream = io.StringIO()
                pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(45)
                print(stream.getvalue())


def _under_callgrind(args) -> None:
    """Instructions per cached view: the run with `--views N` minus the run with no measured views, over N."""
    totals = {}
    for transport in args.transports.split(","):
        for views in (0, args.views):
            with tempfile.TemporaryDirectory() as scratch:
                out = os.path.join(scratch, "callgrind.out")
                command = [
                    "valgrind",
                    "--tool=callgrind",
                    f"--callgrind-out-file={out}",
                    sys.executable,
                    "-m",
                    "bench.view_profile",
                    "--views",
                    str(views),
                    "--transports",
                    transport,
                ]
                done = subprocess.run(command, capture_output=True, text=True, cwd=rig.ROOT)
                summary = [line for line in done.stderr.splitlines() if "Collected" in line]
                if done.returncode != 0 or not summary:
                    raise RuntimeError(done.stderr[-3000:])
                totals[(transport, views)] = int(summary[-1].split(":")[-1].strip().replace(",", ""))
        per_view = (totals[(transport, args.views)] - totals[(transport, 0)]) / args.views
        print(f"{transport}: {per_view:,.0f} instructions per cached view (callgrind, {args.views} views)")


if __name__ == "__main__":
    main()
