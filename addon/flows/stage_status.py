"""F2 downstream: when a title moves stage in Consonance, its home page's owned status region shows
the new stage, reviewers and next step (from the admin's stage guide page), and its stage label follows.

The handler renders from the stage Consonance holds *now*, so late or repeated deliveries converge;
an unchanged region writes no new version.
"""

from __future__ import annotations

import logging
import re

from addon.confluence.errors import ConfluenceError, ConfluenceNotFound
from addon.confluence.owned_regions import OwnedRegionError, find_region, insert_region_if_missing, replace_region
from addon.confluence.storage_parse import StorageParseError, find_tables
from addon.flows import page_templates as templates
from addon.gateways import gateways
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.platform.models import Tenant
from addon.publishing.guidance import StageGuide, guidance_for, stage_guide_from_tables
from addon.settings.service import get_settings
from addon.titles import models as roles
from addon.titles.service import pages_of

log = logging.getLogger("addon.flows.stage_status")

KIND = "confluence.stage_status"
STAGE_LABEL_PREFIX = "consonance-stage-"


def stage_label(stage: str | None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (stage or "none").strip().lower()).strip("-") or "none"
    return STAGE_LABEL_PREFIX + slug


def parse_stage_guide(storage: str) -> StageGuide:
    """The stage guide page's table (see `publishing.guidance.stage_guide_from_tables`)."""
    return stage_guide_from_tables(find_tables(storage))


def read_stage_guide(client, page_id: str) -> StageGuide:
    """The admin's stage guide, or {} when none is set or it cannot be read (defaults apply)."""
    if not page_id:
        return {}
    try:
        return parse_stage_guide(client.get_page(page_id).body or "")
    except (ConfluenceError, StorageParseError) as exc:
        log.warning("stage guide page %s unreadable (%s); using default next steps", page_id, exc)
        return {}


def status_inner_for(tenant: Tenant, client, work_id: str, stage: str | None):
    guide = read_stage_guide(client, get_settings(tenant).stage_guide_page_id)
    return templates.status_region_inner(work_id, guidance_for(stage, guide))


def enqueue_update(tenant: Tenant, work_id: str, dedupe_key: str) -> None:
    enqueue(tenant, "confluence", KIND, {"work_id": str(work_id)}, dedupe_key=dedupe_key)


def sync_stage_labels(client, page_id: str, stage: str | None) -> None:
    """Exactly one stage label on the page: the current one (others ours removed, no write if right)."""
    wanted = stage_label(stage)
    present = {label.name for label in client.get_labels(page_id)}
    for name in sorted(present):
        if name.startswith(STAGE_LABEL_PREFIX) and name != wanted:
            client.remove_label(page_id, name)
    if wanted not in present:
        client.add_labels(page_id, [wanted])


@outbox_handler(KIND)
def update_stage_status(tenant: Tenant, payload: dict) -> dict:
    """Rewrite the home page's status region from the stage Consonance holds now."""
    work_id = str(payload["work_id"])
    home = pages_of(tenant, work_id).get(roles.HOME)
    if home is None or not home.page_id:
        return {"skipped": "no page set yet"}  # the page set, when made, renders the current stage
    title = gateways().consonance(tenant).title(work_id)
    if title is None:
        raise PermanentError(f"Consonance has no work {work_id}")
    stage = title.stage.name if title.stage else None
    client = gateways().confluence(tenant)
    inner = status_inner_for(tenant, client, work_id, stage)

    written = []

    def rewrite(page):
        body = page.body or ""
        try:
            if find_region(body, templates.STATUS_REGION) is None:
                new = insert_region_if_missing(body, templates.STATUS_REGION, inner, at="start")
            else:
                new = replace_region(body, templates.STATUS_REGION, inner)
        except OwnedRegionError as exc:
            log.warning("status region on page %s is broken (%s); leaving the page alone", page.id, exc)
            return None
        written.append(new != body)
        return new

    try:
        client.update_page_with_retry(home.page_id, rewrite, message=f"Stage: {stage}")
    except ConfluenceNotFound:
        return {"skipped": "home page is gone; nightly reconciliation recreates it"}
    sync_stage_labels(client, home.page_id, stage)
    return {"page_id": home.page_id, "stage": stage, "written": bool(written and written[-1])}
