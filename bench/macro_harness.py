"""The production-like rig for bench/macro_views.py: scratch PostgreSQL database, own Redis db,
key server standing in for Atlassian, the Consonance sandbox, our app under the Procfile's `web:`
command, and the atlassian-connect-express peer. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import jwt
import psycopg
import redis
import requests
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify
from werkzeug.serving import make_server

from addon.platform.qsh import query_string_hash

ROOT = Path(__file__).resolve().parents[1]
ACE_DIR = ROOT / "bench" / "ace_peer"
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")  # the tests use db 15
APP_KEY = "com.consonance.confluence"
FORGE_APP_ID = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-0000000b3c4d"
CONSONANCE_API_KEY = "sandbox-api-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_processes(url: str) -> list[int]:
    """The processes serving `url`: those holding the socket that listens on its port, and their children
    (granian's workers share the socket; node's cluster workers get connections from the primary that holds
    it). From /proc; empty where there is none."""
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    holders = []
    for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
        with contextlib.suppress(OSError):
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                holders.append(int(pid))
    return sorted(set(holders) | set(_descendants(set(holders))))


class SyscallCount:
    """System calls the processes make while it is open, by name (`perf stat` on the syscalls tracepoints),
    for `--syscalls` runs: on a VM each one costs microseconds, so how many a view makes matters."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.by_name: dict[str, int] = {}

    @property
    def count(self) -> int | None:
        return sum(self.by_name.values()) if self.by_name else None

    def __enter__(self) -> SyscallCount:
        self._perf = subprocess.Popen(
            ["perf", "stat", "-x,", "-e", "syscalls:sys_enter_*", "-p", ",".join(map(str, self.pids))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)  # perf attaches before the run starts
        return self

    def __exit__(self, *exc) -> None:
        self._perf.send_signal(2)  # SIGINT: perf prints its counts and stops
        for line in self._perf.communicate(timeout=60)[1].splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[2].startswith("syscalls:sys_enter_") and fields[0].isdigit():
                if int(fields[0]):
                    self.by_name[fields[2].removeprefix("syscalls:sys_enter_")] = int(fields[0])


def _descendants(parents: set[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as stat:
            children.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(int(pid))
    found, frontier = [], list(parents)
    while frontier:
        below = children.get(frontier.pop(), [])
        found += below
        frontier += below
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes have used so far (a process that has gone counts nothing)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60, method: str = "GET") -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            requests.request(method, url, timeout=1)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {seconds}s") from None
            time.sleep(0.2)


@contextlib.contextmanager
def scratch_database(prefix: str = "c4c_bench_macros"):
    """A PostgreSQL database of our own, dropped afterwards."""
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def own_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()


class KeyServer:
    """Atlassian's side: the signed-install public key at /install-keys/<kid> and Forge's JWKS."""

    def __init__(self):
        self.install_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.forge_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.install_kid, self.forge_kid = "bench-install-1", "bench-forge-1"

    def __enter__(self):
        app = Flask("bench-keys")

        @app.get("/install-keys/<kid>")
        def install_key(kid):
            if kid != self.install_kid:
                abort(404)
            return self.install_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )

        @app.get("/jwks.json")
        def jwks():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.forge_key.public_key(), as_dict=True)
            return jsonify(keys=[{**jwk, "kid": self.forge_kid, "use": "sig", "alg": "RS256"}])

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()

    def signed_install(self, method: str, path: str, client_key: str, audience: str) -> str:
        now = int(time.time())
        claims = {
            "iss": client_key,
            "aud": audience,
            "iat": now,
            "exp": now + 180,
            "qsh": query_string_hash(method, path, ""),
        }
        return jwt.encode(claims, self.install_key, algorithm="RS256", headers={"kid": self.install_kid})

    def fit(self, installation_id: str, *, site_url: str, title: str, lifetime: int, content_id: str = "1001") -> str:
        """A Forge Invocation Token for the title-status macro on a page, viewed by a user."""
        now = int(time.time())
        claims = {
            "app": {
                "id": FORGE_APP_ID,
                "installationId": installation_id,
                "apiBaseUrl": site_url + "/ex/confluence/cloud-b",
                "environment": {"type": "PRODUCTION", "id": "env-1"},
                "module": {"type": "xen:macro", "key": "title-status"},
            },
            "context": {
                "cloudId": "cloud-b",
                "localId": "local-1",
                "moduleKey": "title-status",
                "siteUrl": site_url,
                "extension": {
                    "type": "macro",
                    "content": {"id": content_id},
                    "space": {"key": "PUB"},
                    "config": {"title": title},
                },
            },
            "principal": "557058:bench-viewer",
            "iss": "forge/invocation-token",
            "aud": FORGE_APP_ID,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.forge_key, algorithm="RS256", headers={"kid": self.forge_kid})


