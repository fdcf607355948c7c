"""Consonance for Confluence: the Flask application factory."""

from __future__ import annotations

import logging
import os
import secrets

from flask import Flask, g, request
from flask.sessions import NullSession, SessionInterface

from addon import logs as addon_logging
from addon.config import load_settings
from addon.extensions import db, migrate
from addon.web.response_headers import common_headers
from addon.web.templating import ViewModelEnvironment

log = logging.getLogger("addon.app")


def create_app(config: dict | None = None) -> Flask:
    """Build an app: settings from the environment, then `config` (tests) on top."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(__file__), os.pardir, "templates"),
        static_folder=os.path.join(os.path.dirname(__file__), os.pardir, "static"),
    )
    # Our templates are a fixed set: a plain dict keeps them all. Jinja's default cache is an LRU whose every
    # lookup (each include and import, six a panel) takes a lock and moves the key along a list: 2.3 µs, not 0.5.
    app.jinja_options = {**app.jinja_options, "cache_size": -1}
    app.jinja_environment = ViewModelEnvironment
    app.config.update(load_settings())
    if config:
        app.config.update(config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Survive PostgreSQL restarts and dropped connections: test each pooled connection on checkout.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    os.makedirs(app.instance_path, exist_ok=True)
    _resolve_instance_paths(app)
    _ensure_instance_secrets(app)

    app.session_interface = NoCookieSessions()
    addon_logging.configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), os.pardir, "migrations"))

    from addon import models  # noqa: F401  (register every table with the metadata)
    from addon.gateways import TenantGateways, register_gateways
    from addon.jobs import init_app as init_jobs
    from addon.platform import init_app as init_platform
    from addon.web import register_blueprints

    init_platform(app)
    # The one way to Consonance and Confluence, for requests and outbox handlers alike.
    register_gateways(app, TenantGateways.from_config(app))
    init_jobs(app)
    register_blueprints(app)
    from addon.admin.demo import demo_cli

    app.cli.add_command(demo_cli)
    _install_request_context(app)
    if app.config["MACRO_LANE"] not in ("", "0", "false", "False"):
        from addon.web.macro_lane import MacroLane

        # Flask's documented way to put WSGI middleware in front of the app; mypy sees a method being replaced
        app.wsgi_app = MacroLane(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


class NoCookieSessions(SessionInterface):
    """The app keeps no state in cookies: every request proves itself with a token (FIT, Connect JWT,
    signed action or admin token). Skipping Flask's cookie session saves its signing work on every view."""

    null_session_class = NullSession

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response):
        return None


def _resolve_instance_paths(app: Flask) -> None:
    """Relative SQLite paths live in the instance folder, wherever the process starts."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/") and ":memory:" not in uri:
        relative = uri[len(prefix) :]
        if relative.startswith("instance/"):
            relative = relative[len("instance/") :]
        app.config["SQLALCHEMY_DATABASE_URI"] = prefix + os.path.join(app.instance_path, relative)


def _ensure_instance_secrets(app: Flask) -> None:
    """Embedded mode only: make and keep per-instance keys so a fresh machine just runs.

    Production sets SECRET_KEY and ENCRYPTION_KEYS explicitly (README, Production).
    """
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _read_or_create(app, "secret_key", lambda: secrets.token_hex(32))
    if not app.config.get("ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        app.config["ENCRYPTION_KEYS"] = _read_or_create(app, "encryption_key", lambda: Fernet.generate_key().decode())


def _read_or_create(app: Flask, name: str, make) -> str:
    path = os.path.join(app.instance_path, name)
    if os.path.exists(path):
        with open(path) as handle:
            return handle.read().strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def _install_request_context(app: Flask) -> None:
    @app.before_request
    def _bind_request():
        g.request_id = request.headers.get("x-b3-traceid") or addon_logging.new_request_id()
        addon_logging.begin(request_id=g.request_id, route=request.endpoint)
        g.log_context_begun = True

    @app.after_request
    def _tag_response(response):
        for name, value in common_headers(g.get("request_id", "")):
            response.headers.setdefault(name, value)
        return response

    @app.teardown_request
    def _unbind(_exc):
        # Only the context this request began: the macro lane pushes a request context inside its own (to build
        # URLs) and goes on logging the view after it ends.
        if g.pop("log_context_begun", False):
            addon_logging.clear()
