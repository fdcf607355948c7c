"""Recording a decision and owing its write to Consonance, in one transaction.

A decision is keyed by the idempotency key its form was rendered with: a double-click, a retried
request or two tabs sending the same form make one Decision and one outbox entry. The outbox
handler writes one note (externalRef = the key) and, for "approve stage", moves the work on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from addon.consonance.errors import FeatureUnavailable
from addon.decisions.models import APPROVE_STAGE, DECISION_TYPES, HOLD, NOT_SENT, NOTE, REQUEST_CHANGES, Decision
from addon.extensions import db
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.unique import insert_once
from addon.platform.models import Tenant, utcnow

log = logging.getLogger("addon.decisions")

PUSH_KIND = "consonance.push_decision"
MAX_TEXT = 5000
_LABELS = {APPROVE_STAGE: "Stage approved", REQUEST_CHANGES: "Changes requested", HOLD: "On hold", NOTE: "Note"}


class DecisionConflict(Exception):
    """The idempotency key was already used for a different decision (another user, title or type)."""


@dataclass(frozen=True)
class Recorded:
    decision: Decision
    created: bool


def record_decision(
    tenant: Tenant,
    *,
    idempotency_key: str,
    work_id: str,
    decision_type: str,
    text: str,
    actor: str | None,
    source: str = "macro",
    source_page_id: str | None = None,
    from_stage: str | None = None,
    to_stage: str | None = None,
) -> Recorded:
    """Store the decision and its outbox entry together (commits); a repeated key returns the first one."""
    if decision_type not in DECISION_TYPES:
        raise ValueError(f"unknown decision type {decision_type!r}")
    decision_id, created = insert_once(
        Decision,
        {
            "tenant_id": tenant.id,
            "idempotency_key": idempotency_key,
            "work_id": str(work_id),
            "decision_type": decision_type,
            "text": text[:MAX_TEXT],
            "actor": actor,
            "source": source,
            "source_page_id": source_page_id,
            "from_stage": from_stage,
            "to_stage": to_stage if decision_type == APPROVE_STAGE else None,
            "created_at": utcnow(),
            "delivery_state": "pending",
        },
        ("tenant_id", "idempotency_key"),
    )
    decision = db.session.get(Decision, decision_id)
    if not created:
        db.session.rollback()
        decision = db.session.get(Decision, decision_id)
        if (decision.actor, decision.work_id, decision.decision_type) != (actor, str(work_id), decision_type):
            raise DecisionConflict(idempotency_key)
        return Recorded(decision, False)
    enqueue(tenant, "consonance", PUSH_KIND, {"decision_id": decision_id}, dedupe_key=f"decision:{decision_id}")
    db.session.commit()
    log.info("decision %s recorded (%s on work %s)", decision_id, decision_type, work_id)
    return Recorded(decision, True)


def note_text(decision: Decision) -> str:
    """The note Consonance gets: what was decided, by whom, from where, and the editor's words."""
    head = _LABELS.get(decision.decision_type, decision.decision_type)
    if decision.decision_type == APPROVE_STAGE and decision.from_stage and decision.to_stage:
        head += f": {decision.from_stage} → {decision.to_stage}"
    source = f"Confluence page {decision.source_page_id}" if decision.source_page_id else "Confluence"
    by = f" by {decision.actor}" if decision.actor else ""
    body = decision.text.strip()
    return f"{head} ({source}{by})" + (f"\n\n{body}" if body else "")


def _mirror_delivery(tenant: Tenant, payload: dict, status: str) -> None:
    """A write that failed for good shows as failed on the decision; an admin's Retry makes it pending."""
    decision = db.session.get(Decision, payload.get("decision_id"))
    if decision is not None and decision.tenant_id == tenant.id:
        decision.delivery_state = status


@outbox_handler(PUSH_KIND, on_status=_mirror_delivery)
def push_decision(tenant: Tenant, payload: dict, services) -> dict:
    """Write the decision to Consonance: one note keyed by the decision key, then the stage change.

    Both writes converge on retry: the note by its externalRef, the stage change by only moving a work
    that is still in the stage the decision approved (a repeat finds it already moved). A write this
    tenant's Consonance does not accept is not sent, and the entry settles instead of retrying: the
    decision stays in Confluence's decision log marked "not sent", with the reason.
    """
    decision = db.session.get(Decision, payload["decision_id"])
    if decision is None or decision.tenant_id != tenant.id:
        raise PermanentError("the decision no longer exists")
    gateway = services.consonance(tenant)
    result: dict = {}
    not_sent: list[str] = []
    try:
        note = gateway.add_note(decision.work_id, note_text(decision), decision.idempotency_key)
        result["note_id"] = note.id
    except FeatureUnavailable as exc:
        not_sent.append(exc.reason)
    if decision.decision_type == APPROVE_STAGE and decision.to_stage:
        try:
            result.update(_move_stage(gateway, decision))
        except FeatureUnavailable as exc:
            not_sent.append(exc.reason)
    decision.delivered_at = utcnow()  # settled: sent, or known not to be sendable
    if not_sent:
        result["not_sent"] = "; ".join(not_sent)
    decision.delivery_state = NOT_SENT if not_sent and not result.keys() - {"not_sent"} else "delivered"
    if not_sent:
        log.info("decision %s not (fully) sent: %s", decision.id, result["not_sent"])
    return result


def _move_stage(gateway, decision: Decision) -> dict:
    gateway.require("stage_changes")  # before reading the title: nothing to do where stages cannot move
    current = gateway.title(decision.work_id)
    if current is None:
        raise PermanentError(f"Consonance has no work {decision.work_id}")
    held = current.stage.name if current.stage else None
    if held == decision.from_stage:
        return {"stage": gateway.change_stage(decision.work_id, decision.to_stage).name}
    return {"stage": held, "stage_unchanged": held != decision.to_stage}
