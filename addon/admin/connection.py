"""The Consonance connection: try a host and key before keeping them, and say what worked in words.

The API key is stored only through the tenant's secret box and is never sent back to a browser;
an admin can replace it, not read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from addon.admin import consonance_host
from addon.consonance import errors
from addon.consonance.capabilities import CapabilityProfile
from addon.consonance.gateway import ConnectionCheck, ConnectionReport, ConsonanceGateway
from addon.consonance.host_policy import HostPolicy, HostRefused
from addon.consonance.transport import ConsonanceConnection, TransportOptions
from addon.consonance.wire import KeptConnections
from addon.flows import capability_discovery
from addon.gateways import gateways
from addon.platform import tenants
from addon.platform.models import Tenant
from addon.settings.service import get_settings

log = logging.getLogger("addon.admin.connection")

# An admin is waiting on the button: one try each, a few seconds at most.
TEST_OPTIONS = TransportOptions(connect_timeout=3.0, read_timeout=8.0, max_attempts=1, max_total_seconds=10.0)


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    headline: str
    checks: tuple[ConnectionCheck, ...]
    refused_key: bool = False
    unreachable: bool = False
    host_refused: bool = False
    capabilities: CapabilityProfile | None = None  # what that Consonance offers, when it could be asked

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "headline": self.headline,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "capabilities": capability_discovery.capability_rows(self.capabilities),
        }


def current_api_key(tenant: Tenant) -> str | None:
    return tenants.get_secret(tenant, tenants.CONSONANCE_API_KEY)


def try_connection(
    host: str, api_key: str, options: TransportOptions = TEST_OPTIONS, policy: HostPolicy | None = None
) -> ConnectionResult:
    """Run the gateway's step-by-step check against `host` with `api_key`; never raises for Consonance's failures.

    The address is checked first (consonance.host_policy): a refused address gets nothing, not even a request."""
    policy = policy or gateways().consonance_policy
    try:
        policy.check(host)
    except HostRefused as exc:
        kind = errors.UNREACHABLE if exc.unresolvable else None
        return ConnectionResult(False, exc.reason, (), unreachable=kind is not None, host_refused=kind is None)
    gateway = ConsonanceGateway(
        ConsonanceConnection(host=host, api_key=api_key),
        options,
        connections=KeptConnections.from_environment(host, policy),
    )
    try:
        report: ConnectionReport = gateway.test_connection()
    finally:
        gateway.close()
    return _explain(report)


def _explain(report: ConnectionReport) -> ConnectionResult:
    checks = consonance_host.safe_checks(report.checks)
    failure = consonance_host.first_failure(report.checks)
    refused = failure == errors.KEY_REFUSED
    unreachable = failure in (errors.UNREACHABLE, errors.TIMED_OUT)
    off = [f.label for f in report.capabilities.features() if not f.available] if report.capabilities else []
    if report.ok and off:
        headline = (
            f"Connected to Consonance at {report.host}. It does not offer everything: "
            f"{len(off)} feature(s) are off (see the table below); the rest work."
        )
    elif report.ok:
        headline = f"Connected to Consonance at {report.host}: every check passed."
    elif failure:
        headline = consonance_host.failure_headline(failure, report.host)
    else:
        failed = ", ".join(c.name.lower() for c in report.checks if not c.ok)
        headline = f"Connected, but some checks failed ({failed}): see below."
    return ConnectionResult(
        report.ok,
        headline,
        checks,
        refused_key=refused,
        unreachable=unreachable,
        capabilities=report.capabilities,
    )


def remember_capabilities(tenant: Tenant, host: str, api_key: str, result: ConnectionResult, actor: str | None) -> bool:
    """Keep what a Test connection found, when it tested the saved host with the key saved for it (commits)."""
    saved_host = get_settings(tenant).consonance_host
    if result.capabilities is None or not saved_host or host.rstrip("/") != saved_host.rstrip("/"):
        return False
    if not api_key or api_key != tenants.consonance_key_for(tenant, saved_host):
        return False
    capability_discovery.remember(tenant, result.capabilities, actor)
    return True


def stage_names(tenant: Tenant, host: str) -> list[str]:
    """Consonance's project stages for the "counts as acquired" choice; empty when it cannot say quickly."""
    api_key = tenants.consonance_key_for(tenant, host)
    if not host or not api_key:
        return []
    policy = gateways().consonance_policy
    try:
        policy.check(host)
    except HostRefused:
        return []
    profile = capability_discovery.stored_profile(tenant)
    if profile is not None and profile.host and profile.host.rstrip("/") != host.rstrip("/"):
        profile = None  # found for another server
    gateway = ConsonanceGateway(
        ConsonanceConnection(host=host, api_key=api_key),
        TEST_OPTIONS,
        connections=KeptConnections.from_environment(host, policy),
        profile=profile,
    )
    try:
        return [stage.name for stage in gateway.project_stages()]  # none asked for where Consonance lists none
    except Exception as exc:  # any Consonance failure: the form falls back to typing stage names
        log.info("could not list Consonance stages for the form: %s", exc)
        return []
    finally:
        gateway.close()
