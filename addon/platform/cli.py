"""Operator commands: `flask --app addon:create_app tenants ...`."""

import click
from flask.cli import AppGroup

from addon.platform import tenants as tenant_service

tenants_cli = AppGroup("tenants", help="Installations (tenants) and their secrets.")


@tenants_cli.command("rotate-secrets")
def rotate_secrets() -> None:
    """Re-encrypt every stored secret under the first key in ENCRYPTION_KEYS."""
    count = tenant_service.rotate_secrets()
    click.echo(f"re-encrypted {count} secrets under the current key")


@tenants_cli.command("list")
def list_tenants() -> None:
    """Every installation: id, transport, site, enabled."""
    import sqlalchemy as sa

    from addon.extensions import db
    from addon.platform.models import Tenant

    for tenant in db.session.execute(sa.select(Tenant).order_by(Tenant.id)).scalars():
        click.echo(
            f"{tenant.id}\t{tenant.transport}\t{tenant.site_url or tenant.external_id}\t"
            f"{'enabled' if tenant.enabled else 'disabled'}"
        )


@tenants_cli.command("connect-consonance")
@click.option("--tenant", "tenant_ids", type=int, multiple=True, help="Tenant id (default: every enabled tenant).")
@click.option("--host", required=True, help="Consonance address, e.g. https://web.consonance.app")
@click.option("--api-key", required=True, envvar="CONSONANCE_API_KEY", help="The API key Consonance issued.")
def connect_consonance(tenant_ids: tuple[int, ...], host: str, api_key: str) -> None:
    """Connect installations to a Consonance (operators and the embedded default; admins use the page)."""
    import sqlalchemy as sa

    from addon.extensions import db
    from addon.platform.models import Tenant
    from addon.settings.service import update_settings

    query = sa.select(Tenant).where(Tenant.enabled.is_(True))
    if tenant_ids:
        query = query.where(Tenant.id.in_(tenant_ids))
    for tenant in db.session.execute(query).scalars().all():
        _, errors = update_settings(tenant, {"consonance_host": host}, actor="cli")
        if errors:
            raise click.ClickException("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        tenant_service.set_consonance_key(tenant, api_key, host)
        db.session.commit()
        click.echo(f"tenant {tenant.id} connected to {host}")
