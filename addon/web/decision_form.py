"""The push-decision form as a panel sends it, validated by one marshmallow schema into what decisions.service takes.

Every way a form can be wrong has a stable error code and a sentence the panel shows as it is.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from addon.decisions import service as decisions
from addon.decisions.models import APPROVE_STAGE, DECISION_TYPES
from addon.macros import action_tokens
from addon.macros.views import MACRO_KEYS


class FormRefused(Exception):
    def __init__(self, error: str):
        status, message = FORM_ERRORS[error]
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


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
        error_messages={"required": "bad_decision_type", "invalid": "bad_decision_type", "null": "bad_decision_type"},
    )
    idempotencyKey = fields.String(
        required=True,
        validate=validate.Regexp(action_tokens.IDEMPOTENCY_KEY, error="bad_idempotency_key"),
        error_messages={
            "required": "bad_idempotency_key",
            "invalid": "bad_idempotency_key",
            "null": "bad_idempotency_key",
        },
    )
    text = fields.String(
        load_default="",
        validate=validate.Length(max=decisions.MAX_TEXT, error="text_too_long"),
        error_messages={"invalid": "text_required"},
    )
    workId = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{1,18}$", error="no_title"),
        error_messages={"required": "no_title", "invalid": "no_title", "null": "no_title"},
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


def load(body) -> dict:
    """The form's fields (text stripped), or FormRefused naming the first thing wrong."""
    if not isinstance(body, dict):
        raise FormRefused("bad_request")
    try:
        form = DECISION_FORM.load(body)
    except ValidationError as exc:
        raise FormRefused(_first_code(exc.messages)) from None
    form["text"] = form["text"].strip()
    return form


def _first_code(messages) -> str:
    for name in ("decisionType", "idempotencyKey", "text", "workId", "macro", "pageId"):
        found = messages.get(name) if isinstance(messages, dict) else None
        if found:
            code = found[0] if isinstance(found, list) else str(found)
            return code if code in FORM_ERRORS else "bad_request"
    return "bad_request"
