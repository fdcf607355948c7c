"""Decisions, owned in one place: who may make one on which title, the stage move it approves,
recording it with its write to Consonance, and how far that write has got.

A decision is keyed by the idempotency key its form was rendered with: a double-click, a retried
request or two tabs sending the same form make one Decision and one outbox entry. The outbox
handler writes one note (externalRef = the key) and, for "approve stage", moves the work on.

A decision from a panel is bound to the page it was made on: the title must be one a title-status
macro on that page shows (read from the page, never taken from the browser), the person must be
allowed to edit that page, and a stage move needs the role the admin chose (`stage_approvers`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from addon.confluence.people import DISPLAY_NAMES, UNKNOWN_PERSON
from addon.consonance.errors import FeatureUnavailable
from addon.decisions.models import (
    APPROVE_STAGE,
    DECISION_LABELS,
    DECISION_TYPES,
    NOT_SENT,
    Decision,
)
from addon.extensions import db
from addon.gateways import gateways
from addon.jobs.models import FAILED, OutboxEntry
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.unique import insert_once
from addon.platform import own_writes
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.publishing.domain import Title
from addon.publishing.stages import next_stage_name
from addon.settings.service import get_settings

log = logging.getLogger("addon.decisions")

PUSH_KIND = "consonance.push_decision"
STAGE_STATUS_KIND = "confluence.stage_status"  # handled by flows.stage_status (rewrites the home's status region)
MAX_TEXT = 5000
PAGE_EDITORS, SITE_ADMINS = "page_editors", "site_admins"  # settings.stage_approvers
__all__ = ["DECISION_LABELS", "decide", "dedupe_key", "delivery_states", "record_decision", "stage_move"]


class DecisionRefused(Exception):
    """The decision may not be made: `status`, a stable `error` code and a sentence the panel shows."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


class AccessUnavailable(Exception):
    """Confluence did not say what the page shows or whether the person may edit it (the decision waits)."""


class PageAccess(Protocol):
    """What Confluence says about the page a decision was made on, as the person deciding."""

    def titles_shown(self, page_id: str) -> frozenset[str]:
        """Work ids the title-status macros on the page show (from the page's stored macro parameters)."""

    def can_edit(self, page_id: str) -> bool:
        """Whether the person deciding may edit the page."""

    def is_site_admin(self) -> bool:
        """Whether the person deciding administers the site."""


@dataclass(frozen=True)
class PanelDecision:
    """A decision as a person sent it from a title panel (already validated for shape)."""

    decision_type: str
    work_id: str
    text: str
    idempotency_key: str
    actor: str
    page_id: str | None


class DecisionConflict(Exception):
    """The idempotency key was already used for a different decision (another user, title or type)."""


@dataclass(frozen=True)
class Recorded:
    decision: Decision
    created: bool


def stage_move(title: Title | None, to_stage: str | None = None) -> tuple[str | None, str | None]:
    """(from, to) of an approved stage move: from the stage the title holds now, to the stage named
    (a Decision log line may name one) or else the next in the workflow."""
    held = title.stage.name if title is not None and title.stage else None
    return held, (to_stage or next_stage_name(title.stage if title is not None else None))


