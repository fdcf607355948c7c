"""F2 upstream: decisions written on a title's Decision log page go to Consonance, once each.

Each "Decision: …" line is recorded through the same path as the title-status macro's button
(`record_decision`), keyed by page id + the line's identity, so a re-delivered event or a second
save records nothing new. The page shows every recorded decision of the title with its delivery
state in an owned region, refreshed after recording and by a schedule while deliveries finish.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import sqlalchemy as sa

from addon.confluence.models import Page
from addon.confluence.storage import (
    document,
    emphasis,
    escape_attr,
    heading,
    paragraph,
    status_lozenge,
    table,
    text,
    trusted,
)
from addon.decisions.models import APPROVE_STAGE, DECISION_LABELS, Decision
from addon.decisions.service import DecisionConflict, delivery_states, record_decision, stage_move
from addon.extensions import db
from addon.flows.owned_pages import page_state, write_region
from addon.flows.page_layout import PageFormatError, parse_decision_log
from addon.jobs.models import OutboxEntry
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.schedule import scheduled
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.flows.decision_log")

REGION = "decision-log"
REFRESH_KIND = "confluence.decision_log_region"
KEY_PREFIX = "dlog"
SHOWN = 200
_STATES = {
    "pending": ("Pending", "Yellow"),
    "retrying": ("Retrying", "Yellow"),
    "delivered": ("In Consonance", "Green"),
    "failed": ("Failed", "Red"),
}


def decision_key(page_id: str, identity: str) -> str:
    return f"{KEY_PREFIX}:{page_id}:{identity}"


def process_decision_log(tenant: Tenant, page: Page, work_id: str, actor: str | None) -> dict:
    """Record the page's new decisions (each once) and queue the region showing them."""
    try:
        rows, problems = parse_decision_log(page.body)
        problem_lines = [[p.line, p.what_is_wrong] for p in problems]
    except PageFormatError as exc:
        rows, problem_lines = [], [["(the whole page)", f"The page could not be read: {exc}"]]
    keys = {decision_key(page.id, row.identity): row for row in rows}
    known = set(
        db.session.execute(
            sa.select(Decision.idempotency_key).where(
                Decision.tenant_id == tenant.id, Decision.idempotency_key.in_(list(keys) or [""])
            )
        ).scalars()
    )
    recorded = 0
    title = None
    for key, row in keys.items():
        if key in known:
            continue
        if row.decision_type == APPROVE_STAGE and row.to_stage and title is None:
            title = _title(tenant, work_id)
        current_stage = stage_move(title, row.to_stage)[0] if row.to_stage else None
        try:
            result = record_decision(
                tenant,
                idempotency_key=key,
                work_id=work_id,
                decision_type=row.decision_type,
                text=row.text,
                actor=actor,
                source="decision-log",
                source_page_id=page.id,
                from_stage=current_stage,
                to_stage=row.to_stage,
            )
        except DecisionConflict:
            log.info("decision %s was recorded before by someone else; left as it is", key)
            continue
        recorded += int(result.created)
    state = page_state(tenant, page.id)
    state.problems = problem_lines
    db.session.commit()
    queue_refresh(tenant, page.id, work_id)
    return {"decisions": len(rows), "recorded": recorded, "problems": len(problem_lines)}


def _title(tenant: Tenant, work_id: str):
    from addon.gateways import gateways

    return gateways().consonance(tenant).title(work_id)


def queue_refresh(tenant: Tenant, page_id: str, work_id: str) -> bool:
    """Owe the page its region if what it should show changed (dedupe on the content); commits."""
    content = region_content(tenant, page_id, work_id)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:32]
    before = db.session.execute(
        sa.select(sa.func.count())
        .select_from(OutboxEntry)
        .where(OutboxEntry.tenant_id == tenant.id, OutboxEntry.dedupe_key == f"{REGION}:{page_id}:{digest}")
    ).scalar()
    enqueue(
        tenant,
        "confluence",
        REFRESH_KIND,
        {"page_id": page_id, "work_id": work_id},
        dedupe_key=f"{REGION}:{page_id}:{digest}",
    )
    db.session.commit()
    return before == 0


