"""The Confluence Cloud emulator as a Flask app: REST v2/v1 subset, page viewer, control API.

Every non-control request passes the 5 MB body limit and the fault book, and lands in the log.
"""

from __future__ import annotations

import time

from flask import Flask, g, jsonify, request

from . import api_v1, api_v2, control, viewer
from .emulator import Emulator
from .faults import apply_latency

CONTROL_PREFIXES = ("/_emulator", "/_emulator-static", "/.well-known", "/install-keys")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})
    emulator = Emulator(config)
    app.extensions["confluence_emulator"] = emulator
    app.register_blueprint(api_v2.bp)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(api_v1.downloads)
    app.register_blueprint(control.bp)
    app.register_blueprint(viewer.bp)

    @app.before_request
    def _limits_and_faults():
        if not emulator.url:
            emulator.set_public_url(request.host_url)
        g.started = time.monotonic()
        if request.path.startswith(CONTROL_PREFIXES):
            return None
        if (request.content_length or 0) > int(emulator.config["MAX_BODY_BYTES"]):
            return jsonify({"statusCode": 413, "message": "Request entity too large"}), 413
        fault = emulator.faults.take(request.method, request.path)
        apply_latency(fault)
        if fault and fault.status:
            return _fault_response(fault)
        return None

    @app.after_request
    def _log(response):
        if not request.path.startswith(CONTROL_PREFIXES):
            emulator.requests.add(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query_string.decode(),
                    "status": response.status_code,
                    "auth": (request.headers.get("Authorization") or "").split(" ")[0],
                    "principal": (g.get("auth") or {}).get("principal"),  # the user a token acted as, if any
                    "ms": round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 1),
                    "at": time.time(),
                }
            )
        return response

    return app


def _fault_response(fault):
    if fault.status == 429:
        response = jsonify({"statusCode": 429, "message": fault.message or "Rate limit exceeded"})
        response.status_code = 429
        response.headers["Retry-After"] = str(fault.retry_after)
        response.headers["X-RateLimit-Reset"] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + fault.retry_after)
        )
        response.headers["X-RateLimit-NearLimit"] = "true"
        return response
    response = jsonify({"statusCode": fault.status, "message": fault.message or "Injected fault"})
    response.status_code = fault.status
    return response
