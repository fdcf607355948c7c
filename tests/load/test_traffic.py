"""The load run names each failed view: wrk's script (load/wrk/viewers.lua) prints every view that was not a
200 with the panel with its status, macro, title and request id, and the report finds the app's log lines
for that request id. Driven with the real wrk against a small HTTP server that refuses one macro."""

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from load import traffic
from load.invariants import figures_table
from load.run_load import failed_views

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make wrk)")


class Answers(BaseHTTPRequestHandler):
    """rights-link views are refused as the app refuses an unverifiable token; every other view is a panel."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/rights-link"):
            status, body = 401, {"error": "jwks_unavailable", "message": "Forge signing keys could not be fetched."}
        else:
            status, body = 200, {"kind": "panel", "html": "<p>ok</p>"}
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", self.headers.get("x-b3-traceid") or "")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_each_failed_view_is_named_with_its_status_macro_title_and_cause(server, tmp_path):
    tokens = tmp_path / "views.txt"
    tokens.write_text("title-status\tfit-a\tsys\tuser\t7\nrights-link\tfit-b\tsys\tuser\t8\n")
    run = traffic.run_viewers(
        SimpleNamespace(app_url=server), tokens, 1, viewers=2, seconds=2, hot_share=0.5, think_ms=40
    )

    assert run.requests > 4 and run.bad_views > 0 and run.non_2xx == run.bad_views
    assert len(run.failures) == min(run.bad_views, 100 * 2)
    assert {(f.status, f.macro, f.title) for f in run.failures} == {(401, "rights-link", "8")}
    assert len({f.request_id for f in run.failures}) == len(run.failures)  # each names its own request
    assert run.failures[0].cause == "jwks_unavailable: Forge signing keys could not be fetched."

    # The app's log line for one of those requests becomes its cause.
    named = run.failures[0].request_id
    log = tmp_path / "web.log"
    log.write_text(
        "granian starting\n"
        + json.dumps(
            {
                "level": "ERROR",
                "logger": "addon",
                "message": "Exception on /forge/macro",
                "request_id": named,
                "exc": "Traceback...\nredis.exceptions.TimeoutError: Timeout reading from socket",
            }
        )
        + "\n"
    )
    explained = traffic.explain(run.failures, [log, tmp_path / "missing.log"])
    first = next(f for f in explained if f.request_id == named)
    assert (
        first.cause
        == "ERROR addon: Exception on /forge/macro (redis.exceptions.TimeoutError: Timeout reading from socket)"
    )
    assert all(f.cause.startswith("jwks_unavailable") for f in explained if f.request_id != named)

    summary = failed_views(traffic.ViewRun(**{**run.__dict__, "failures": explained}))
    assert summary.startswith("401 rights-link title 8 (request ")
    assert "\n" not in figures_table([("normal: failed views", summary)]).split("\n", 2)[2]


def test_a_clean_run_names_no_failures(server, tmp_path):
    tokens = tmp_path / "views.txt"
    tokens.write_text("title-status\tfit-a\tsys\tuser\t7\n")
    run = traffic.run_viewers(SimpleNamespace(app_url=server), tokens, 1, viewers=2, seconds=1, think_ms=40)
    assert run.requests > 2 and run.errors == 0 and run.failures == []
    assert failed_views(run) == "none"


class AnswersTwoConnections(Answers):
    """Serves the first two connections it accepts; any later one is held open and never answered, as granian
    does with connections beyond its --backpressure."""

    accepted = 0
    lock = threading.Lock()
    released = threading.Event()

    def handle(self):
        if not self.rfile.peek(1):
            return  # wrk's first connection only checks the address
        with self.lock:
            type(self).accepted += 1
            number = type(self).accepted
        if number > 2:
            self.released.wait(30)
            return
        super().handle()


def test_viewers_left_waiting_show_in_the_viewers_answered(tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), AnswersTwoConnections)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    tokens = tmp_path / "views.txt"
    tokens.write_text("title-status\tfit-a\tsys\tuser\t7\n")
    try:
        run = traffic.run_viewers(
            SimpleNamespace(app_url=f"http://127.0.0.1:{httpd.server_address[1]}"),
            tokens,
            1,
            viewers=6,
            seconds=2,
            think_ms=40,
        )
    finally:
        AnswersTwoConnections.released.set()
        httpd.shutdown()
        httpd.server_close()
    assert run.errors == 0  # wrk itself reports nothing wrong
    assert 1.5 < run.viewers_answered(40) < 2.5


def test_every_viewer_answered_counts_them_all(server, tmp_path):
    tokens = tmp_path / "views.txt"
    tokens.write_text("title-status\tfit-a\tsys\tuser\t7\n")
    run = traffic.run_viewers(SimpleNamespace(app_url=server), tokens, 1, viewers=4, seconds=2, think_ms=40)
    assert 3.5 < run.viewers_answered(40) <= 4.5
