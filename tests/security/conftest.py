"""The attack table's world: a Forge site and a Connect site, both connected to the Consonance sandbox, with
secrets, settings and a failed write each, so every row can show that nothing of theirs changed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from addon.decisions.models import Decision
from addon.extensions import db
from addon.flows.editor_page_models import EditorPageState
from addon.jobs.models import OutboxEntry, ProcessedEvent, ScheduleMark
from addon.platform import tenants
from addon.platform.models import AuditEntry, Tenant, TenantSecret
from addon.settings.models import TenantSettings
from addon.settings.service import update_settings
from tests.fixtures.admin import ADMIN


@dataclass
class World:
    forge: Tenant
    connect: Tenant
    connect_payload: dict
    connect_outbox_id: int
    connect_audit_id: int
    sandbox: object


def _failed_write(tenant: Tenant) -> int:
    entry = OutboxEntry(
        tenant_id=tenant.id,
        target="consonance",
        kind="consonance.add_note",
        dedupe_key=f"attack-table-{tenant.id}",
        payload={"workId": "1", "text": "Connect site's own note"},
        status="failed",
        last_error="HTTP 503",
    )
    db.session.add(entry)
    db.session.flush()
    return entry.id


@pytest.fixture
def world(app, client, admin_tenant, connect_site, consonance) -> World:
    connect = tenants.find_tenant(tenants.CONNECT, connect_site["clientKey"])
    for tenant in (admin_tenant, connect):
        update_settings(tenant, {"consonance_host": consonance.url}, actor=ADMIN)
        tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, consonance.api_key)
    db.session.commit()
    outbox_id = _failed_write(connect)
    audit = tenants.record(connect, "probe", actor=ADMIN, note="Connect site's own audit line")
    db.session.commit()
    consonance.control.clear_requests()
    return World(admin_tenant, connect, connect_site, outbox_id, audit.id, consonance)


def snapshot(world: World) -> dict:
    """Everything an attack could change: tenants, secrets, settings, writes, events, marks, Consonance writes."""
    db.session.expire_all()

    def rows(query):
        return sorted(tuple(row) for row in db.session.execute(query).all())

    def count(model):
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()

    writes = {
        op: n
        for op, n in (world.sandbox.control.counters().get("byOperation") or {}).items()
        if op in ("AddWorkNote", "ChangeWorkStage", "CreateWorkTask", "CompleteWorkTask", "UpdateWorkWebLinks")
    }
    return {
        "tenants": rows(sa.select(Tenant.id, Tenant.transport, Tenant.external_id, Tenant.enabled)),
        "secrets": rows(sa.select(TenantSecret.tenant_id, TenantSecret.name, TenantSecret.ciphertext)),
        "settings": sorted(
            (s.tenant_id, s.version, repr(sorted((s.values or {}).items())))
            for s in db.session.execute(sa.select(TenantSettings)).scalars()
        ),
        "outbox": rows(sa.select(OutboxEntry.id, OutboxEntry.tenant_id, OutboxEntry.status, OutboxEntry.attempts)),
        "decisions": count(Decision),
        "events": count(ProcessedEvent),
        "page_states": count(EditorPageState),
        "schedule_marks": count(ScheduleMark),
        "consonance_writes": writes,
    }


def audit_actions(tenant: Tenant) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(AuditEntry.action).where(AuditEntry.tenant_id == tenant.id).order_by(AuditEntry.id)
        ).scalars()
    )
