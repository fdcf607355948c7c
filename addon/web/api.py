"""JSON API both transports' front ends call (request-bound tokens only)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from addon.extensions import db
from addon.platform.auth import app_token_required
from addon.platform.errors import Forbidden
from addon.platform.models import AuditEntry, tenant_query
from addon.web.site_admin import AdminRefused, current_site_admin

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.errorhandler(AdminRefused)
def _not_a_site_admin(exc: AdminRefused):
    """The admin page's sentence, as JSON: nothing of what was asked for."""
    return jsonify(error=exc.error, message=exc.message), exc.status


def owned_or_forbidden(model, row_id: int):
    """A tenant's own row, or 403: another tenant's row and a missing one look the same."""
    row = db.session.execute(tenant_query(model, g.tenant).where(model.id == row_id)).scalar_one_or_none()
    if row is None:
        raise Forbidden("not_available", "That item is not available to this Confluence site.")
    return row


@bp.get("/audit/<int:entry_id>")
@app_token_required
def audit_entry(entry_id: int):
    """One line of the site's audit log: the site admin's record, so only a site admin reads it."""
    current_site_admin()
    entry = owned_or_forbidden(AuditEntry, entry_id)
    return jsonify(id=entry.id, at=entry.at.isoformat(), actor=entry.actor, action=entry.action, detail=entry.detail)
