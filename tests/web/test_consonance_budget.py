"""A site's request budget to its Consonance, and its use, on /metrics and the Activity page (Redis-shared)."""

from __future__ import annotations

import re

import pytest
from flask import render_template

from addon.admin import activity


@pytest.fixture
def app_config(app_config, redis_url):
    app_config.update(REDIS_URL=redis_url, CONSONANCE_REQUESTS_PER_MINUTE=120, CONSONANCE_MAX_CONCURRENT=3)
    return app_config


def test_budget_and_its_use_are_shown(app, client, fit, forge_tenant, consonance):
    answer = client.post("/forge/macro/title-status", json={}, headers=fit(config={"title": "3"}))
    assert answer.status_code == 200 and answer.get_json()["kind"] == "panel"
    sent = consonance.control.counters()["total"]
    assert sent >= 1

    text = client.get("/metrics", environ_overrides={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    tenant = forge_tenant.id
    assert re.search(rf'^c4c_consonance_budget_per_minute{{tenant="{tenant}"}} 120\.0$', text, re.M)
    used = re.search(rf'^c4c_consonance_budget_used{{tenant="{tenant}"}} ([0-9.]+)$', text, re.M)
    assert used and float(used.group(1)) >= sent  # counted in Redis, for every process
    assert re.search(rf'^c4c_consonance_in_flight{{tenant="{tenant}"}} 0\.0$', text, re.M)

    with app.test_request_context():
        view = activity.activity_view(forge_tenant)
        html = render_template("admin/activity.html", view=view, active="activity")
    assert view["capabilities"]["budget"]["shared"] is True
    assert re.search(r'Requests to your Consonance: <strong data-budget="used">\d+</strong> of 120 this minute', html)
    assert "of at most 3 at once" in html and "Counted for every process of the app." in html
