"""Run the sandbox in-process on an ephemeral port for tests: `with running_sandbox(SIZE=50) as sb: ...`.

The handle gives the URL and key a client needs, the live catalogue for assertions, and `control`,
a small client for the `/_sandbox/` endpoints.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import requests
from werkzeug.serving import make_server

from .server import EXTENSION, Sandbox, create_app


class SandboxControl:
    """Calls the `/_sandbox/` endpoints; each method returns the decoded JSON (None for 204)."""

    def __init__(self, url: str):
        self.url = url

    def _call(self, method: str, path: str, json=None, params=None):
        response = requests.request(method, f"{self.url}/_sandbox{path}", json=json, params=params, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self):
        return self._call("GET", "/state")

    def work(self, work_id: int):
        return self._call("GET", f"/works/{work_id}")

    def move_to_stage(self, work_id: int, stage: str):
        return self._call("POST", f"/works/{work_id}/stage", {"stage": stage})

    def acquire_title(self, title: str | None = None, imprint: str | None = None):
        return self._call("POST", "/works/acquire", {"title": title, "imprint": imprint})

    def slip_publication(self, work_id: int, days: int):
        return self._call("POST", f"/works/{work_id}/slip", {"days": days})

    def slip_delivery(self, delivery_id: int, days: int):
        return self._call("POST", f"/delivery-dates/{delivery_id}/slip", {"days": days})

    def complete_task(self, task_id: int):
        return self._call("POST", f"/tasks/{task_id}/complete")

    def reset(self, seed: int, size: int):
        return self._call("POST", "/reset", {"seed": seed, "size": size})

    def requests(self, limit: int | None = None):
        return self._call("GET", "/requests", params={"limit": limit} if limit else None)["requests"]

    def clear_requests(self):
        return self._call("DELETE", "/requests")

    def counters(self):
        return self._call("GET", "/counters")

    def add_fault(self, **spec):
        """camelCase fields: route, operation, latencyMs, errorCount, errorRate, errorStatus, rateLimitCount,
        retryAfter, hangCount, hangSeconds, seed."""
        return self._call("POST", "/faults", spec)

    def faults(self):
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self):
        return self._call("DELETE", "/faults")

    def set_profile(self, profile: str):
        return self._call("PUT", "/profile", {"profile": profile})


@dataclass
class RunningSandbox:
    url: str
    api_key: str
    app: object
    control: SandboxControl

    @property
    def sandbox(self) -> Sandbox:
        return self.app.extensions[EXTENSION]

    @property
    def state(self):
        """The live catalogue (replaced by reset, so always read through this property)."""
        return self.sandbox.catalogue

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"


@contextlib.contextmanager
def running_sandbox(**config):
    """Start the sandbox on 127.0.0.1:<ephemeral> in a thread; config keys as in server.DEFAULTS."""
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="consonance-sandbox", daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    keys = sorted(app.extensions[EXTENSION].api_keys)
    try:
        yield RunningSandbox(url, keys[0], app, SandboxControl(url))
    finally:
        app.extensions[EXTENSION].faults.clear()  # wakes any hanging request
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
