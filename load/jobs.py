"""Job functions the suites queue on the real RQ queues (workers import them by dotted name)."""

from __future__ import annotations

from addon.extensions import db
from addon.flows.pipeline_summaries import regenerate_summary
from addon.platform.models import Tenant, utcnow


def regenerate_summaries(tenant_id: int) -> dict:
    """What an admin's Regenerate does: read the catalogue now and owe fresh weekly and monthly pages."""
    tenant = db.session.get(Tenant, tenant_id)
    today = utcnow().date()
    owed = sum(regenerate_summary(tenant, cadence, today) for cadence in ("weekly", "monthly"))
    db.session.commit()
    return {"owed": owed}
