"""Operator commands: `flask --app addon:create_app tenants ...`."""
import click
from flask.cli import AppGroup

from addon.platform import tenants as tenant_service

tenants_cli = AppGroup("tenants", help="Installations (tenants) and their secrets.")


@tenants_cli.command("rotate-secrets")
def rotate_secrets():
    """Re-encrypt every stored secret under the first key in ENCRYPTION_KEYS."""
    count = tenant_service.rotate_secrets()
    click.echo(f"re-encrypted {count} secrets under the current key")
