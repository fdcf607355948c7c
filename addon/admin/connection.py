"""The Consonance connection: try a host and key before keeping them, and say what worked in words.

The API key is stored only through the tenant's secret box and is never sent back to a browser;
an admin can replace it, not read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from addon.admin import consonance_host
from addon.consonance import errors
from addon.consonance.gateway import ConnectionCheck, ConnectionReport, ConsonanceGateway
from addon.consonance.host_policy import HostPolicy, HostRefused, vetted_session
from addon.consonance.transport import ConsonanceConnection, TransportOptions
from addon.gateways import gateways
from addon.platform import tenants
from addon.platform.models import Tenant

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

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "headline": self.headline,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
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
        ConsonanceConnection(host=host, api_key=api_key), options, session=vetted_session(policy)
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
    if report.ok:
        headline = f"Connected to Consonance at {report.host}: every check passed."
    elif failure:
        headline = consonance_host.failure_headline(failure, report.host)
    else:
        failed = ", ".join(c.name.lower() for c in report.checks if not c.ok)
        headline = f"Connected, but some checks failed ({failed}): see below."
    return ConnectionResult(report.ok, headline, checks, refused_key=refused, unreachable=unreachable)


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
    gateway = ConsonanceGateway(
        ConsonanceConnection(host=host, api_key=api_key), TEST_OPTIONS, session=vetted_session(policy)
    )
    try:
        return [stage.name for stage in gateway.project_stages()]
    except Exception as exc:  # any Consonance failure: the form falls back to typing stage names
        log.info("could not list Consonance stages for the form: %s", exc)
        return []
    finally:
        gateway.close()
