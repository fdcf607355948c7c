"""Run the emulator in a thread on an ephemeral port, for tests and other sandboxes."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server

from .server import create_app


class RunningEmulator:
    """A live emulator: its URL, its store, and shortcuts to what the control API does."""

    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.emulator = app.extensions["confluence_emulator"]
        self.url = self.emulator.url

    @property
    def store(self):
        return self.emulator.store

    def mint_fit(self, module_key: str = "title-status", **options) -> str:
        return self.emulator.mint_fit(module_key, **options)

    def install_forge(self, app_url: str) -> dict:
        return self.emulator.install_forge(app_url)

    def install_connect(self, app_url: str) -> dict:
        return self.emulator.install_connect(app_url)

    def seed(self, work_id: str = "1") -> dict:
        from .seed import seed

        return seed(self.store, work_id)


@contextmanager
def running_emulator(host: str = "127.0.0.1", port: int = 0, **config):
    """Yield a `RunningEmulator` served by werkzeug in a daemon thread; stop it on exit."""
    app = create_app(config)
    server = make_server(host, port, app, threaded=True)
    app.extensions["confluence_emulator"].set_public_url(f"http://{host}:{server.server_port}")
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="confluence-emulator", daemon=True
    )
    thread.start()
    try:
        yield RunningEmulator(app, server)
    finally:
        app.extensions["confluence_emulator"].stop_scheduled_triggers()
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["confluence_emulator"].events.stop()
