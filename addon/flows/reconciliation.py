"""Nightly reconciliation: compare everything and repair drift the polls cannot see — a page deleted
by hand, a missed or lost change, a rights change (rights are not in the change fingerprints).

It runs a full poll first (catching any missed change), then owes every managed title one idempotent
pass of each flow, keyed by the day: handlers find their work done and write nothing unless it drifted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from addon.extensions import db
from addon.flows import launch_hubs, page_sets, rights_links, stage_status
from addon.flows.change_detection import detect_and_dispatch
from addon.flows.sync_models import TitleSnapshot
from addon.gateways import NotConfigured, gateways
from addon.jobs.schedule import scheduled
from addon.platform.models import Tenant, utcnow
from addon.settings.service import get_settings

log = logging.getLogger("addon.flows.reconciliation")


def reconcile_tenant(tenant: Tenant, fingerprints, day: str) -> dict:
    counts = {
        f"poll_{k}": v
        for k, v in detect_and_dispatch(tenant, fingerprints).items()
        if k in ("works", "changed", "title_acquired", "stage_changed")
    }
    mode = get_settings(tenant).launch_hub_mode
    hubs: set[str] = set()
    managed = 0
    managed_ids: list[str] = []
    for work_id, season, pages_owed in db.session.execute(
        sa.select(TitleSnapshot.work_id, TitleSnapshot.season, TitleSnapshot.pages_owed)
        .where(TitleSnapshot.tenant_id == tenant.id, TitleSnapshot.tracked.is_(True))
        .order_by(TitleSnapshot.work_id)
    ):
        managed += 1
        if pages_owed:  # older titles get pages only when an admin asks (onboarding)
            page_sets.enqueue_page_set(tenant, work_id, f"reconcile:{day}:page_set:{work_id}")
        stage_status.enqueue_update(tenant, work_id, f"reconcile:{day}:stage:{work_id}")
        managed_ids.append(work_id)
        hubs.add(launch_hubs.hub_key_for(mode, work_id, season))
    rights_links.enqueue_rights_links(tenant, managed_ids, f"reconcile:{day}")  # a request per 50 titles
    hubs |= set(launch_hubs.forthcoming_hub_keys(tenant))  # the whole forthcoming list, not only managed titles
    for hub in sorted(hubs):
        launch_hubs.enqueue_refresh(tenant, hub, f"reconcile:{day}:hub:{hub[:150]}")
    db.session.commit()
    counts.update({"managed_titles": managed, "hubs": len(hubs)})
    log.info("reconciliation owed checks for %d titles and %d hubs", managed, len(hubs))
    return counts


@scheduled("reconcile", every=timedelta(days=1), queue="low")
def reconcile(tenant: Tenant) -> dict:
    try:
        gateway = gateways().consonance(tenant)
    except NotConfigured:
        return {"skipped": 1}
    before = gateway.stats.requests
    counts = reconcile_tenant(tenant, gateway.iter_fingerprints(), utcnow().date().isoformat())
    counts["consonance_requests"] = gateway.stats.requests - before
    return counts
