"""Who is a site admin, as Confluence itself reports it: the one check for the admin pages and the audit API.

Forge asks as the viewing user with their own token (`x-forge-oauth-user`); Connect asks as the app about the
signed token's account. Either way the answer comes from `addon/admin/access.py`; a refusal is `AdminRefused`,
which each blueprint answers in its own shape (the admin page with HTML, the API with JSON).
"""

from __future__ import annotations

from flask import g

from addon.admin import access
from addon.confluence.client import ConfluenceClient
from addon.gateways import NotConfigured, gateways
from addon.platform import tenants


class AdminRefused(Exception):
    """Not (or not provably) a site admin: the HTTP status, a stable error code and the sentence to show."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def forge_site_admin() -> tuple[str, ConfluenceClient]:
    """The viewing user must be logged in and a site admin; their own token picks pages (what they can see)."""
    if not g.forge.principal or not g.forge_user_token:
        raise AdminRefused(
            403, "user_token_required", "Log in to Confluence to open the Consonance for Confluence settings."
        )
    try:
        client = gateways().confluence(g.tenant, user_token=g.forge_user_token)
    except NotConfigured as exc:
        raise AdminRefused(503, "not_ready", str(exc)) from None
    verdict = access.check_current_user(client, g.forge.principal)
    if not verdict.allowed:
        raise AdminRefused(403, "not_site_admin", verdict.reason)
    return g.forge.principal, client


def connect_site_admin() -> tuple[str, ConfluenceClient]:
    """The signed token's account must be a site admin, asked as the app."""
    try:
        client = gateways().confluence(g.tenant)
    except NotConfigured as exc:
        raise AdminRefused(503, "not_ready", str(exc)) from None
    verdict = access.check_account(client, g.account_id)
    if not verdict.allowed:
        raise AdminRefused(403, "not_site_admin", verdict.reason)
    return g.account_id, client


def current_site_admin() -> tuple[str, ConfluenceClient]:
    """For routes either transport calls (`app_token_required`): the check of the transport that authenticated
    this request, known by its tenant (a Forge site is reached only with a FIT, a Connect site with its JWT)."""
    if g.tenant.transport == tenants.FORGE:
        return forge_site_admin()
    return connect_site_admin()
