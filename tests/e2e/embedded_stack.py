"""`make run` itself, as a person starts it: `python -m sandbox.embedded` (the app under gunicorn with its own
clock, both sandboxes, the demo site set up) in a process group of its own on free ports, with a scratch
SQLite database; stopped with SIGTERM (what Ctrl-C does) and then the whole group."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class EmbeddedStack:
    app_url: str
    consonance_url: str
    confluence_url: str
    open_url: str
    admin_url: str
    log_path: Path

    def acquire(self, title: str) -> dict:
        response = requests.post(f"{self.consonance_url}/_sandbox/works/acquire", json={"title": title}, timeout=10)
        response.raise_for_status()
        return response.json()

    def move(self, work_id, stage: str) -> dict:
        response = requests.post(
            f"{self.consonance_url}/_sandbox/works/{work_id}/stage", json={"stage": stage}, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def slip(self, work_id, days: int) -> dict:
        response = requests.post(
            f"{self.consonance_url}/_sandbox/works/{work_id}/slip", json={"days": days}, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def page_links(self) -> dict[str, str]:
        """Page title -> its address, from the emulator's index."""
        html = requests.get(f"{self.confluence_url}/", timeout=10).text
        return {
            title.replace("&amp;", "&").replace("&#39;", "'"): self.confluence_url + href
            for href, title in re.findall(r'<a href="(/wiki/spaces/[^"]+)">([^<]+)</a>', html)
        }

    @property
    def demo_titles(self) -> list[tuple[str, str, str]]:
        """(work id, stage, title) of each title the demo set-up gave pages, as printed at start."""
        return re.findall(r"demo title: work (\S+) at ([^:]+): (.+)", self.log_path.read_text())

    def work(self, work_id) -> dict:
        return requests.get(f"{self.consonance_url}/_sandbox/works/{work_id}", timeout=10).json()

    def page_titles(self) -> list[str]:
        """Every page the emulator's index lists, by title (what a person sees on the site's front page)."""
        return list(self.page_links())

    def wait_for(self, check, seconds: float, every: float = 0.5):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(every)
        return check()


@contextlib.contextmanager
def embedded_stack(install: str, tmp_path: Path, poll_seconds: int = 20):
    ports = {name: free_port() for name in ("app", "consonance", "confluence")}
    log_path = tmp_path / f"embedded-{install}.log"
    env = {
        **os.environ,
        "POLL_INTERVAL_SECONDS": str(poll_seconds),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'addon.db'}",
        "SECRET_KEY": "embedded-test-secret",
        "ENCRYPTION_KEYS": "ZmVybmV0LWtleS1mb3ItdGhlLWVtYmVkZGVkLXRlc3Q=",
        "REDIS_URL": "",
        "JOB_BACKEND": "inline",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("TEST_DATABASE_URL", "TEST_REDIS_URL", "INLINE_JOB_MODE", "BASE_URL"):
        env.pop(name, None)
    command = [sys.executable, "-m", "sandbox.embedded", "--install", install, "--port", str(ports["app"])]
    command += ["--consonance-port", str(ports["consonance"]), "--confluence-port", str(ports["confluence"])]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        found = None
        while time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"is running\. Open (\S+)\n.*the app's settings: (\S+)", log_path.read_text())
            if found:
                break
            time.sleep(0.5)
        assert found, f"`make run` did not come up:\n{log_path.read_text()[-4000:]}"
        yield EmbeddedStack(
            app_url=f"http://127.0.0.1:{ports['app']}",
            consonance_url=f"http://127.0.0.1:{ports['consonance']}",
            confluence_url=f"http://127.0.0.1:{ports['confluence']}",
            open_url=found.group(1),
            admin_url=found.group(2),
            log_path=log_path,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the runner stops its children, as on Ctrl-C
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything left of the group
