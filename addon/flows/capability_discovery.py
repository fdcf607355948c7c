"""Knowing what each tenant's Consonance offers: found on Test connection, on save and daily, kept per tenant.

The profile lives in the tenant's settings (`consonance_capabilities`, written only by the app); every
gateway for the tenant builds its operations from it. When a check finds a feature turned on or off,
the change is recorded for the Activity page in words.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from addon.consonance.capabilities import PAGINATION_WORDS, CapabilityProfile
from addon.consonance.errors import ConsonanceError
from addon.extensions import db
from addon.jobs.schedule import scheduled
from addon.platform import tenants
from addon.platform.models import Tenant, tenant_query
from addon.settings.models import TenantSettings
from addon.settings.service import get_settings

log = logging.getLogger("addon.flows.capability_discovery")

SETTING = "consonance_capabilities"
CHANGED = "capabilities_changed"


def stored_profile(tenant: Tenant) -> CapabilityProfile | None:
    """The profile last found for this tenant's Consonance, or None before the first check."""
    return CapabilityProfile.from_dict(get_settings(tenant).values.get(SETTING))


def remember(tenant: Tenant, profile: CapabilityProfile, actor: str | None = None) -> list[str]:
    """Keep `profile` for the tenant (commits); returns what changed since the last one, in words."""
    before = stored_profile(tenant)
    changes = profile.changes_from(before)
    row = db.session.execute(tenant_query(TenantSettings, tenant)).scalar_one_or_none()
    if row is None:
        row = TenantSettings(tenant_id=tenant.id, values={}, updated_by=actor)
        db.session.add(row)
    row.values = {**(row.values or {}), SETTING: profile.as_dict()}
    if changes or before is None:
        off = [s.label for s in profile.features() if not s.available]
        tenants.record(
            tenant,
            CHANGED,
            actor=actor,
            changes=changes or [f"First check: {len(off)} feature(s) off" + (f" ({', '.join(off)})" if off else "")],
            source=profile.source,
        )
    db.session.commit()
    if changes:
        log.info("Consonance capabilities changed: %s", "; ".join(changes))
    return changes


def capability_rows(profile: CapabilityProfile | None) -> list[dict]:
    """The admin capability table: each feature, on or off, and what decides it, in words."""
    if profile is None:
        return []
    rows = [
        {
            "feature": "Catalogue listing (change detection, summaries)",
            "available": True,
            "decidedBy": f"lists works {PAGINATION_WORDS[profile.pagination]}",
            "without": None,
        }
    ]
    for status in profile.features():
        rows.append(
            {
                "feature": status.label,
                "available": status.available,
                "decidedBy": (f"uses {status.decided_by}" if status.available else f"lacks {status.decided_by}"),
                "without": None if status.available else status.without,
            }
        )
    return rows


@scheduled("capabilities.check", every=timedelta(days=1), queue="low")
def check_capabilities(tenant: Tenant) -> dict:
    """The daily check: ask the tenant's Consonance again, so a server that changed changes the features."""
    from addon.gateways import NotConfigured, gateways

    try:
        gateway = gateways().consonance(tenant)
    except NotConfigured:
        return {"skipped": 1}
    try:
        profile = gateway.discover()
    except ConsonanceError as exc:
        log.warning("capability check could not ask Consonance: %s", exc)
        return {"failed": 1}
    host = get_settings(tenant).consonance_host
    profile = CapabilityProfile(profile.present, profile.source, profile.checked_at, host, profile.note)
    changes = remember(tenant, profile, actor="daily capability check")
    return {"checked": 1, "changed": len(changes)}
