"""`/metrics`: the series operators rely on, and that only Prometheus (token) or loopback may read it."""

from __future__ import annotations

import re

import pytest

from addon import metrics
from addon.extensions import db
from addon.jobs import outbox
from addon.jobs.models import FAILED, PENDING, OutboxEntry
from addon.platform.models import Tenant, utcnow

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
    assert match, f"{series} not in metrics"
    return float(match.group(1))


def test_loopback_scrape_without_a_token(client):
    response = client.get("/metrics", environ_overrides=LOOPBACK)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert client.get("/metrics", environ_overrides=ELSEWHERE).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["X-Forwarded-For: 203.0.113.9", "Forwarded: for=203.0.113.9", "X-Real-IP: 203.0.113.9", "X-Forwarded-Host: a.b"],
)
def test_a_request_a_local_proxy_relays_is_not_a_loopback_caller(client, header):
    """nginx or a tunnel on the same machine forwards from 127.0.0.1: without a token, its callers are refused."""
    name, value = header.split(": ", 1)
    response = client.get("/metrics", headers={name: value}, environ_overrides=LOOPBACK)
    assert response.status_code == 401
    assert b"METRICS_TOKEN" in response.data


@pytest.mark.parametrize("header, status", [(None, 401), ("Bearer wrong", 401), ("Bearer s3cret-metrics", 200)])
def test_token_protects_metrics_from_everyone_else(app, client, header, status):
    app.config["METRICS_TOKEN"] = "s3cret-metrics"
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers, environ_overrides=LOOPBACK)  # loopback is not enough now
    assert response.status_code == status


def test_request_latency_is_labelled_by_route_template(client):
    client.get("/healthz")
    client.post("/forge/admin/outbox/12345/retry")  # 401, but timed under its template
    text = client.get("/metrics", environ_overrides=LOOPBACK).get_data(as_text=True)
    assert 'c4c_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}' in text
    assert 'route="/forge/admin/outbox/<int:entry_id>/retry"' in text
    # No label carries the id (a sample *value* may contain those digits by chance, e.g. a duration sum).
    assert re.search(r'="[^"]*12345[^"]*"', text) is None


def test_outbox_depth_and_age_come_from_the_database(client):
    tenant = Tenant(transport="forge", external_id="metrics-site", enabled=True)
    db.session.add(tenant)
    db.session.flush()
    from datetime import timedelta

    for status, age in ((PENDING, 90), (PENDING, 10), (FAILED, 500)):
        db.session.add(
            OutboxEntry(
                tenant_id=tenant.id,
                target="consonance",
                kind="k",
                payload={},
                dedupe_key=f"{status}-{age}",
                status=status,
                created_at=utcnow() - timedelta(seconds=age),
            )
        )
    db.session.commit()
    text = client.get("/metrics", environ_overrides=LOOPBACK).get_data(as_text=True)
    assert _value(text, 'c4c_outbox_entries{status="pending"}') == 2
    assert _value(text, 'c4c_outbox_entries{status="failed"}') == 1
    assert 89 <= _value(text, "c4c_outbox_oldest_pending_age_seconds") < 120
    assert outbox.depth()["pending"] == 2


def test_instrumented_calls_show_up(client):
    def read(series):
        text = client.get("/metrics", environ_overrides=LOOPBACK).get_data(as_text=True)
        match = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
        return float(match.group(1)) if match else 0.0

    before = read('c4c_macro_cache_lookups_total{result="hit"}')
    metrics.count_cache("hit")
    metrics.count_confluence_call("get", 429)
    metrics.count_consonance_call("TitleByWorkId", "ok")
    metrics.observe_job("poll", "ok", 0.2)
    assert read('c4c_macro_cache_lookups_total{result="hit"}') == before + 1
    assert read('c4c_confluence_calls_total{method="GET",outcome="429"}') >= 1
    assert read('c4c_consonance_calls_total{operation="TitleByWorkId",outcome="ok"}') >= 1
    assert read('c4c_job_duration_seconds_count{kind="poll",outcome="ok"}') >= 1


def test_real_consonance_calls_are_counted_by_outcome(client):
    from addon.consonance.errors import ConsonanceAuthError
    from addon.consonance.gateway import ConsonanceGateway
    from addon.consonance.transport import ConsonanceConnection
    from sandbox.consonance.testing import running_sandbox

    with running_sandbox(SEED=1, SIZE=10) as sandbox:
        good = ConsonanceGateway(ConsonanceConnection(sandbox.url, sandbox.api_key))
        bad = ConsonanceGateway(ConsonanceConnection(sandbox.url, "wrong"))
        good.title("1")
        with pytest.raises(ConsonanceAuthError):
            bad.title("1")
        good.close(), bad.close()
    text = client.get("/metrics", environ_overrides=LOOPBACK).get_data(as_text=True)
    assert _value(text, 'c4c_consonance_calls_total{operation="TitleByWorkId",outcome="ok"}') >= 1
    assert _value(text, 'c4c_consonance_calls_total{operation="TitleByWorkId",outcome="auth_refused"}') >= 1
