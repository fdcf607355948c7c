"""Reading and changing a tenant's settings; every change is validated and audited.

Reads are served from the process's tenant cache while the tenant's generation is unchanged
(addon/platform/tenant_cache.py): saving settings renews it on commit, so every process shows the
change from its next request on.
"""

from __future__ import annotations

import logging

from flask import current_app
from marshmallow import ValidationError

from addon.extensions import db
from addon.platform import tenant_cache, tenants
from addon.platform.models import Tenant, tenant_query
from addon.settings.models import TenantSettings
from addon.settings.schema import SCHEMA, Settings, with_defaults

log = logging.getLogger("addon.settings")


def _row(tenant: Tenant) -> TenantSettings | None:
    return db.session.execute(tenant_query(TenantSettings, tenant)).scalar_one_or_none()


def get_settings(tenant: Tenant) -> Settings:
    cache = tenant_cache.current()
    generation = cache.generation(tenant.id) if cache else None
    cached = cache.get("settings", tenant.id, generation, Settings) if cache else None
    if cached is None:
        row = _row(tenant)
        cached = with_defaults(row.values if row else None)
        if cache:
            cache.put("settings", tenant.id, generation, cached)
    return Settings(dict(cached.values))  # a copy: callers may build on it


def update_settings(tenant: Tenant, changes: dict, actor: str | None) -> tuple[Settings | None, dict]:
    """Apply `changes` over the current settings; returns (settings, {}) or (None, field errors)."""
    current = get_settings(tenant).values
    try:
        merged = SCHEMA.load({**current, **changes})
    except ValidationError as exc:
        return None, exc.normalized_messages()
    row = _row(tenant)
    if row is None:
        row = TenantSettings(tenant_id=tenant.id, values=merged, updated_by=actor)
        db.session.add(row)
    else:
        row.values = merged
        row.version += 1
        row.updated_by = actor
    changed = sorted(k for k in merged if merged.get(k) != current.get(k))
    tenants.record(tenant, "settings_changed", actor=actor, fields=changed)
    db.session.commit()
    log.info("settings changed: %s", ", ".join(changed) or "(nothing)")
    return with_defaults(merged), {}


def poll_interval_seconds(tenant: Tenant) -> int:
    """Seconds between the site's change-detection polls: the site's own choice, else POLL_INTERVAL_SECONDS."""
    return get_settings(tenant).poll_interval_seconds or int(current_app.config["POLL_INTERVAL_SECONDS"])
