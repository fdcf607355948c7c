"""Each tenant's way to the two outside systems, built from its settings and secrets.

The one access path: `create_app` registers an implementation of `Gateways` with `register_gateways`,
and everything that reaches Consonance or Confluence (flows, outbox handlers, decisions, macros, admin,
blueprints) asks `gateways()`. Tests point a tenant at the sandboxes by configuration, or register a
fake the same way, never by patching. `TenantGateways` reuses each tenant's clients (one HTTP
connection pool each) until the tenant's host or key changes.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Protocol

from flask import Flask, current_app

from addon.confluence.auth import ConnectAuth, ForgeAuth
from addon.confluence.client import ConfluenceClient
from addon.consonance.budget import WAKE_PREFIX, RequestBudget
from addon.consonance.capabilities import CapabilityProfile
from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.host_policy import HostPolicy, HostRefused, parse_allowed_hosts
from addon.consonance.transport import ConsonanceConnection
from addon.consonance.wire import KeptConnections
from addon.platform import invalidation, tenants
from addon.platform.models import Tenant
from addon.settings.service import get_settings

log = logging.getLogger("addon.gateways")
EXTENSION_KEY = "addon.gateways"


class NotConfigured(Exception):
    """The tenant has not given us what this needs yet; the message says what to do."""


class Gateways(Protocol):
    """What the app asks of the outside systems, per tenant."""

    @property
    def consonance_policy(self) -> HostPolicy:
        """Which Consonance addresses may receive an API key."""
        ...

    def consonance(self, tenant: Tenant) -> ConsonanceGateway:
        """The tenant's Consonance gateway; NotConfigured when it is not connected."""
        ...

    def confluence(self, tenant: Tenant, user_token: str | None = None) -> ConfluenceClient:
        """A Confluence client acting as the app, or as the viewing user; NotConfigured when it cannot."""
        ...

    def budget(self, tenant: Tenant) -> RequestBudget:
        """The tenant's request budget to its Consonance."""
        ...


