"""A WSGI server in a process of its own on a free port, for tests of what the production server does."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.e2e.embedded_stack import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def serving(command_for: Callable[[int], list[str]], *, env: dict | None = None) -> Iterator[int]:
    """Start `command_for(port)` and yield the port once it accepts connections; stopped on leaving."""
    port = free_port()
    server = subprocess.Popen(
        command_for(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, f"{command_for(port)[:3]} did not start"
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(10)
