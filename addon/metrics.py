"""Prometheus metrics: one place defines them, instrumented code calls the small `count_*`/`observe_*` helpers.

The helpers never raise, so a metrics problem can never break a page view, a job or a write.
With several web worker processes set PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram

from addon.utc import as_utc

log = logging.getLogger("addon.metrics")
SLOW_REQUEST_SECONDS = 1.0  # a request this slow is logged, with its route and what the log context knows

REQUEST_SECONDS = Histogram(
    "c4c_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ("route", "method", "status"),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25),
)
MACRO_CACHE = Counter(
    "c4c_macro_cache_lookups_total",
    "Macro cache lookups: hit (fresh), stale (older answer served) or miss (fetched).",
    ("result",),
)
MACRO_LANE = Counter(
    "c4c_macro_lane_requests_total",
    "Macro views the macro lane answered from memory (served), built itself for a first view "
    "(built), or deferred to the full pipeline (refusals, Refresh, errors).",
    ("outcome",),
)
CONSONANCE_CALLS = Counter(
    "c4c_consonance_calls_total", "GraphQL calls to Consonance by operation and outcome.", ("operation", "outcome")
)
CONFLUENCE_CALLS = Counter(
    "c4c_confluence_calls_total",
    "REST calls to Confluence by method and outcome (status class or error).",
    ("method", "outcome"),
)
JOB_SECONDS = Histogram(
    "c4c_job_duration_seconds",
    "Background job run time by kind and outcome.",
    ("kind", "outcome"),
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)


# labelled series by (metric, labels): `labels()` locks and converts on every call
_children: dict[tuple[Counter | Histogram, tuple[object, ...]], Counter | Histogram] = {}


def _safe(action: Counter | Histogram, *labels: object, amount: float | None = None) -> None:
    try:
        key = (action, labels)
        metric = _children.get(key)
        if metric is None:
            metric = _children.setdefault(key, action.labels(*(str(label)[:64] for label in labels)))
        if isinstance(metric, Histogram):
            if amount is not None:  # every histogram helper passes one
                metric.observe(amount)
        else:
            metric.inc(1 if amount is None else amount)
    except Exception:  # metrics must never break the work they measure
        log.debug("metric update failed", exc_info=True)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    _safe(REQUEST_SECONDS, route, method, status, amount=seconds)
    if seconds >= SLOW_REQUEST_SECONDS:
        log.warning("slow request: %s %s answered %d after %.2fs", method, route, status, seconds)


def count_lane(outcome: str) -> None:
    """`served` (from memory), `built` (a first view built before Flask) or `deferred` (to the full pipeline)."""
    _safe(MACRO_LANE, outcome)


def count_cache(result: str) -> None:
    """`hit` (fresh answer), `stale` (an older answer served) or `miss` (Consonance asked)."""
    _safe(MACRO_CACHE, result)


def count_consonance_call(operation: str, outcome: str) -> None:
    _safe(CONSONANCE_CALLS, operation or "operation", outcome)


def count_confluence_call(method: str, status: int | None) -> None:
    """Outcome is the status class (`2xx`, `4xx`, `429`, `5xx`) or `error` when nothing answered."""
    if status is None:
        outcome = "error"
    elif status == 429:
        outcome = "429"
    else:
        outcome = f"{status // 100}xx"
    _safe(CONFLUENCE_CALLS, method.upper(), outcome)


def observe_job(kind: str, outcome: str, seconds: float) -> None:
    _safe(JOB_SECONDS, kind or "job", outcome or "unknown", amount=seconds)


def observe_job_since(kind: str, outcome: str, started: datetime | None) -> None:
    """A job's duration from its stored start time (SQLite hands back naive UTC datetimes)."""
    if started is None:
        return
    observe_job(kind, outcome, (datetime.now(UTC) - as_utc(started)).total_seconds())