def region_content(tenant: Tenant, page_id: str, work_id: str) -> str:
    """The region: the title's decisions (from this page and the macro), newest first, with delivery state."""
    decisions = (
        db.session.execute(
            tenant_query(Decision, tenant)
            .where(Decision.work_id == str(work_id))
            .order_by(Decision.created_at.desc(), Decision.id.desc())
            .limit(SHOWN)
        )
        .scalars()
        .all()
    )
    states = {decision_id: delivery.state for decision_id, delivery in delivery_states(tenant, decisions).items()}
    rows = []
    for d in decisions:
        label, colour = _STATES.get(states[d.id], (states[d.id], "Grey"))
        kind = DECISION_LABELS.get(d.decision_type)
        what = (kind.recorded if kind else d.decision_type) + (f" → {d.to_stage}" if d.to_stage else "")
        source = (
            "this page"
            if d.source_page_id == str(page_id)
            else ("title-status macro" if d.source == "macro" else f"page {d.source_page_id}")
        )
        rows.append(
            [
                d.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                what,
                d.text or "",
                _person(d.actor),
                source,
                status_lozenge(label, colour),
            ]
        )
    state = page_state(tenant, page_id)
    problems = list(state.problems or [])
    parts = [
        heading(2, "Recorded decisions"),
        paragraph(
            emphasis(
                "Kept up to date by Consonance for Confluence; edits here are replaced. "
                "Write new decisions above as “Decision: approve — …”."
            )
        ),
    ]
    parts.append(
        table(["Recorded", "Decision", "Details", "By", "From", "Consonance"], rows)
        if rows
        else paragraph("No decisions recorded yet.")
    )
    if problems:
        parts.append(paragraph("These lines could not be read as decisions:"))
        parts.append(table(["Line", "What to change"], [[str(c) for c in p[:2]] for p in problems]))
    return document(*parts)


def _person(account_id: str | None):
    if not account_id:
        return text("")
    return trusted(f'<ac:link><ri:user ri:account-id="{escape_attr(account_id)}" /></ac:link>')


@outbox_handler(REFRESH_KIND)
def write_decision_region(tenant: Tenant, payload: dict, services) -> dict:
    """Write the region as it should be now (fresher than when it was queued)."""
    page_id, work_id = str(payload["page_id"]), str(payload["work_id"])
    link = (
        db.session.execute(
            tenant_query(TitlePage, tenant).where(TitlePage.page_id == page_id, TitlePage.role == roles.DECISIONS)
        )
        .scalars()
        .first()
    )
    if link is None:
        raise PermanentError(f"page {page_id} is no longer a Decision log")
    written = write_region(
        tenant,
        services.confluence(tenant),
        page_id,
        REGION,
        region_content(tenant, page_id, work_id),
        message="recorded decisions",
    )
    return {"written": written}


@scheduled("decision_log.refresh", every=timedelta(minutes=1))
def refresh_decision_logs(tenant: Tenant) -> dict:
    """Decision logs of titles with recent decisions get their region refreshed when a state changed."""
    since = utcnow() - timedelta(days=2)
    works = set(
        db.session.execute(
            sa.select(Decision.work_id)
            .where(
                Decision.tenant_id == tenant.id, sa.or_(Decision.created_at >= since, Decision.delivered_at >= since)
            )
            .distinct()
        ).scalars()
    )
    queued = 0
    for link in (
        db.session.execute(
            tenant_query(TitlePage, tenant).where(
                TitlePage.role == roles.DECISIONS,
                TitlePage.work_id.in_(list(works) or [""]),
                TitlePage.page_id.is_not(None),
            )
        )
        .scalars()
        .all()
    ):
        queued += int(queue_refresh(tenant, link.page_id, link.work_id))
    return {"queued": queued}
