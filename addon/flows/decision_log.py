"""F2 to Consonance: decisions written on a title's Decision log page go to Consonance, once each.

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
from addon.confluence.people import DISPLAY_NAMES, UNKNOWN_PERSON
from addon.confluence.storage import (
    Content,
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
from addon.flows.page_layout import DecisionProblem, DecisionRow, PageFormatError, decision_entries
from addon.gateways import NotConfigured, gateways
from addon.jobs.models import OutboxEntry
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.schedule import scheduled
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.publishing.wording import long_date
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.flows.decision_log")

REGION = "decision-log"
REFRESH_KIND = "confluence.decision_log_region"
KEY_PREFIX = "dlog"
SHOWN = 200


def decision_key(page_id: str, identity: str) -> str:
    return f"{KEY_PREFIX}:{page_id}:{identity}"


def process_decision_log(tenant: Tenant, page: Page, work_id: str, actor: str | None) -> dict:
    """Record the page's new decisions (each once) and queue the region saying what happened to each."""
    try:
        entries = decision_entries(page.body or "")
    except PageFormatError as exc:
        entries = [DecisionProblem("(the whole page)", f"The page could not be read: {exc}")]
    rows = [e for e in entries if isinstance(e, DecisionRow)]
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
        decided_by = row.decided_by or actor
        try:
            result = record_decision(
                tenant,
                idempotency_key=key,
                work_id=work_id,
                decision_type=row.decision_type,
                text=_note_words(tenant, page, row, decided_by),
                actor=decided_by,
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
    state.problems = [
        [e.line, "", decision_key(page.id, e.identity)] if isinstance(e, DecisionRow) else [e.line, e.what_is_wrong]
        for e in entries
    ]
    db.session.commit()
    queue_refresh(tenant, page.id, work_id)
    problems = len(entries) - len(rows)
    return {"decisions": len(rows), "recorded": recorded, "problems": problems}


def _note_words(tenant: Tenant, page: Page, row: DecisionRow, decided_by: str | None) -> str:
    """The decision's words; a table row adds who decided (by name, never the account id) and when,
    as its Decided by and Date cells say, so Consonance's note carries them."""
    if not (row.decided_by or row.decided_by_name or row.decided_on):
        return row.text
    who = row.decided_by_name
    if who is None and row.decided_by:
        try:
            client = gateways().confluence(tenant)
        except NotConfigured as exc:
            log.info("no Confluence client to name the decider for tenant %s: %s", tenant.id, exc)
            client = None
        who = DISPLAY_NAMES.name(tenant.id, client, row.decided_by)
    when = f" on {long_date(row.decided_on)}" if row.decided_on else ""
    by = f"Decided by {who}{when}." if who and who != UNKNOWN_PERSON else f"Decided{when}."
    return "\n".join(part for part in (row.text, by) if part)


def _title(tenant: Tenant, work_id: str):
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


_OUTCOMES = {
    "delivered": ("Sent", "Green", "In Consonance"),
    "pending": ("Waiting", "Yellow", "Queued for Consonance; this changes once it arrives"),
    "retrying": ("Waiting", "Yellow", "Consonance did not answer yet; the app is trying again"),
    "failed": ("Not sent", "Red", "Consonance did not take it; an admin can retry it on the Activity page"),
}


def _outcome(delivery) -> tuple[str, str, str]:
    """Lozenge label, colour and the sentence beside it; a write this Consonance cannot take says why."""
    if delivery.state == "not_sent":
        return "Not sent", "Grey", f"Not sent: {delivery.reason or 'your Consonance does not accept it'}"
    return _OUTCOMES.get(delivery.state, (delivery.state, "Grey", ""))


def region_content(tenant: Tenant, page_id: str, work_id: str) -> str:
    """The region: what happened to each decision written on this page, in page order (sent, waiting, or
    not understood and why), then the title's decisions recorded elsewhere (the status panel's button)."""
    lines = list(page_state(tenant, page_id).problems or [])
    keys = [entry[2] for entry in lines if len(entry) > 2 and entry[2]]
    by_key = {
        d.idempotency_key: d
        for d in db.session.execute(
            tenant_query(Decision, tenant).where(Decision.idempotency_key.in_(keys or [""]))
        ).scalars()
    }
    elsewhere = (
        db.session.execute(
            tenant_query(Decision, tenant)
            .where(
                Decision.work_id == str(work_id),
                sa.or_(Decision.source_page_id.is_(None), Decision.source_page_id != str(page_id)),
            )
            .order_by(Decision.created_at.desc(), Decision.id.desc())
            .limit(SHOWN)
        )
        .scalars()
        .all()
    )
    deliveries = delivery_states(tenant, [*by_key.values(), *elsewhere])
    page_rows: list[list[Content]] = []
    for entry in lines[:SHOWN]:
        line = str(entry[0])
        decision = by_key.get(entry[2]) if len(entry) > 2 and entry[2] else None
        if decision is None and len(entry) > 2 and entry[2]:
            continue  # recorded by someone else's copy of the page; it is listed there
        if decision is None:
            page_rows.append([line, text(""), status_lozenge("Not understood", "Red"), f"Not sent: {entry[1]}"])
            continue
        label, colour, words = _outcome(deliveries[decision.id])
        what = _label(decision)
        page_rows.append([line, _person(decision.actor), status_lozenge(label, colour), f"{what}. {words}"])
    parts = [
        heading(2, "What happened to each decision"),
        paragraph(
            emphasis(
                "Kept up to date by Consonance for Confluence; edits here are replaced. "
                "Add decisions above: a row in the Decision / Detail / Decided by / Date table, "
                "or a line “Decision: approve — …”."
            )
        ),
    ]
    parts.append(
        table(["Decision as written", "Decided by", "Outcome", "What happened"], page_rows)
        if page_rows
        else paragraph("No decisions written on this page yet.")
    )
    if elsewhere:
        rows = []
        for d in elsewhere:
            label, colour, words = _outcome(deliveries[d.id])
            what = _label(d) + (f" ({words})" if deliveries[d.id].state == "not_sent" else "")
            source = "the title status panel" if d.source == "macro" else "another page"
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
        parts.append(heading(3, "Decisions recorded elsewhere for this title"))
        parts.append(table(["Recorded", "Decision", "Details", "By", "From", "Consonance"], rows))
    return document(*parts)


def _label(decision: Decision) -> str:
    if decision.decision_type == APPROVE_STAGE and not decision.to_stage:
        return "Approved"  # an approval that moves no stage, e.g. "Approved: jacket brief"
    kind = DECISION_LABELS.get(decision.decision_type)
    return (kind.recorded if kind else decision.decision_type) + (
        f" → {decision.to_stage}" if decision.to_stage else ""
    )


def _person(account_id: str | None):
    """A mention: Confluence shows the person's current name; the account id stays in the link only."""
    if not account_id:
        return text("")
    return trusted(f'<ac:link><ri:user ri:account-id="{escape_attr(account_id)}" /></ac:link>')


@outbox_handler(REFRESH_KIND)
def write_decision_region(tenant: Tenant, payload: dict) -> dict:
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
        gateways().confluence(tenant),
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
        if link.page_id:
            queued += int(queue_refresh(tenant, link.page_id, link.work_id))
    return {"queued": queued}
