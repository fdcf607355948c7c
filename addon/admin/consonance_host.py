"""The Consonance key stays with the address it was saved for, and a failing address is described, not quoted.

An admin may replace the key but never read it, so the saved key is offered only to the saved address:
Test connection or Save for any other address needs the key typed again. What a failing address answered
is never shown (it could be any service, and its words are its own): only which of four things went wrong.
"""

from __future__ import annotations

from dataclasses import replace

from addon.consonance import errors
from addon.consonance.gateway import ConnectionCheck
from addon.platform import tenants
from addon.platform.models import Tenant
from addon.settings.service import get_settings

KEY_FOR_NEW_HOST = (
    "Paste the API key again for this address: the saved key is only ever sent to the address it was saved with."
)
KEY_MISSING = "Paste the API key from Consonance (Settings → API keys) first."


class KeyRequired(Exception):
    """The saved key may not be used for this host; the message says what to type."""


def saved_key_host(tenant: Tenant) -> str:
    """The address the saved key belongs to (a key saved before keys were bound: the saved address)."""
    return tenants.consonance_key_host(tenant) or tenants.normalised_host(get_settings(tenant).consonance_host or "")


def host_changed(tenant: Tenant, host: str) -> bool:
    return tenants.normalised_host(host) != saved_key_host(tenant)


def key_for(tenant: Tenant, host: str, typed_key: str) -> str:
    """The key to try `host` with: the one typed, or the saved one if `host` is the address it was saved for."""
    if typed_key:
        return typed_key
    if host_changed(tenant, host):
        raise KeyRequired(KEY_FOR_NEW_HOST)
    saved = tenants.consonance_key_for(tenant, host)
    if not saved:
        raise KeyRequired(KEY_MISSING)
    return saved


def failure_headline(kind: str, host: str) -> str:
    """One sentence per kind of failure; the host is the address the admin typed, never the service's words."""
    if kind == errors.KEY_REFUSED:
        return (
            "Consonance refused this API key. Copy the key again from Consonance (Settings → API keys), "
            "paste all of it, and try again."
        )
    if kind == errors.TIMED_OUT:
        return f"{host} did not answer in time. Check the address and that Consonance is up, then try again."
    if kind == errors.UNREACHABLE:
        return (
            f"Consonance did not answer at {host}. Check the address (for example "
            "https://web.consonance.app) and that Consonance is up, then try again."
        )
    return (
        f"{host} is not a Consonance API: it does not answer the way Consonance does. Check the address "
        "(the one you open Consonance at, for example https://web.consonance.app)."
    )


_CHECK_FAILED = {
    errors.KEY_REFUSED: "Key refused.",
    errors.TIMED_OUT: "Timed out.",
    errors.UNREACHABLE: "Unreachable.",
    errors.NOT_CONSONANCE: "Not a Consonance API.",
}


def safe_checks(checks: tuple[ConnectionCheck, ...]) -> tuple[ConnectionCheck, ...]:
    """Failed steps say which kind of failure, never what the host answered."""
    return tuple(
        check
        if check.ok
        else replace(check, detail=_CHECK_FAILED.get(check.failure or errors.NOT_CONSONANCE, "Not a Consonance API."))
        for check in checks
    )


def first_failure(checks: tuple[ConnectionCheck, ...]) -> str | None:
    first = checks[0] if checks else None
    return (first.failure or errors.NOT_CONSONANCE) if first is not None and not first.ok else None
