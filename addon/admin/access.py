"""Only site admins, as Confluence itself reports them, may open or change the configuration.

Confluence Cloud REST v1 answers a user with `expand=operations`; a site admin's operations include
`{"operation": "administer", "targetType": "application"}` (User / OperationCheckResult in the v1 spec).
Forge asks as the viewing user (`/user/current` with the user token); Connect asks as the app about the
token's account (`/user?accountId=`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from addon.confluence.client import ConfluenceClient
from addon.confluence.errors import ConfluenceError

log = logging.getLogger("addon.admin.access")

CURRENT_USER = "/wiki/rest/api/user/current"
USER = "/wiki/rest/api/user"


@dataclass(frozen=True)
class AdminCheck:
    allowed: bool
    account_id: str | None
    display_name: str = ""
    reason: str = ""  # why not, in the admin's words


def administers_site(user: dict) -> bool:
    """True when the user's operations include administering the application (the site)."""
    for operation in user.get("operations") or ():
        if (
            isinstance(operation, dict)
            and operation.get("operation") == "administer"
            and operation.get("targetType") == "application"
        ):
            return True
    return False


def _verdict(user: dict, account_id: str | None) -> AdminCheck:
    name = str(user.get("displayName") or user.get("publicName") or "")
    if administers_site(user):
        return AdminCheck(True, account_id or user.get("accountId"), name)
    return AdminCheck(
        False,
        account_id or user.get("accountId"),
        name,
        "Only Confluence site admins can open the Consonance for Confluence settings. "
        "Ask a site admin to change them, or to make you a site admin.",
    )


def _unreachable(account_id: str | None, exc: ConfluenceError) -> AdminCheck:
    log.warning("could not ask Confluence whether %s is a site admin: %s", account_id, exc)
    return AdminCheck(
        False,
        account_id,
        "",
        "Confluence did not say whether you are a site admin, so the settings stay closed. "
        "Reload the page in a minute.",
    )


def _get_user(client: ConfluenceClient, path: str, params: dict) -> dict:
    response = client.request("GET", path, params=params)
    try:
        user = response.json()
    except ValueError:
        raise ConfluenceError(response.status_code, "Confluence answered the user lookup without JSON") from None
    return user if isinstance(user, dict) else {}


def check_current_user(user_client: ConfluenceClient, account_id: str | None) -> AdminCheck:
    """Forge: ask as the viewing user (their own token), which is what Confluence itself would show them."""
    try:
        user = _get_user(user_client, CURRENT_USER, {"expand": "operations"})
    except ConfluenceError as exc:
        return _unreachable(account_id, exc)
    if account_id and user.get("accountId") and user["accountId"] != account_id:
        return AdminCheck(False, account_id, "", "The Confluence user token does not match this request.")
    return _verdict(user, account_id)


def check_account(app_client: ConfluenceClient, account_id: str | None) -> AdminCheck:
    """Connect: ask as the app about the account the signed token names."""
    if not account_id:
        return AdminCheck(False, None, "", "Log in to Confluence to open the Consonance for Confluence settings.")
    try:
        user = _get_user(app_client, USER, {"accountId": account_id, "expand": "operations"})
    except ConfluenceError as exc:
        return _unreachable(account_id, exc)
    return _verdict(user, account_id)


def admin_check(tenant, *, user_token: str | None, account_id: str | None) -> Callable[[], bool]:
    """`viewer_administers_site` for this viewer, asked only if a view turns out to need it."""
    return partial(viewer_administers_site, tenant, user_token=user_token, account_id=account_id)


def viewer_administers_site(tenant, *, user_token: str | None, account_id: str | None) -> bool:
    """For messages that differ for admins (e.g. "connect Consonance on the configuration page"): Forge asks
    as the viewer with their own token, Connect asks as the app about the signed account; False when
    Confluence cannot say. Costs one Confluence call, so callers ask only on those rare paths."""
    from addon.gateways import NotConfigured, gateways

    try:
        if tenant.transport == "forge":
            if not user_token:
                return False
            return check_current_user(gateways().confluence(tenant, user_token=user_token), account_id).allowed
        return check_account(gateways().confluence(tenant), account_id).allowed
    except NotConfigured:
        return False
