"""Render a macro view model with the shared templates, and shape the Forge/JSON answer.

A rendered panel depends only on its view (not on the viewer), so HTML is kept per process by the
view's `render_key` with the decision form's per-viewer values (idempotency key, action token) left as
slots that each response fills in; everything else is escaped once, by the templates, when first rendered.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable

from flask import current_app, render_template
from markupsafe import Markup, escape

from addon.lru import BoundedLRU
from addon.macros import action_tokens
from addon.macros.service import PanelResult

HTML_EXTENSION = "addon.macros.html"
HTML_KEPT = 2048
_SLOT = "c4c-slot-" + secrets.token_hex(12)  # unguessable, so no value from Consonance can contain it
_RAW = "raw-"  # a slot in a JSON payload's `form` object: the value itself, not HTML-escaped
_SLOTS = re.compile(re.escape(_SLOT) + "-((?:raw-)?[A-Za-z]+)")


def decision_form(
    result: PanelResult, *, tenant_id: int, account_id: str | None, with_action_token: bool
) -> dict | None:
    """The per-render bits of the push-decision form; None when nobody is logged in or no title is shown."""
    view = result.view
    if view.get("macro") != "title-status" or view.get("kind") != "panel" or not account_id:
        return None
    work_id = view["title"]["workId"]
    form = {"idempotencyKey": action_tokens.new_idempotency_key(), "workId": work_id}
    if with_action_token:
        form["actionToken"] = action_tokens.issue(tenant_id, account_id, work_id, view["macro"])
    return form


class HtmlMemo(BoundedLRU[tuple, tuple[str, ...]]):
    """Rendered HTML cut at its form slots, by key: the pieces are text, slot name, text, ... text (odd places
    name a form value); HTML_KEPT per process."""

    def __init__(self, size: int = HTML_KEPT):
        super().__init__(size)

    def get_or_render(self, key: tuple, render: Callable[[], str]) -> tuple[str, ...]:
        pieces = self.get(key)
        if pieces is None:
            pieces = tuple(_SLOTS.split(render()))
            self.put(key, pieces)
        return pieces


def _html_memo() -> HtmlMemo:
    memo = current_app.extensions.get(HTML_EXTENSION)
    if memo is None:
        memo = current_app.extensions.setdefault(HTML_EXTENSION, HtmlMemo())
    return memo


def _slots(form: dict | None, prefix: str = "") -> dict | None:
    return None if form is None else {name: f"{_SLOT}-{prefix}{name}" for name in form}


def fill_slots(pieces: tuple[str, ...], form: dict | None, json_string: bool = False) -> str:
    """Put this viewer's form values where the cached text has slots: escaped as the template would, and
    then for a JSON string when the text is a JSON payload."""
    if len(pieces) == 1:
        return pieces[0]
    assert form is not None, "text is cut at slots only where its view had a form"
    filled = list(pieces)
    for at in range(1, len(filled), 2):
        name = filled[at]
        value = str(form[name[len(_RAW) :]]) if name.startswith(_RAW) else str(escape(form[name]))
        filled[at] = json.dumps(value)[1:-1] if json_string else value
    return "".join(filled)


def _shape(key: tuple, form: dict | None) -> tuple:
    return key, (tuple(sorted(form)) if form is not None else None)


def cached_html(key: tuple | None, form: dict | None, render: Callable[[dict | None], str]) -> str:
    """`render(form)` once per key and form shape, then only the form's values change per response."""
    if key is None:
        return render(form)
    return fill_slots(_html_memo().get_or_render(_shape(key, form), lambda: render(_slots(form))), form)


def memoised_html(key: tuple, form: dict | None) -> str | None:
    """`cached_html` for a key already rendered in this process, else None (nothing is rendered)."""
    pieces = _html_memo().get(_shape(key, form))
    return None if pieces is None else fill_slots(pieces, form)


def render_panel(view: dict, *, form: dict | None = None, static: bool = False, key: tuple | None = None) -> Markup:
    """The panel's HTML; every value from Consonance or the editor is escaped by the templates."""
    return Markup(
        cached_html(
            None if key is None else ("panel", static, key),
            form,
            lambda slots: render_template("macros/panel.html", view=view, form=slots, static=static),
        )
    )


def panel_payload(result: PanelResult, *, form: dict | None = None, form_values: dict | None = None) -> dict:
    """What the Forge resolver and the Connect panel endpoint answer: the HTML plus the view model.
    `form_values` (slots, when memoising) stand in for `form` in the payload's own `form` object."""
    view = result.view
    freshness = view.get("freshness") or {}
    return {
        "macro": view["macro"],
        "kind": view["kind"],
        "html": str(render_panel(view, form=form, key=result.render_key)),
        "viewModel": view,
        "asOf": freshness.get("asOf"),
        "stale": freshness.get("stale", False),
        "form": form if form_values is None else form_values,
    }


def payload_json(result: PanelResult, *, form: dict | None = None) -> str:
    """`panel_payload` as its JSON answer, kept per render key with the form's values as slots like the HTML."""
    if result.render_key is None:
        return _json(panel_payload(result, form=form))
    pieces = _html_memo().get_or_render(
        _shape(("payload", result.render_key), form),
        lambda: _json(panel_payload(result, form=_slots(form), form_values=_slots(form, _RAW))),
    )
    return fill_slots(pieces, form, json_string=True)


def cached_payload_json(result: PanelResult, *, form: dict | None = None) -> str | None:
    """`payload_json` already serialised in this process for this render key and form shape, else None."""
    if result.render_key is None:
        return None
    pieces = _html_memo().get(_shape(("payload", result.render_key), form))
    return None if pieces is None else fill_slots(pieces, form, json_string=True)


def _json(payload: dict) -> str:
    """As `jsonify` writes it outside debug mode: the app's JSON provider, compact, one line."""
    return current_app.json.dumps(payload, separators=(",", ":")) + "\n"
