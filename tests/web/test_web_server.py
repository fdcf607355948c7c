"""The Procfile's `web:` line as deployed: what its server settings promise the clients in front of it.

Confluence's edge, a load balancer or a proxy keeps connections open between requests (HTTP/1.1 keep-alive) and
sends on whichever it holds. granian's `--backpressure` caps the connections a worker accepts, not the requests it
works on at once: a connection beyond the cap is not served at all, however idle the others are, until one of
them closes. With 16 a worker (the Procfile's value until 6 December) a client holding 50 connections had 18 of
them wait the whole of every benchmark run; wrk records nothing for a request never answered, so the figures
looked better for it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from load.harness import ROOT, procfile_commands

CONNECTIONS_HELD_OPEN = 100


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answered(connection: socket.socket) -> bool:
    received = b""
    while b"\r\n\r\n" not in received or not received.endswith(b"served"):
        chunk = connection.recv(4096)
        if not chunk:
            return False
        received += chunk
    return received.startswith(b"HTTP/1.1 200")


def test_every_connection_a_client_holds_open_is_served():
    web = procfile_commands(ROOT / "Procfile")["web"]
    assert web.count("addon.wsgi:app") == 1
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEB_")}  # the Procfile's defaults
    environment.update(PORT=str(port), PATH=f"{Path(sys.executable).parent}:{environment.get('PATH', '')}")
    server = subprocess.Popen(
        ["bash", "-c", "exec " + web.replace("addon.wsgi:app", "tests.web.plain_app:app")],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the web server did not start"
                time.sleep(0.1)
        for _ in range(CONNECTIONS_HELD_OPEN):
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
            held.append(connection)
        unanswered = []
        answers_due = time.monotonic() + 10
        for number, connection in enumerate(held):
            connection.settimeout(max(0.01, answers_due - time.monotonic()))
            try:
                if not _answered(connection):
                    unanswered.append(number)
            except TimeoutError:
                unanswered.append(number)
        assert not unanswered, f"{len(unanswered)} of {CONNECTIONS_HELD_OPEN} open connections got no answer"
    finally:
        for connection in held:
            connection.close()
        server.terminate()
        server.wait(10)
