"""Thin Flask blueprints: they authenticate, call flows/macros/platform services, render."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from addon.web import health

    app.register_blueprint(health.bp)
