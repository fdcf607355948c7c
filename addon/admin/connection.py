"""The Consonance connection: try a host and key before keeping them, and say what worked in words.

The API key is stored only through the tenant's secret box and is never sent back to a browser;
an admin can replace it, not read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from addon.consonance.capabilities import CapabilityProfile
from addon.consonance.gateway import ConnectionCheck, ConnectionReport, ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection, TransportOptions
from addon.flows import capability_discovery
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


def try_connection(host: str, api_key: str, options: TransportOptions = TEST_OPTIONS) -> ConnectionResult:
    """Run the gateway's step-by-step check against `host` with `api_key`; never raises for Consonance's failures."""
    gateway = ConsonanceGateway(ConsonanceConnection(host=host, api_key=api_key), options)
    try:
        report: ConnectionReport = gateway.test_connection()
    finally:
        gateway.close()
    return _explain(report)


def _explain(report: ConnectionReport) -> ConnectionResult:
    first = report.checks[0] if report.checks else None
    refused = bool(first and not first.ok and "refused the API key" in first.detail)
    unreachable = bool(first and not first.ok and not refused and "unavailable" in first.detail)
    off = [f.label for f in report.capabilities.features() if not f.available] if report.capabilities else []
    if report.ok and off:
        headline = (
            f"Connected to Consonance at {report.host}. It does not offer everything: "
            f"{len(off)} feature(s) are off (see the table below); the rest work."
        )
    elif report.ok:
        headline = f"Connected to Consonance at {report.host}: every check passed."
    elif refused:
        headline = (
            "Consonance refused this API key. Copy the key again from Consonance (Settings → API keys), "
            "paste all of it, and try again."
        )
    elif unreachable:
        headline = (
            f"Consonance did not answer at {report.host}. Check the address (for example "
            "https://web.consonance.app) and that Consonance is up, then try again."
        )
    elif first and not first.ok:
        headline = f"Consonance answered at {report.host} but not as expected: {first.detail}"
    else:
        failed = ", ".join(c.name.lower() for c in report.checks if not c.ok)
        headline = f"Connected, but some checks failed ({failed}): see below."
    return ConnectionResult(
        report.ok,
        headline,
        report.checks,
        refused_key=refused,
        unreachable=unreachable,
        capabilities=report.capabilities,
    )


def remember_capabilities(tenant: Tenant, host: str, api_key: str, result: ConnectionResult, actor: str | None) -> bool:
    """Keep what a Test connection found, when it tested the saved host with the saved key (commits)."""
    saved_host = get_settings(tenant).consonance_host
    if result.capabilities is None or not saved_host or host.rstrip("/") != saved_host.rstrip("/"):
        return False
    if api_key != current_api_key(tenant):
        return False
    capability_discovery.remember(tenant, result.capabilities, actor)
    return True


def stage_names(tenant: Tenant, host: str) -> list[str]:
    """Consonance's project stages for the "counts as acquired" choice; empty when it cannot say quickly."""
    api_key = current_api_key(tenant)
    if not host or not api_key:
        return []
    profile = capability_discovery.stored_profile(tenant)
    if profile is not None and profile.host and profile.host.rstrip("/") != host.rstrip("/"):
        profile = None  # found for another server
    gateway = ConsonanceGateway(ConsonanceConnection(host=host, api_key=api_key), TEST_OPTIONS, profile=profile)
    try:
        return [stage.name for stage in gateway.project_stages()]  # none asked for where Consonance lists none
    except Exception as exc:  # any Consonance failure: the form falls back to typing stage names
        log.info("could not list Consonance stages for the form: %s", exc)
        return []
    finally:
        gateway.close()