def decide(
    tenant: Tenant, decision: PanelDecision, access: PageAccess, read_title: Callable[[str], Title | None]
) -> Recorded:
    """Check the decision is this person's to make on this page's title, work out a stage move, record it.

    Raises DecisionRefused with the sentence the panel shows; `read_title` may raise when Consonance is down."""
    if not decision.page_id:
        raise DecisionRefused(
            403, "no_page", "This panel is not on a page, so the decision cannot be checked. Open the page and retry."
        )
    try:
        # Who may edit the page first: what it shows is only asked for someone who may, so nobody learns
        # which titles a page they cannot open shows from which refusal they get.
        if not access.can_edit(decision.page_id):
            raise DecisionRefused(
                403,
                "cannot_edit_page",
                "Only people who can edit this page can record decisions from it. "
                "Ask someone who can edit the page, or ask for edit permission.",
            )
        if decision.work_id not in access.titles_shown(decision.page_id):
            log.warning(
                "decision refused: work %s is not shown on page %s",
                decision.work_id,
                decision.page_id,
                extra={"tenant": tenant.id, "actor": decision.actor},
            )
            raise DecisionRefused(
                403,
                "title_not_on_page",
                "This page does not show that title, so the decision was not recorded. "
                "Reload the page and decide on the title its panel shows.",
            )
        approving = decision.decision_type == APPROVE_STAGE
        if approving and get_settings(tenant).stage_approvers == SITE_ADMINS and not access.is_site_admin():
            raise DecisionRefused(
                403,
                "approver_role",
                "On this site only Confluence site admins may approve a stage move. "
                "You can still request changes, hold or add a note.",
            )
    except AccessUnavailable:
        raise DecisionRefused(
            503,
            "confluence_unavailable",
            "Confluence did not confirm you may decide on this page just now. Your text is kept: try again shortly.",
        ) from None
    from_stage = to_stage = None
    if approving:
        try:
            title = read_title(decision.work_id)
        except Exception as exc:  # Consonance down with nothing cached, or not configured
            log.warning("cannot read the stage to approve for work %s: %s", decision.work_id, exc)
            raise DecisionRefused(
                503,
                "consonance_unavailable",
                "Consonance is not answering, so the stage cannot be approved now. Try again shortly.",
            ) from None
        if title is None:
            raise DecisionRefused(404, "title_not_found", "Consonance has no such title.")
        from_stage, to_stage = stage_move(title)
        if not to_stage:
            raise DecisionRefused(422, "no_next_stage", "This title has no next stage to approve into.")
    try:
        return record_decision(
            tenant,
            idempotency_key=decision.idempotency_key,
            work_id=decision.work_id,
            decision_type=decision.decision_type,
            text=decision.text,
            actor=decision.actor,
            source="macro",
            source_page_id=decision.page_id,
            from_stage=from_stage,
            to_stage=to_stage,
        )
    except DecisionConflict:
        raise DecisionRefused(
            409, "key_reused", "This form was already used for another decision; reload the panel."
        ) from None


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
    decision = db.session.get_one(Decision, decision_id)
    if not created:
        db.session.rollback()
        decision = db.session.get_one(Decision, decision_id)
        if (decision.actor, decision.work_id, decision.decision_type) != (actor, str(work_id), decision_type):
            raise DecisionConflict(idempotency_key)
        return Recorded(decision, False)
    enqueue(tenant, "consonance", PUSH_KIND, {"decision_id": decision_id}, dedupe_key=dedupe_key(decision_id))
    db.session.commit()
    if decision_type == APPROVE_STAGE and to_stage:
        own_writes.stage_move_pending(tenant.id, str(work_id), from_stage, to_stage)  # the panel says "pending"
    log.info("decision %s recorded (%s on work %s)", decision_id, decision_type, work_id)
    return Recorded(decision, True)


def dedupe_key(decision_id: int) -> str:
    """The outbox key of a decision's write to Consonance: one write per decision, however often it is sent."""
    return f"decision:{decision_id}"


@dataclass(frozen=True)
class Delivery:
    """How far a decision's write to Consonance has got: pending, retrying, delivered, failed or not sent (and why)."""

    state: str
    reason: str = ""


def delivery_states(tenant: Tenant, decisions: Iterable[Decision]) -> dict[int, Delivery]:
    """Each decision's delivery, from the decision and its outbox write (one query for them all)."""
    decisions = list(decisions)
    keys = [dedupe_key(d.id) for d in decisions]
    entries = (
        {
            e.dedupe_key: e
            for e in db.session.execute(
                tenant_query(OutboxEntry, tenant).where(OutboxEntry.dedupe_key.in_(keys))
            ).scalars()
        }
        if keys
        else {}
    )
    states = {}
    for decision in decisions:
        entry, state = entries.get(dedupe_key(decision.id)), decision.delivery_state
        if state == NOT_SENT:  # settled: this Consonance does not accept the write (the entry says why)
            reason = (entry.result or {}).get("not_sent") if entry is not None else None
            states[decision.id] = Delivery(NOT_SENT, reason or "your Consonance does not accept it")
        elif entry is not None and entry.status == FAILED and state != "delivered":
            states[decision.id] = Delivery("failed", entry.last_error or "")
        elif entry is not None and state != "delivered" and entry.attempts and entry.last_error:
            states[decision.id] = Delivery("retrying", entry.last_error)
        else:
            states[decision.id] = Delivery(state)
    return states


