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
import sys
import time
from pathlib import Path

from load.harness import ROOT, procfile_commands
from tests.web.server_process import serving

CONNECTIONS_HELD_OPEN = 100


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
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEB_")}  # the Procfile's defaults
    environment["PATH"] = f"{Path(sys.executable).parent}:{environment.get('PATH', '')}"
    command = "exec " + web.replace("addon.wsgi:app", "tests.web.plain_app:app")
    held: list[socket.socket] = []
    with serving(lambda port: ["env", f"PORT={port}", "bash", "-c", command], env=environment) as port:
        try:
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
        finally:
            for connection in held:
                connection.close()
    assert not unanswered, f"{len(unanswered)} of {CONNECTIONS_HELD_OPEN} open connections got no answer"
