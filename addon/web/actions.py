"""Buttons in macros: push a decision to Consonance, from either transport; and the title picker's search.

Both routes need a real user: Forge, a verified invocation with a principal and the user token;
Connect, a request-bound JWT, or the iframe's fresh context token plus the action token we signed
into the rendered form. The client's idempotency key makes every resend the same decision.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, request

from addon.consonance.errors import ConsonanceError
from addon.decisions import service as decisions
from addon.decisions.models import APPROVE_STAGE, DECISION_TYPES
from addon.gateways import NotConfigured
from addon.macros import action_tokens, search, service
from addon.macros.views import MACRO_KEYS, next_stage_name
from addon.platform.auth import connect_jwt_required, forge_invocation_required
from addon.platform.errors import AuthError

bp = Blueprint("actions", __name__)
log = logging.getLogger("addon.web.actions")


class ActionRefused(Exception):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@bp.errorhandler(ActionRefused)
def _refused(exc: ActionRefused):
    return jsonify(error=exc.error, message=exc.message), exc.status


def _form() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ActionRefused(400, "bad_request", "Send the form as JSON.")
    decision_type = body.get("decisionType")
    if decision_type not in DECISION_TYPES:
        raise ActionRefused(422, "bad_decision_type", "Choose approve stage, request changes, hold or note.")
    key = str(body.get("idempotencyKey") or "")
    if not action_tokens.IDEMPOTENCY_KEY.match(key):
        raise ActionRefused(400, "bad_idempotency_key", "The form is missing its key; reload the page and try again.")
    text = body.get("text") if isinstance(body.get("text"), str) else ""
    if len(text) > decisions.MAX_TEXT:
        raise ActionRefused(422, "text_too_long", f"Keep the details under {decisions.MAX_TEXT} characters.")
    if decision_type != APPROVE_STAGE and not text.strip():
        raise ActionRefused(422, "text_required", "Write a few words so Consonance records why.")
    work_id = str(body.get("workId") or "")
    if not work_id:
        raise ActionRefused(422, "no_title", "This panel shows no title to decide on.")
    macro = body.get("macro") or "title-status"
    if macro not in MACRO_KEYS:
        raise ActionRefused(422, "bad_macro", "Unknown macro.")
    return {
        "decision_type": decision_type,
        "key": key,
        "text": text.strip(),
        "work_id": work_id,
        "macro": macro,
        "page_id": str(body.get("pageId") or "") or None,
        "action_token": body.get("actionToken"),
    }


def _record(form: dict, actor: str, page_id: str | None):
    """Record the decision against the title as the panel showed it (stage from the shared cache)."""
    tenant = g.tenant
    from_stage = to_stage = None
    if form["decision_type"] == APPROVE_STAGE:
        settings = service.get_settings(tenant)
        try:
            lookup, _ = service.lookup_title(
                tenant, service.TitleRef("work", form["work_id"]), settings.macro_freshness_seconds
            )
        except Exception as exc:  # Consonance down with nothing cached, or not configured
            log.warning("cannot read the stage to approve for work %s: %s", form["work_id"], exc)
            raise ActionRefused(
                503,
                "consonance_unavailable",
                "Consonance is not answering, so the stage cannot be approved now. Try again shortly.",
            ) from exc
        title = lookup.value
        if title is None:
            raise ActionRefused(404, "title_not_found", "Consonance has no such title.")
        from_stage = title.stage.name if title.stage else None
        to_stage = next_stage_name(title.stage)
        if not to_stage:
            raise ActionRefused(422, "no_next_stage", "This title has no next stage to approve into.")
    try:
        recorded = decisions.record_decision(
            tenant,
            idempotency_key=form["key"],
            work_id=form["work_id"],
            decision_type=form["decision_type"],
            text=form["text"],
            actor=actor,
            source="macro",
            source_page_id=page_id,
            from_stage=from_stage,
            to_stage=to_stage,
        )
    except decisions.DecisionConflict:
        raise ActionRefused(
            409, "key_reused", "This form was already used for another decision; reload the panel."
        ) from None
    decision = recorded.decision
    return jsonify(
        status="recorded",
        created=recorded.created,
        decisionId=decision.id,
        decisionType=decision.decision_type,
        workId=decision.work_id,
        toStage=decision.to_stage,
        deliveryState=decision.delivery_state,
        message="Sent to Consonance." if recorded.created else "Already sent — recorded once.",
    ), (201 if recorded.created else 200)


@bp.post("/forge/actions/decision")
@forge_invocation_required
def forge_decision():
    if not g.forge.principal or not g.forge_user_token:
        raise AuthError("user_token_required", "Log in to Confluence to push a decision; then try again.")
    form = _form()
    return _record(form, g.forge.principal, g.forge.content_id or form["page_id"])


@bp.post("/connect/actions/decision")
@connect_jwt_required(allow_context_qsh=True)
def connect_decision():
    form = _form()
    if not g.account_id:
        raise AuthError("user_token_required", "Log in to Confluence to push a decision; then try again.")
    if g.connect.context_only:
        try:
            action_tokens.verify(
                form["action_token"],
                tenant_id=g.tenant.id,
                account_id=g.account_id,
                work_id=form["work_id"],
                macro_key=form["macro"],
            )
        except action_tokens.ActionTokenError as exc:
            if exc.reason == "expired":
                raise AuthError("form_expired", "This form has expired. Your text is kept: send it again.") from None
            raise AuthError(
                "bad_action_token", "This form was not issued for you or this title; reload the page.", status=403
            ) from None
    return _record(form, g.account_id, form["page_id"])


def _search_answer(text: str | None):
    try:
        return jsonify(results=search.search_titles(g.tenant, text))
    except NotConfigured as exc:
        return jsonify(results=[], error="not_configured", message=str(exc)), 409
    except ConsonanceError:
        return jsonify(
            results=[],
            error="consonance_unavailable",
            message="Consonance is not answering; type the work id or ISBN instead.",
        ), 503


@bp.post("/forge/titles/search")
@forge_invocation_required
def forge_title_search():
    """The macro config's title picker (Forge): `{"query": "orch"}` -> choices."""
    body = request.get_json(silent=True) or {}
    call = body.get("call") if isinstance(body.get("call"), dict) else {}
    payload = call.get("payload") if isinstance(call.get("payload"), dict) else body
    return _search_answer(payload.get("query"))


@bp.get("/connect/titles/search")
@connect_jwt_required(allow_context_qsh=True)
def connect_title_search():
    """The macro editor's title picker (Connect): `?q=orch` -> choices."""
    return _search_answer(request.args.get("q"))
