"""A tiny stand-in for the app, for emulator tests: records what the emulator sends to it and
answers like an app would (descriptor, lifecycle, events, a Custom UI page, macro remotes).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

CUSTOM_UI = "<!doctype html><html><head><title>ui</title></head><body><div id=root>custom ui</div></body></html>"
ADMIN_UI = "<!doctype html><html><head><title>admin</title></head><body><div id=root>admin ui</div></body></html>"


def create_app(state: dict) -> Flask:
    app = Flask(__name__)
    state.setdefault("received", [])
    state.setdefault("event_failures", 0)

    def record(name):
        state["received"].append(
            {
                "name": name,
                "path": request.full_path,
                "headers": dict(request.headers),
                "json": request.get_json(silent=True),
            }
        )

    @app.get("/atlassian-connect.json")
    def descriptor():
        return jsonify(
            {
                "key": "com.example.app",
                "baseUrl": state["base_url"],
                "apiVersion": 1,
                "authentication": {"type": "jwt"},
                "lifecycle": {
                    "installed": "/connect/installed",
                    "uninstalled": "/connect/uninstalled",
                    "enabled": "/connect/enabled",
                    "disabled": "/connect/disabled",
                },
                "modules": {
                    "dynamicContentMacros": [
                        {
                            "key": "title-status",
                            "url": "/connect/macro/title-status?pageId={page.id}&pageVersion={page.version}&spaceKey={space.key}&macroId={macro.id}&outputType={output.type}&title={title}",
                        }
                    ],
                    "webhooks": [
                        {"event": "page_created", "url": "/connect/webhooks/page_created"},
                        {"event": "page_updated", "url": "/connect/webhooks/page_updated"},
                    ],
                    "configurePage": {"key": "settings", "name": {"value": "Fake settings"}, "url": "/connect/admin"},
                },
            }
        )

    @app.get("/connect/admin")
    def connect_admin():
        record("connect:admin")
        return "<!doctype html><html><body>configure page</body></html>"

    @app.post("/connect/<hook>")
    def connect_lifecycle(hook):
        record(f"connect:{hook}")
        return "", 204

    @app.post("/connect/webhooks/<event>")
    def webhook(event):
        record(f"webhook:{event}")
        return _maybe_fail()

    @app.post("/forge/lifecycle")
    def lifecycle():
        record("forge:lifecycle")
        return "", 204

    @app.post("/forge/events/page")
    def page_event():
        record("forge:event")
        return _maybe_fail()

    @app.post("/forge/scheduled")
    def scheduled():
        record("forge:scheduled")
        return _maybe_fail()

    @app.post("/forge/macro/<key>")
    def macro(key):
        record(f"forge:macro:{key}")
        return jsonify({"macro": key, "received": request.get_json(silent=True)})

    @app.get("/static/customui/index.html")
    def custom_ui():
        return CUSTOM_UI

    @app.get("/static/admin/index.html")
    def admin_ui():
        return ADMIN_UI

    @app.post("/forge/admin")
    @app.post("/forge/admin/<path:rest>")
    def admin_remote(rest=""):
        record(f"forge:admin:{rest}")
        return jsonify({"admin": rest or "page", "received": request.get_json(silent=True)})

    def _maybe_fail():
        if state["event_failures"] > 0:
            state["event_failures"] -= 1
            return jsonify({"error": "flaky"}), 503
        return "", 200

    return app


@contextmanager
def running_fake_app(**state):
    app = create_app(state)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    state["base_url"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        thread.join(timeout=5)
