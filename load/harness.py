"""Process orchestration for `make load` and `make chaos`: a scratch PostgreSQL database, a Redis server of
our own, both sandboxes, and the app as production runs it (the Procfile's release, web, worker and
scheduler lines, read at run time), installed into the emulator with Forge and connected to Consonance.

Everything listens on 127.0.0.1; every process is ours and is stopped (by its own id) on exit.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SERVER = os.environ.get("LOAD_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FORGE_APP_ID = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-00000000a11d"
CONSONANCE_API_KEY = "sandbox-api-key"
SPACE_KEY = "PUB"
VIEWER = "557058:load-viewer"
SANDBOX_HOSTS = "127.0.0.1"  # the Consonance sandbox listens on loopback over http: the operator allows it
log = logging.getLogger("load.harness")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, seconds: float, what: str, interval: float = 0.25):
    """Poll `predicate` until it returns something truthy (returned) or `seconds` pass (TimeoutError)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - the thing waited for may not answer yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {seconds:.0f}s")
        time.sleep(interval)


def procfile_commands(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """The Procfile's process lines by name (read at run time: the server command may change)."""
    commands = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


def machine() -> dict:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    mem_kib = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1), "cpu": cpu}


@dataclass
class Process:
    name: str
    command: str
    popen: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def group_pids(self) -> list[int]:
        """This process and every process in its session (an RQ worker and its work horse)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getsid(int(entry.name)) == self.popen.pid:
                        pids.append(int(entry.name))
                except (ProcessLookupError, PermissionError):
                    continue
        return pids or [self.popen.pid]

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, seconds: float = 15) -> None:
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(seconds)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(signal.SIGKILL)
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass


@dataclass
class StackOptions:
    size: int = 500
    web_workers: int = 3
    web_threads: int = 8
    rq_workers: int = 3
    app_env: dict = field(default_factory=dict)  # extra app settings (outbox lease, backoff, ...)
    settings: dict = field(default_factory=dict)  # tenant settings beyond the connection
    mode: str = "forge"  # how the app is installed in the emulator: "forge" or "connect"


class Stack:
    """The whole rig. Use as a context manager; `app()` is a local app on the same database and Redis."""

    def __init__(self, options: StackOptions):
        self.options = options
        self.run_dir = Path(tempfile.mkdtemp(prefix="c4c-load-"))
        self.processes: dict[str, Process] = {}
        self.procfile = procfile_commands()
        self.database_name = f"c4c_load_{os.getpid()}"
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.consonance_url = f"http://127.0.0.1:{free_port()}"
        self.emulator_url = f"http://127.0.0.1:{free_port()}"
        self.app_port = free_port()
        self.app_url = f"http://127.0.0.1:{self.app_port}"
        self.database_url = (
            POSTGRES_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + "/"
            + self.database_name
        )
        self.secret_key, self.encryption_key = uuid.uuid4().hex * 2, Fernet.generate_key().decode()
        self.metrics_dir = self.run_dir / "prometheus"
        self.metrics_dir.mkdir()
        self.tenant_id: int | None = None
        self.system_token: str | None = None
        self.api_base_url: str | None = None
        self._app = None
        self._worker_serial = 0

    # --- lifecycle ---------------------------------------------------------------------------
    def __enter__(self):
        try:
            self._create_database()
            self.start_redis()
            self._start(
                "consonance",
                f"{sys.executable} -m load.servers consonance --port "
                f"{self.consonance_url.rsplit(':', 1)[1]} --size {self.options.size}",
            )
            self._start(
                "confluence",
                f"{sys.executable} -m load.servers confluence --port "
                f"{self.emulator_url.rsplit(':', 1)[1]} --forge-app-id {FORGE_APP_ID}",
            )
            wait_until(
                lambda: requests.get(self.consonance_url + "/_sandbox/state", timeout=2).ok, 120, "Consonance sandbox"
            )
            wait_until(lambda: requests.get(self.emulator_url + "/_emulator/state", timeout=2).ok, 60, "emulator")
            release = subprocess.run(
                ["bash", "-c", "exec " + self.procfile["release"]],
                cwd=ROOT,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=300,
            )
            if release.returncode:
                raise RuntimeError(f"release (db upgrade) failed: {release.stderr[-2000:]}")
            self._start("web", self.procfile["web"])
            wait_until(lambda: requests.get(self.app_url + "/healthz", timeout=2).ok, 60, "web")
            for _ in range(self.options.rq_workers):
                self.start_worker()
            self._start("scheduler", self.procfile["scheduler"])
            self._install()
            return self
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def __exit__(self, *exc):
        if self._app is not None:  # our local app stops listening before its Redis goes (no "lost Redis" line)
            from addon.platform import invalidation

            found = self._app.extensions.get(invalidation.EXTENSION_KEY)
            if found is not None:
                found.stop()
        for name in list(self.processes)[::-1]:
            self.processes[name].stop()
        self.stop_redis()
        if self._app is not None:
            from addon.extensions import db

            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()
        self._drop_database()
        shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def env(self) -> dict:
        """The environment every app process gets (production settings, pointed at our sandboxes)."""
        return {
            **os.environ,
            "PORT": str(self.app_port),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "BASE_URL": self.app_url,
            "FORGE_APP_ID": FORGE_APP_ID,
            "FORGE_JWKS_URL": self.emulator_url + "/.well-known/jwks.json",
            "CONNECT_INSTALL_KEYS_URL": self.emulator_url + "/install-keys",
            "SECRET_KEY": self.secret_key,
            "ENCRYPTION_KEYS": self.encryption_key,
            "JOB_BACKEND": "rq",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": str(self.options.web_workers),
            "WEB_THREADS": str(self.options.web_threads),
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            "SCHEDULER_INTERVAL_SECONDS": "2",
            "CONSONANCE_ALLOWED_HOSTS": SANDBOX_HOSTS,
            # one synthetic person sends writes at machine speed here; the per-person limits are tested elsewhere
            "DECISIONS_PER_MINUTE": "0",
            "REFRESHES_PER_MINUTE": "0",
            "PYTHONPATH": str(ROOT),
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
            **{k: str(v) for k, v in self.options.app_env.items()},
        }

    def _start(self, name: str, command: str) -> Process:
        log_path = self.run_dir / f"{name}.log"
        popen = subprocess.Popen(
            ["bash", "-c", "exec " + command],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=open(log_path, "ab"),
            start_new_session=True,
        )
        process = Process(name, command, popen, log_path)
        self.processes[name] = process
        return process

    def _create_database(self) -> None:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database_name}"')

    def _drop_database(self) -> None:
        try:
            with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
        except psycopg.Error:
            log.warning("could not drop %s", self.database_name, exc_info=True)

    # --- Redis of our own ----------------------------------------------------------------------
    def start_redis(self) -> None:
        self._start(
            "redis",
            f"redis-server --bind 127.0.0.1 --port {self.redis_port} --save '' --appendonly no --dir {self.run_dir}",
        )
        wait_until(lambda: self._redis_ping(), 20, "redis")

    def _redis_ping(self) -> bool:
        import redis

        return redis.Redis.from_url(self.redis_url, socket_timeout=1).ping()

    def stop_redis(self) -> None:
        process = self.processes.pop("redis", None)
        if process is not None:
            process.stop()

    def restart_redis(self, down_seconds: float = 2.0) -> None:
        """Our own redis-server only (never the shared one): SIGTERM, a pause, start again on the same port."""
        self.stop_redis()
        time.sleep(down_seconds)
        self.start_redis()

    # --- workers -------------------------------------------------------------------------------
    def start_worker(self) -> Process:
        self._worker_serial += 1
        return self._start(f"worker-{self._worker_serial}", self.procfile["worker"])

    def workers(self) -> list[Process]:
        return [p for name, p in self.processes.items() if name.startswith("worker-")]

    def kill_workers(self) -> int:
        """SIGKILL every worker and its work horse (as the OOM killer or a lost machine would); returns pids killed."""
        killed = 0
        for process in self.workers():
            for pid in process.group_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            process.popen.wait(10)
            del self.processes[process.name]
        return killed

    def replace_dead_workers(self) -> int:
        """What a process supervisor does: start a new worker for each one that exited."""
        dead = [p for p in self.workers() if not p.alive()]
        for process in dead:
            del self.processes[process.name]
            self.start_worker()
        return len(dead)

    # --- the install and the tenant --------------------------------------------------------------
    def app(self):
        """A local app on the same database and Redis (for setup, job submission and reading records)."""
        if self._app is None:
            from addon import create_app

            self._app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": self.database_url,
                    "REDIS_URL": self.redis_url,
                    "SECRET_KEY": self.secret_key,
                    "ENCRYPTION_KEYS": self.encryption_key,
                    "JOB_BACKEND": "rq",
                    "FORGE_APP_ID": FORGE_APP_ID,
                    "BASE_URL": self.app_url,
                    "LOG_LEVEL": "WARNING",
                    "CONSONANCE_ALLOWED_HOSTS": SANDBOX_HOSTS,
                }
            )
        return self._app

    def _install(self) -> None:
        from addon.extensions import db
        from addon.platform import tenants
        from addon.platform.models import Tenant
        from addon.settings.service import update_settings

        mode = self.options.mode
        answer = requests.post(
            self.emulator_url + "/_emulator/install", json={"mode": mode, "app_url": self.app_url}, timeout=60
        )
        answer.raise_for_status()
        requests.post(self.emulator_url + "/_emulator/seed", json={"work_id": "1"}, timeout=30).raise_for_status()
        with self.app().app_context():
            tenant = wait_until(
                lambda: db.session.query(Tenant).filter_by(transport=mode).one_or_none(),
                30,
                f"the {mode} install reaching the app",
            )
            tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, CONSONANCE_API_KEY)
            db.session.commit()
            update_settings(
                tenant,
                {"consonance_host": self.consonance_url, "page_set_space_key": SPACE_KEY, **self.options.settings},
                actor="load-harness",
            )
            db.session.commit()
            self.tenant_id, self.api_base_url = tenant.id, tenant.api_base_url
            self.system_token = tenants.get_secret(tenant, tenants.FORGE_SYSTEM_TOKEN)
            db.session.remove()
        if not self.system_token and mode == tenants.FORGE:
            self.system_token = self.mint("title-status", "1")["headers"]["x-forge-oauth-system"]

    def mint(
        self, macro_key: str, work_id: str, *, lifetime: int = 900, content_id: str = "10001", principal: str = VIEWER
    ) -> dict:
        """A FIT (and Forge's headers) from the emulator, for a viewer of `macro_key` showing `work_id`."""
        answer = requests.post(
            self.emulator_url + "/_emulator/fit",
            timeout=30,
            json={
                "module_key": macro_key,
                "principal": principal,
                "content_id": content_id,
                "space_key": SPACE_KEY,
                "config": {"title": str(work_id)},
                "lifetime": lifetime,
            },
        )
        answer.raise_for_status()
        return answer.json()

    # --- the outside systems' own records --------------------------------------------------------
    def sandbox(self, method: str, path: str, body=None) -> dict | list:
        answer = requests.request(method, f"{self.consonance_url}/_sandbox{path}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json() if answer.content else {}

    def emulator(self, method: str, path: str, body=None):
        answer = requests.request(method, f"{self.emulator_url}/_emulator{path}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json() if answer.content else {}

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        answer = requests.post(
            self.consonance_url + "/graphql",
            timeout=60,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {CONSONANCE_API_KEY}"},
        )
        answer.raise_for_status()
        return answer.json()["data"]

    def confluence(self):
        """A Confluence REST client acting as the app's own user (for reading the emulator's pages)."""
        from addon.confluence.auth import ForgeAuth
        from addon.confluence.client import ConfluenceClient

        return ConfluenceClient(ForgeAuth(self.api_base_url, self.system_token))

    # --- jobs ----------------------------------------------------------------------------------
    def run_scheduled(self, kind: str) -> str:
        """Queue one run of a tenant's scheduled work now (as a tick would), on the real queue."""
        from addon.jobs.runner import submit
        from addon.jobs.schedule import RUN_SCHEDULED

        with self.app().app_context():
            return submit(
                RUN_SCHEDULED,
                args=(kind, self.tenant_id),
                tenant_id=self.tenant_id,
                kind=kind,
                dedupe_key=f"{kind}:{self.tenant_id}:load-{uuid.uuid4().hex[:8]}",
            )

    def submit(self, func_path: str, kind: str) -> str:
        """Queue `func_path(tenant_id)` on the real queue, recorded as a job run of `kind`."""
        from addon.jobs.runner import submit

        with self.app().app_context():
            return submit(
                func_path,
                args=(self.tenant_id,),
                tenant_id=self.tenant_id,
                kind=kind,
                dedupe_key=f"{kind}:{self.tenant_id}:load-{uuid.uuid4().hex[:8]}",
            )

    def job_runs(self, kind: str) -> list[dict]:
        from addon.extensions import db
        from addon.jobs.models import JobRun

        with self.app().app_context():
            rows = [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "outcome": r.outcome,
                    "counts": r.counts,
                    "error": r.error,
                    "started": r.started_at,
                    "finished": r.finished_at,
                }
                for r in db.session.query(JobRun).filter_by(tenant_id=self.tenant_id, kind=kind).order_by(JobRun.id)
            ]
            db.session.remove()
            return rows

    def wait_job(self, kind: str, after_id: int, seconds: float) -> dict:
        """The first finished run of `kind` with id > after_id."""
        return wait_until(
            lambda: next((r for r in self.job_runs(kind) if r["id"] > after_id and r["finished"]), None),
            seconds,
            f"a {kind} run",
        )

    def wait_baseline_poll(self, seconds: float = 120) -> dict:
        """The first poll that compared the catalogue (it records the baseline later polls are judged by). The
        scheduler may start one before the install has connected Consonance; that one steps aside
        ({"skipped": 1}), and the next scheduled one may be a poll period away: ask for one now instead."""
        deadline, after = time.monotonic() + seconds, 0
        while True:
            run = self.wait_job("poll", after, max(1.0, deadline - time.monotonic()))
            if "baseline" in (run.get("counts") or {}):
                return run
            after = run["id"]
            wait_until(lambda: all(r["finished"] for r in self.job_runs("poll")), 60, "polls to finish")
            self.run_scheduled("poll")

    def last_run_id(self, kind: str) -> int:
        runs = self.job_runs(kind)
        return runs[-1]["id"] if runs else 0

    def outbox_depth(self) -> dict:
        from addon.extensions import db
        from addon.jobs import outbox

        with self.app().app_context():
            depth = dict(outbox.depth())
            db.session.remove()
            return depth

    def today(self) -> dt.date:
        return dt.datetime.now(dt.UTC).date()
