"""Render a macro view model with the shared templates, and shape the Forge/JSON answer.

Jinja compiles each template once per process (Flask's environment caches them), so a cached view
costs a dict walk, not a parse.
"""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from addon.macros import action_tokens
from addon.macros.service import PanelResult


def decision_form(result: PanelResult, *, tenant_id: int, account_id: str | None, with_action_token: bool) -> dict | None:
    """The per-render bits of the push-decision form; None when nobody is logged in or no title is shown."""
    view = result.view
    if view.get("macro") != "title-status" or view.get("kind") != "panel" or not account_id:
        return None
    work_id = view["title"]["workId"]
    form = {"idempotencyKey": action_tokens.new_idempotency_key(), "workId": work_id}
    if with_action_token:
        form["actionToken"] = action_tokens.issue(tenant_id, account_id, work_id, view["macro"])
    return form


def render_panel(view: dict, *, form: dict | None = None, static: bool = False) -> Markup:
    """The panel's HTML; every value from Consonance or the editor is escaped by the templates."""
    return Markup(render_template("macros/panel.html", view=view, form=form, static=static))


def panel_payload(result: PanelResult, *, form: dict | None = None) -> dict:
    """What the Forge resolver and the Connect panel endpoint answer: the HTML plus the view model."""
    view = result.view
    freshness = view.get("freshness") or {}
    return {"macro": view["macro"], "kind": view["kind"], "html": str(render_panel(view, form=form)),
            "viewModel": view, "asOf": freshness.get("asOf"), "stale": freshness.get("stale", False),
            "form": form}
