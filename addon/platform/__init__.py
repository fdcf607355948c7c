"""Being an Atlassian app: manifest and descriptor, token checks, installs, tenants, secrets."""
from flask import Flask


def init_app(app: Flask) -> None:
    from addon.platform import services
    services.init_app(app)
