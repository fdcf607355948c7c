"""Buttons in macros: push a decision to Consonance, from either transport; and the title picker's search.

Both routes need a real user: Forge, a verified invocation with a principal and the user token;
Connect, a request-bound JWT, or the iframe's fresh context token plus the action token we signed
into the rendered form. The client's idempotency key makes every resend the same decision. Whether
this person may make this decision on this page's title is decisions.service's call, with what
Confluence says about the page (macros.page_binding); the browser's workId is only a claim to check.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, request

from addon.admin import access
from addon.consonance.errors import ConsonanceError
from addon.decisions import service as decisions
from addon.gateways import NotConfigured, gateways
from addon.macros import action_tokens, search, service
from addon.macros.page_binding import ConfluencePageAccess
from addon.platform.auth import connect_jwt_required, forge_invocation_required
from addon.platform.errors import AuthError
from addon.platform.rate_limits import rate_limited
from addon.web import decision_form
from addon.web.request_input import json_object

bp = Blueprint("actions", __name__)
log = logging.getLogger("addon.web.actions")


@bp.errorhandler(decisions.DecisionRefused)
def _refused(exc: decisions.DecisionRefused):
    return jsonify(error=exc.error, message=exc.message), exc.status


def _form() -> dict:
    try:
        return decision_form.load(request.get_json(silent=True))
    except decision_form.FormRefused as exc:
        raise decisions.DecisionRefused(exc.status, exc.error, exc.message) from None


def _record(form: dict, actor: str, page_id: str | None, *, user_token: str | None):
    """Bind the decision to the page it was made on and record it (decisions.service decides)."""
    tenant = g.tenant
    try:
        client = gateways().confluence(tenant, user_token=user_token)  # Forge: as the user; Connect: as the app
    except NotConfigured as exc:
        raise decisions.DecisionRefused(503, "not_ready", str(exc)) from None
    page = ConfluencePageAccess(
        tenant,
        client,
        actor,
        admin_check=access.admin_check(tenant, user_token=user_token, account_id=actor),
    )
    freshness = service.get_settings(tenant).macro_freshness_seconds

    def read_title(work_id: str):
        return service.lookup_title(tenant, service.TitleRef("work", work_id), freshness)[0].value

    recorded = decisions.decide(
        tenant,
        decisions.PanelDecision(
            decision_type=form["decisionType"],
            work_id=form["workId"],
            text=form["text"],
            idempotency_key=form["idempotencyKey"],
            actor=actor,
            page_id=page_id,
        ),
        page,
        read_title,
    )
    decision = recorded.decision
    return jsonify(
        status="recorded",
        created=recorded.created,
        decisionId=decision.id,
        decisionType=decision.decision_type,
        workId=decision.work_id,
        toStage=decision.to_stage,
        deliveryState=decision.delivery_state,
        message=_recorded_message(recorded.created, decision.delivery_state),
    ), (201 if recorded.created else 200)


def _recorded_message(created: bool, delivery_state: str) -> str:
    """What the panel says: "Sent" only once Consonance has it; until then that it is recorded and on its way
    (the outbox keeps trying while Consonance is down: the editor need not send it again)."""
    if not created:
        return "Already sent — recorded once."
    if delivery_state == "delivered":
        return "Sent to Consonance."
    return "Recorded. It is on its way to Consonance; no need to send it again."


@bp.post("/forge/actions/decision")
@forge_invocation_required
@rate_limited("decision")
def forge_decision():
    if not g.forge.principal or not g.forge_user_token:
        raise AuthError("user_token_required", "Log in to Confluence to push a decision; then try again.")
    form = _form()
    # The page is the one Forge signed into the invocation token, never one the body names.
    return _record(form, g.forge.principal, g.forge.content_id, user_token=g.forge_user_token)


@bp.post("/connect/actions/decision")
@connect_jwt_required(allow_context_qsh=True)
@rate_limited("decision")
def connect_decision():
    form = _form()
    if not g.account_id:
        raise AuthError("user_token_required", "Log in to Confluence to push a decision; then try again.")
    if g.connect.context_only:
        try:
            action_tokens.verify(
                form["actionToken"],
                tenant_id=g.tenant.id,
                account_id=g.account_id,
                work_id=form["workId"],
                macro_key=form["macro"],
            )
        except action_tokens.ActionTokenError as exc:
            if exc.reason == "expired":
                raise AuthError("form_expired", "This form has expired. Your text is kept: send it again.") from None
            raise AuthError(
                "bad_action_token", "This form was not issued for you or this title; reload the page.", status=403
            ) from None
    return _record(form, g.account_id, form["pageId"], user_token=None)


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
    body = json_object()
    call = body.get("call") if isinstance(body.get("call"), dict) else {}
    payload = call.get("payload") if isinstance(call.get("payload"), dict) else body
    return _search_answer(payload.get("query"))


@bp.get("/connect/titles/search")
@connect_jwt_required(allow_context_qsh=True)
def connect_title_search():
    """The macro editor's title picker (Connect): `?q=orch` -> choices. Only for someone logged in, as on
    Forge: on a site open to anonymous readers, the catalogue is not theirs to search."""
    if not g.account_id:
        raise AuthError("user_token_required", "Log in to Confluence to search for titles; then try again.")
    return _search_answer(request.args.get("q"))
