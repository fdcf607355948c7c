"""`/metrics` for Prometheus, and the request timing every route gets.

Protected: with METRICS_TOKEN set, a scrape needs `Authorization: Bearer <token>`; without it,
only loopback callers (a sidecar or an SSH tunnel) are answered, and not what a proxy on the same
machine relays from elsewhere (it arrives from loopback too, with forwarding headers). Outbox depth and age are read
from the database at scrape time, so any one process reports the whole deployment's backlog.
"""

from __future__ import annotations

import hmac
import logging
import os
import time

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from addon import metrics
from addon.extensions import db

bp = Blueprint("metrics", __name__)
log = logging.getLogger("addon.web.metrics")
LOOPBACK = frozenset({"127.0.0.1", "::1"})
# A proxy on the same machine relays from loopback too; what it relays carries one of these.
RELAYED = ("Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host")


@bp.before_app_request
def _start_timer():
    g.metrics_started = time.perf_counter()


@bp.after_app_request
def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None and request.endpoint != "metrics.scrape":
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.observe_request(rule, request.method, response.status_code, time.perf_counter() - started)
    return response


class OutboxCollector:
    """Outbox entries by status and the age of the oldest undelivered one, queried per scrape."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from addon.jobs import outbox

        depth = GaugeMetricFamily("c4c_outbox_entries", "Outbox entries by status (all tenants).", labels=("status",))
        age = GaugeMetricFamily(
            "c4c_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending or in-flight outbox entry was created.",
        )
        try:
            with self.app.app_context():
                counts = outbox.depth()
                oldest = outbox.oldest_age()
                db.session.remove()
        except Exception:
            log.warning("could not read the outbox for metrics", exc_info=True)
            return
        for status, count in sorted(counts.items()):
            depth.add_metric((status,), count)
        age.add_metric((), oldest)
        yield depth
        yield age


class ConsonanceBudgetCollector:
    """Each site's request budget to its Consonance and its use this minute, read from Redis per scrape."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        import sqlalchemy as sa

        from addon.gateways import gateways
        from addon.platform.models import Tenant

        limit = GaugeMetricFamily(
            "c4c_consonance_budget_per_minute",
            "Requests a minute each site may send its Consonance.",
            labels=("tenant",),
        )
        used = GaugeMetricFamily(
            "c4c_consonance_budget_used", "Requests sent to each site's Consonance this minute.", labels=("tenant",)
        )
        in_flight = GaugeMetricFamily(
            "c4c_consonance_in_flight", "Requests in flight to each site's Consonance now.", labels=("tenant",)
        )
        paused = GaugeMetricFamily(
            "c4c_consonance_paused_seconds",
            "Seconds left of a pause a site's Consonance asked for (HTTP 429).",
            labels=("tenant",),
        )
        try:
            with self.app.app_context():
                ids = db.session.execute(
                    sa.select(Tenant.id).where(Tenant.enabled.is_(True), Tenant.uninstalled_at.is_(None))
                ).scalars()
                usages = [(str(i), gateways().budget(db.session.get(Tenant, i)).usage()) for i in ids]
                db.session.remove()
        except Exception:
            log.warning("could not read the Consonance request budgets for metrics", exc_info=True)
            return
        for tenant, usage in usages:
            limit.add_metric((tenant,), usage.per_minute)
            used.add_metric((tenant,), usage.used_this_minute)
            in_flight.add_metric((tenant,), usage.in_flight)
            paused.add_metric((tenant,), usage.paused_for)
        yield from (limit, used, in_flight, paused)


def _authorised() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if token:
        header = request.headers.get("Authorization", "")
        offered = header[7:].strip() if header[:7].lower() == "bearer " else ""
        return bool(offered) and hmac.compare_digest(offered.encode(), token.encode())
    return request.remote_addr in LOOPBACK and not any(name in request.headers for name in RELAYED)


def _registry(app) -> list:
    """Process metrics (or every worker's, in multiprocess mode) plus the database-backed outbox gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
        sources = [registry]
    else:
        sources = [REGISTRY, registry]
    registry.register(OutboxCollector(app))
    registry.register(ConsonanceBudgetCollector(app))
    return sources


@bp.get("/metrics")
def scrape():
    if not _authorised():
        log.info("metrics scrape refused from %s", request.remote_addr)
        return Response(
            "Metrics need the METRICS_TOKEN bearer token (or a loopback caller).\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    app = current_app._get_current_object()
    body = b"".join(generate_latest(source) for source in _registry(app))
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
