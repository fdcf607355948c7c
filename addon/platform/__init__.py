"""Being an Atlassian app: manifest and descriptor, token checks, installs, tenants, secrets."""

from flask import Flask


def init_app(app: Flask) -> None:
    from addon.platform import services
    from addon.platform.cli import tenants_cli

    services.init_app(app)
    app.cli.add_command(tenants_cli)