def note_text(decision: Decision, who: str | None = None, page_title: str | None = None, url: str | None = None) -> str:
    """The note Consonance gets: what was decided, by whom (by name), on which page (with its link), and the
    editor's words; account and page ids are never written (without names: "Confluence", no "by")."""
    label = DECISION_LABELS.get(decision.decision_type)
    head = label.recorded if label else decision.decision_type
    if decision.decision_type == APPROVE_STAGE and decision.from_stage and decision.to_stage:
        head += f": {decision.from_stage} → {decision.to_stage}"
    source = f"“{page_title}” in Confluence" if page_title else "Confluence"
    by = f" by {who}" if who else ""
    body = decision.text.strip()
    return f"{head} ({source}{by})" + (f"\n{url}" if url else "") + (f"\n\n{body}" if body else "")


def _attribution(tenant: Tenant, decision: Decision) -> dict:
    """Who decided and on which page, by name, for the note (nothing when Confluence cannot say)."""
    found: dict = {}
    try:
        client = gateways().confluence(tenant)
        if decision.actor:
            name = DISPLAY_NAMES.name(tenant.id, client, decision.actor)
            found["who"] = name if name != UNKNOWN_PERSON else None
        if decision.source_page_id:
            found["page_title"] = client.get_page(decision.source_page_id).title
            site = (tenant.api_base_url or "").rstrip("/")
            found["url"] = f"{site}/wiki/pages/viewpage.action?pageId={decision.source_page_id}" if site else None
    except Exception as exc:  # the note still goes, with less attribution: a lookup is never worth a lost note
        log.info("decision %s: attribution lookup failed for tenant %s: %s", decision.id, tenant.id, exc)
    return found


def _mirror_delivery(tenant: Tenant, payload: dict, status: str) -> None:
    """A write that failed for good shows as failed on the decision; an admin's Retry makes it pending."""
    decision = db.session.get(Decision, payload.get("decision_id"))
    if decision is not None and decision.tenant_id == tenant.id:
        decision.delivery_state = status
        if decision.decision_type == APPROVE_STAGE and decision.to_stage:
            if status == "failed":  # the panel stops saying "pending" and offers the approval again
                own_writes.stage_move_abandoned(tenant.id, decision.work_id)
            else:
                own_writes.stage_move_pending(tenant.id, decision.work_id, decision.from_stage, decision.to_stage)


@outbox_handler(PUSH_KIND, on_status=_mirror_delivery)
def push_decision(tenant: Tenant, payload: dict) -> dict:
    """Write the decision to Consonance: one note keyed by the decision key, then the stage change.

    Both writes converge on retry: the note by its externalRef, the stage change by only moving a work
    that is still in the stage the decision approved (a repeat finds it already moved). A write this
    tenant's Consonance does not accept is not sent, and the entry settles instead of retrying: the
    decision stays in Confluence's decision log marked "not sent", with the reason.
    """
    decision = db.session.get(Decision, payload["decision_id"])
    if decision is None or decision.tenant_id != tenant.id:
        raise PermanentError("the decision no longer exists")
    gateway = gateways().consonance(tenant)
    result: dict = {}
    not_sent: list[str] = []
    try:
        note = gateway.add_note(
            decision.work_id, note_text(decision, **_attribution(tenant, decision)), decision.idempotency_key
        )
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
        log.info("decision %s not (fully) sent: %s", decision.id, result["not_sent"])
    decision.delivery_state = NOT_SENT if not_sent and not result.keys() - {"not_sent"} else "delivered"
    if decision.decision_type == APPROVE_STAGE and decision.to_stage and "stage" not in result:
        own_writes.stage_move_abandoned(tenant.id, decision.work_id)  # the panel stops saying "pending"
    if decision.delivery_state == NOT_SENT:
        return result
    own_writes.title_changed(tenant.id, decision.work_id, written_by_us=True)  # every process reads it afresh
    if result.get("stage") and not result.get("stage_unchanged"):  # the home page's status region follows now
        enqueue(
            tenant,
            "confluence",
            STAGE_STATUS_KIND,
            {"work_id": str(decision.work_id)},
            dedupe_key=f"decision:{decision.id}:stage",
        )
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
