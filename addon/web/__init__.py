"""Thin Flask blueprints: they authenticate, call flows/macros/platform services, render."""

from flask import Flask

from addon.platform.auth import auth_error_response
from addon.platform.errors import AuthError
from addon.platform.rate_limits import RateLimited, rate_limited_response


def register_blueprints(app: Flask) -> None:
    from addon.web import (
        actions,
        admin,
        api,
        connect,
        forge_remote,
        health,
        lifecycle,
        macro_editor,
        metrics,
        request_input,  # noqa: I001  (a separate line keeps others' merges of the line above clean)
        static_files,
    )

    static_files.init_app(app)

    request_input.init_app(app)  # before the blueprints: their `<int:...>` rules use the bounded converter

    app.register_blueprint(health.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(forge_remote.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(connect.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(macro_editor.bp)
    app.register_error_handler(AuthError, auth_error_response)
    app.register_error_handler(RateLimited, rate_limited_response)
