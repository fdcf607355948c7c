"""Operator commands: `flask --app addon:create_app jobs tick|scheduler|drain|retry|stats`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from addon.extensions import db
from addon.jobs import outbox, schedule
from addon.platform.models import Tenant

jobs_cli = AppGroup("jobs", help="Background work: schedule ticks, the outbox.")


@jobs_cli.command("tick")
def tick_command():
    """Queue whatever is due now, once."""
    queued = schedule.tick()
    click.echo(f"queued {len(queued)} jobs")


@jobs_cli.command("scheduler")
@click.option("--interval", type=float, default=None, help="Seconds between ticks (SCHEDULER_INTERVAL_SECONDS).")
def scheduler_command(interval):
    """Tick forever; run one or more (they never double-run a period)."""
    from addon.jobs.settings import setting

    app = current_app._get_current_object()
    schedule.run_scheduler(app, interval or setting(app, "SCHEDULER_INTERVAL_SECONDS"))


@jobs_cli.command("drain")
@click.option("--tenant", "tenant_id", type=int, default=None, help="Only this tenant id.")
@click.option("--limit", type=int, default=500)
def drain_command(tenant_id, limit):
    """Deliver due outbox entries in this process."""
    tenant = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
    if tenant_id is not None and tenant is None:
        raise click.BadParameter(f"no tenant {tenant_id}")
    click.echo(json.dumps(outbox.drain(tenant=tenant, limit=limit)))


@jobs_cli.command("retry")
@click.argument("entry_id", type=int)
def retry_command(entry_id):
    """Make a failed outbox entry due again."""
    if not outbox.retry(entry_id, tenant=None):
        raise click.ClickException(f"entry {entry_id} is not failed")
    db.session.commit()
    click.echo(f"entry {entry_id} queued again")


@jobs_cli.command("stats")
def stats_command():
    """Outbox depth by status and the oldest undelivered entry's age."""
    click.echo(json.dumps({"depth": outbox.depth(), "oldest_age_seconds": round(outbox.oldest_age(), 1)}))
