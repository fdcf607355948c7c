"""When a title is acquired or enters a stage: the playbook gates that now apply become Consonance
tasks (F3), and when it reaches Published its retrospective page is made (F8).

Runs as its own outbox entry so a slow or failing Consonance delays only this, never the status
region (F2), and shows on the activity page like any other write.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from addon.extensions import db
from addon.flows import playbook_gates, retrospectives
from addon.flows.sync_models import TitleSnapshot
from addon.jobs.outbox import enqueue, outbox_handler
from addon.platform.models import Tenant
from addon.publishing.stages import has_reached

log = logging.getLogger("addon.flows.stage_followups")

KIND = "flows.stage_followups"


def enqueue_followups(tenant: Tenant, work_id: str, stage: str | None, dedupe_key: str) -> None:
    """Called by change detection in the poll's transaction."""
    enqueue(
        tenant,
        "consonance",
        KIND,
        {"work_id": str(work_id), "stage": stage},
        dedupe_key=f"followups:{dedupe_key}"[:255],
    )


@outbox_handler(KIND)
def run_followups(tenant: Tenant, payload: dict) -> dict:
    work_id, stage = payload["work_id"], payload.get("stage")
    result: dict[str, dict | str | None] = {}
    if playbook_gates.playbook_items(tenant):  # no playbook, no gates: spare Consonance the read
        result["gates"] = playbook_gates.sync_gates_for_title(tenant, work_id)
    if has_reached(stage, "published") and _has_page_set(tenant, work_id):
        result["retrospective_page"] = retrospectives.ensure_retrospective(tenant, work_id)
    log.info("stage follow-ups for work %s at %s: %s", work_id, stage, result)
    return result


def _has_page_set(tenant: Tenant, work_id: str) -> bool:
    """A retrospective sits under the title's home page: only titles with a page set (made or owed) get one."""
    return bool(
        db.session.execute(
            sa.select(TitleSnapshot.pages_owed).where(
                TitleSnapshot.tenant_id == tenant.id, TitleSnapshot.work_id == str(work_id)
            )
        ).scalar()
    )