class TenantGateways:
    """`Gateways` built from each tenant's settings and secrets, cached per process."""

    def __init__(self, app_key: str, consonance_policy: HostPolicy | None = None):
        self.app_key = app_key
        self.consonance_policy = consonance_policy or HostPolicy()
        self._consonance: dict[int, tuple[str, ConsonanceGateway]] = {}
        self._budgets: dict[int, RequestBudget] = {}
        self._woken_by_bus = False  # this process listens for places freed elsewhere (once, on the app's bus)
        self._refused: dict[int, str] = {}  # tenant -> host and key fingerprint the address policy refused
        self._profiles: dict[int, tuple[dict | None, CapabilityProfile | None]] = {}  # tenant -> (stored, read)
        self._lock = threading.Lock()

    def budget(self, tenant: Tenant) -> RequestBudget:
        """The tenant's request budget to its Consonance (one per process, counted in Redis for all of them)."""
        with self._lock:
            found = self._budgets.get(tenant.id)
            if found is None:
                from addon.platform.services import view_redis

                bus = invalidation.bus(current_app)
                found = self._budgets[tenant.id] = RequestBudget(
                    f"tenant-{tenant.id}",
                    current_app.config.get("CONSONANCE_REQUESTS_PER_MINUTE") or 3000,
                    current_app.config.get("CONSONANCE_MAX_CONCURRENT") or 8,
                    view_redis(),
                    wake_channel=bus.channel if bus is not None else "",
                )
                if bus is not None and not self._woken_by_bus:
                    self._woken_by_bus = True
                    bus.listen(WAKE_PREFIX, self._wake_budget, lambda: None)
            return found

    def _wake_budget(self, message: str) -> None:
        """A place came free elsewhere while requests were queued: this process's waiter for it looks now, if
        the place is its (`budget-freed:<name>:<tokens>`; a message naming no tokens wakes it anyway)."""
        name, _, served = message.partition(":")
        for budget in list(self._budgets.values()):
            if budget.name == name:
                budget.woken(served or None)

    def _stored_profile(self, tenant_id: int, stored: dict | None) -> CapabilityProfile | None:
        """The profile the settings hold, read once per stored copy (the settings cache hands out the same
        one until they change): a view asks for the gateway twice, and a profile works out what it derives
        (`has`, the feature statuses) once."""
        known = self._profiles.get(tenant_id)
        if known is not None and known[0] is stored:
            return known[1]
        profile = CapabilityProfile.from_dict(stored)
        self._profiles[tenant_id] = (stored, profile)
        return profile

    def consonance(self, tenant: Tenant) -> ConsonanceGateway:
        """The tenant's gateway, building its operations for what the tenant's Consonance was last found to offer."""
        settings = get_settings(tenant)
        host = settings.consonance_host
        api_key = tenants.consonance_key_for(tenant, host)  # None when the host is not the one the key was saved for
        if not host or not api_key:
            raise NotConfigured(
                "Consonance is not connected yet: an admin can connect it on the "
                "Consonance for Confluence configuration page."
            )
        profile = self._stored_profile(tenant.id, settings.values.get("consonance_capabilities"))
        if profile is not None and profile.host and profile.host.rstrip("/") != host.rstrip("/"):
            profile = None  # found for another server: not checked yet for this one
        fingerprint = hashlib.sha256(f"{host}\0{api_key}".encode()).hexdigest()
        budget = self.budget(tenant)
        with self._lock:
            cached = self._consonance.get(tenant.id)
            if cached and cached[0] == fingerprint:
                # The stored profile, unless the gateway found out something newer itself (a refused document).
                if profile is not None and (cached[1].profile.checked_at or "") <= (profile.checked_at or ""):
                    cached[1].profile = profile
                return cached[1]
            refused = self._refused.get(tenant.id) == fingerprint
        if not refused:
            try:
                self.consonance_policy.check(host)
            except HostRefused as exc:
                # A name that does not resolve just now is an outage, not a refusal: the connection
                # check (wire.KeptConnections) still guards whatever it resolves to later.
                if not exc.unresolvable:
                    log.warning("tenant %s: Consonance address refused: %s", tenant.id, exc.reason)
                    refused = True
                    with self._lock:
                        self._refused[tenant.id] = fingerprint  # asked again only when the host or key changes
        if refused:
            raise NotConfigured(
                "Consonance is not connected: its saved address may not receive the API key. "
                "An admin can enter the address again on the configuration page."
            )
        with self._lock:
            cached = self._consonance.get(tenant.id)
            if cached and cached[0] == fingerprint:
                return cached[1]
            gateway = ConsonanceGateway(
                ConsonanceConnection(host=host, api_key=api_key),
                connections=KeptConnections.from_environment(host, self.consonance_policy),
                profile=profile,
                budget=budget,
            )
            if cached:
                cached[1].close()
            self._consonance[tenant.id] = (fingerprint, gateway)
            return gateway

    def confluence(self, tenant: Tenant, user_token: str | None = None) -> ConfluenceClient:
        """A client acting as the app (system token / shared secret), or as the viewing user."""
        if tenant.transport == tenants.FORGE:
            token = user_token or tenants.kept_secret(tenant, tenants.FORGE_SYSTEM_TOKEN)
            if not token:
                raise NotConfigured(
                    "Forge has not handed this app a token for the site yet; "
                    "it arrives with the next call from Confluence."
                )
            return ConfluenceClient(ForgeAuth(_site_address(tenant), token))
        secret = tenants.kept_secret(tenant, tenants.SHARED_SECRET)
        if not secret:
            raise NotConfigured("This site has uninstalled the app.")
        return ConfluenceClient(ConnectAuth(_site_address(tenant), self.app_key, tenant.external_id, secret))

    @classmethod
    def from_config(cls, app: Flask) -> TenantGateways:
        """The production gateways: the app's key, and the Consonance addresses its configuration allows."""
        policy = HostPolicy(parse_allowed_hosts(app.config.get("CONSONANCE_ALLOWED_HOSTS", "")))
        return cls(app.config["APP_KEY"], policy)


def _site_address(tenant: Tenant) -> str:
    """The site's Confluence address, which Confluence gives the app when it installs it."""
    if not tenant.api_base_url:
        raise NotConfigured("Confluence has not told the app this site's address yet.")
    return tenant.api_base_url


def register_gateways(app: Flask, implementation: Gateways) -> None:
    """Make `implementation` what `gateways()` answers in this app (create_app; a test registers a fake)."""
    app.extensions[EXTENSION_KEY] = implementation


def gateways() -> Gateways:
    """The current app's gateways, as registered."""
    registered: Gateways = current_app.extensions[EXTENSION_KEY]
    return registered
