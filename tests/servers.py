"""Serving a WSGI app (ours or a stand-in) on a real threaded server on an ephemeral port, for tests
that go over HTTP: concurrency, page events delivered back to the app, browsers."""

from __future__ import annotations

import contextlib
import threading

from werkzeug.serving import make_server


@contextlib.contextmanager
def serving(app):
    """Yield the base URL (`http://127.0.0.1:<port>`) while the app answers; stop it afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
