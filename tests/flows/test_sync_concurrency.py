"""Two polls of one site at once: the second steps aside instead of queueing the same work twice."""

from __future__ import annotations

import os
import threading

import pytest

from addon.extensions import db
from addon.flows.change_detection import detect_and_dispatch
from addon.platform.models import Tenant

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="row locks need PostgreSQL (SQLite serialises whole transactions)",
)


def test_a_second_poll_steps_aside_while_one_runs(app):
    tenant = Tenant(transport="forge", external_id="inst-poll")
    db.session.add(tenant)
    db.session.commit()
    tenant_id = tenant.id
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def slow_catalogue():
        holding.set()  # the first poll holds its lock while it reads the catalogue
        release.wait(10)
        yield from ()

    def first_poll():
        with app.app_context():
            outcome["first"] = detect_and_dispatch(db.session.get(Tenant, tenant_id), slow_catalogue())

    worker = threading.Thread(target=first_poll)
    worker.start()
    assert holding.wait(10)
    try:
        assert detect_and_dispatch(db.session.get(Tenant, tenant_id), iter(())) == {"skipped": 1}
    finally:
        release.set()
        worker.join(10)
    assert "skipped" not in outcome["first"]
    assert detect_and_dispatch(db.session.get(Tenant, tenant_id), iter(())).get("skipped") is None