def context_jwt(client_key: str, shared_secret: str, lifetime: int) -> str:
    """What Confluence puts in a macro iframe's `?jwt=`: HS256 over the shared secret, qsh `context-qsh`."""
    now = int(time.time())
    claims = {
        "iss": client_key,
        "sub": "557058:bench-viewer",
        "iat": now,
        "exp": now + lifetime,
        "qsh": "context-qsh",
        "context": {"user": {"accountId": "557058:bench-viewer"}},
    }
    return jwt.encode(claims, shared_secret, algorithm="HS256")


def procfile_web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line[len("web:") :].strip()
    raise RuntimeError("Procfile has no web: line")


def app_environment(
    *, port: int, database_url: str, redis_url: str, keys_url: str, secret_key: str, encryption_key: str
) -> dict:
    return {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "APP_KEY": APP_KEY,
        "FORGE_APP_ID": FORGE_APP_ID,
        "FORGE_JWKS_URL": keys_url + "/jwks.json",
        "CONNECT_INSTALL_KEYS_URL": keys_url + "/install-keys",
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEYS": encryption_key,
        "JOB_BACKEND": "rq",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "CONSONANCE_ALLOWED_HOSTS": "127.0.0.1",  # the Consonance sandbox on loopback over http
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    }


@contextlib.contextmanager
def app_server(environment: dict, command: str):
    """Our app under the production server command (the Procfile's `web:` line unless told otherwise)."""
    process = subprocess.Popen(
        ["bash", "-c", "exec " + command],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=open("/tmp/c4c_bench_app.log", "wb"),
    )
    try:
        wait_for(f"http://127.0.0.1:{environment['PORT']}/atlassian-connect.json", process)
        yield f"http://127.0.0.1:{environment['PORT']}"
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def install_ace() -> None:
    """ACE is installed here at bench time, never in the root package.json."""
    if not (ACE_DIR / "node_modules" / "atlassian-connect-express").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ACE_DIR, check=True)


@contextlib.contextmanager
def ace_peer(*, client_key: str, shared_secret: str, product_base_url: str, consonance_url: str, query_file: str):
    install_ace()
    port = free_port()
    environment = {
        **os.environ,
        "PORT": str(port),
        "NODE_ENV": "production",
        "AC_LOCAL_BASE_URL": f"http://127.0.0.1:{port}",
        "CLIENT_KEY": client_key,
        "SHARED_SECRET": shared_secret,
        "PRODUCT_BASE_URL": product_base_url,
        "CONSONANCE_URL": consonance_url,
        "CONSONANCE_API_KEY": CONSONANCE_API_KEY,
        "TITLE_QUERY_FILE": query_file,
        "AC_OPTS": "",
    }
    process = subprocess.Popen(
        [shutil.which("node") or "node", "server.js"],
        cwd=ACE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=open("/tmp/c4c_bench_ace.log", "wb"),
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/atlassian-connect.json", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(20)


def new_secrets() -> tuple[str, str]:
    return uuid.uuid4().hex * 2, Fernet.generate_key().decode()


def shell_join(args) -> str:
    return " ".join(shlex.quote(str(a)) for a in args)


def python() -> str:
    return sys.executable


def merged_percentile(distributions: list[tuple[int, list[tuple[float, float]]]], wanted: float) -> float:
    """The `wanted` percentile of several runs' latencies taken together. Each run is (its views, its latency
    percentiles as (percentile, value) pairs): a run stands for its views in the mixture, and a value counts as
    reached by a run at the highest percentile of it that does not exceed it (so the answer never understates)."""
    runs = [(views, sorted(points)) for views, points in distributions if views > 0 and points]
    total = sum(views for views, _ in runs)
    if not total:
        raise ValueError("no views to take a percentile of")
    for value in sorted({value for _, points in runs for _, value in points}):
        share = sum(views * max((p for p, v in points if v <= value), default=0.0) for views, points in runs)
        if share / total >= wanted - 1e-9:
            return value
    return max(value for _, points in runs for _, value in points)
