"""Buttons in macros: push a decision to Consonance, from either transport; and the title picker's search.

Both routes need a real user: Forge, a verified invocation with a principal and the user token;
Connect, a request-bound JWT, or the iframe's fresh context token plus the action token we signed
into the rendered form. The client's idempotency key makes every resend the same decision. Whether
this person may make this decision on this page's title is decisions.service's call, with what
Confluence says about the page (macros.page_binding); the browser's workId is only a claim to check.
"""

from __future__ import annotations

import logging
from functools import partial

from flask import Blueprint, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from addon.admin import access
from addon.consonance.errors import ConsonanceError
from addon.decisions import service as decisions
from addon.decisions.models import APPROVE_STAGE, DECISION_TYPES
from addon.gateways import NotConfigured, gateways
from addon.macros import action_tokens, search, service
from addon.macros.page_binding import ConfluencePageAccess
from addon.macros.views import MACRO_KEYS
from addon.platform.auth import connect_jwt_required, forge_invocation_required
from addon.platform.errors import AuthError

bp = Blueprint("actions", __name__)
log = logging.getLogger("addon.web.actions")

# Each way a form can be wrong: (status, error code, the sentence the panel shows).
FORM_ERRORS = {
    "bad_request": (400, "Send the form as JSON."),
    "bad_decision_type": (422, "Choose approve stage, request changes, hold or note."),
    "bad_idempotency_key": (400, "The form is missing its key; reload the page and try again."),
    "text_too_long": (422, f"Keep the details under {decisions.MAX_TEXT} characters."),
    "text_required": (422, "Write a few words so Consonance records why."),
    "no_title": (422, "This panel shows no title to decide on."),
    "bad_macro": (422, "Unknown macro."),
    "bad_page": (422, "This panel's page is not one Confluence would name; reload the page."),
}


class DecisionForm(Schema):
    """A decision as the panel's form sends it; every error message is a FORM_ERRORS code."""

    class Meta:
        unknown = EXCLUDE

    decisionType = fields.String(
        required=True,
        validate=validate.OneOf(DECISION_TYPES, error="bad_decision_type"),
        error_messages={"required": "bad_decision_type", "invalid": "bad_decision_type"},
    )
    idempotencyKey = fields.String(
        required=True,
        validate=validate.Regexp(action_tokens.IDEMPOTENCY_KEY, error="bad_idempotency_key"),
        error_messages={"required": "bad_idempotency_key", "invalid": "bad_idempotency_key"},
    )
    text = fields.String(
        load_default="",
        validate=validate.Length(max=decisions.MAX_TEXT, error="text_too_long"),
        error_messages={"invalid": "text_required"},
    )
    workId = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{1,18}$", error="no_title"),
        error_messages={"required": "no_title", "invalid": "no_title"},
    )
    macro = fields.String(
        load_default="title-status",
        validate=validate.OneOf(MACRO_KEYS, error="bad_macro"),
        error_messages={"invalid": "bad_macro"},
    )
    pageId = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[0-9]{1,20}$", error="bad_page"),
        error_messages={"invalid": "bad_page"},
    )
    actionToken = fields.String(load_default=None, allow_none=True)

    @pre_load
    def _ids_as_text(self, data, **_):
        """Ids may arrive as JSON numbers; empty ones count as absent."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in ("workId", "pageId"):
            if isinstance(data.get(name), int) and not isinstance(data.get(name), bool):
                data[name] = str(data[name])
            if data.get(name) in ("", None):
                data.pop(name, None)
        if data.get("text") is None:
            data.pop("text", None)
        if not data.get("macro"):
            data.pop("macro", None)
        return data

    @validates_schema
    def _words_unless_approving(self, data, **_):
        if data.get("decisionType") != APPROVE_STAGE and not (data.get("text") or "").strip():
            raise ValidationError("text_required", "text")


DECISION_FORM = DecisionForm()


@bp.errorhandler(decisions.DecisionRefused)
def _refused(exc: decisions.DecisionRefused):
    return jsonify(error=exc.error, message=exc.message), exc.status


def _form() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _form_error("bad_request")
    try:
        form = DECISION_FORM.load(body)
    except ValidationError as exc:
        raise _form_error(_first_code(exc.messages)) from None
    form["text"] = form["text"].strip()
    return form


def _first_code(messages) -> str:
    order = ("decisionType", "idempotencyKey", "text", "workId", "macro", "pageId")
    for name in order:
        found = messages.get(name) if isinstance(messages, dict) else None
        if found:
            code = found[0] if isinstance(found, list) else str(found)
            return code if code in FORM_ERRORS else "bad_request"
    return "bad_request"


def _form_error(code: str) -> decisions.DecisionRefused:
    status, message = FORM_ERRORS[code]
    return decisions.DecisionRefused(status, code, message)


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
        admin_check=partial(access.viewer_administers_site, tenant, user_token=user_token, account_id=actor),
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
        message="Sent to Consonance." if recorded.created else "Already sent — recorded once.",
    ), (201 if recorded.created else 200)


@bp.post("/forge/actions/decision")
@forge_invocation_required
def forge_decision():
    if not g.forge.principal or not g.forge_user_token:
        raise AuthError("user_token_required", "Log in to Confluence to push a decision; then try again.")
    form = _form()
    # The page is the one Forge signed into the invocation token, never one the body names.
    return _record(form, g.forge.principal, g.forge.content_id, user_token=g.forge_user_token)


@bp.post("/connect/actions/decision")
@connect_jwt_required(allow_context_qsh=True)
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
    body = request.get_json(silent=True) or {}
    call = body.get("call") if isinstance(body.get("call"), dict) else {}
    payload = call.get("payload") if isinstance(call.get("payload"), dict) else body
    return _search_answer(payload.get("query"))


@bp.get("/connect/titles/search")
@connect_jwt_required(allow_context_qsh=True)
def connect_title_search():
    """The macro editor's title picker (Connect): `?q=orch` -> choices."""
    return _search_answer(request.args.get("q"))
