"""Event dedupe: a re-delivered or concurrently delivered event is accepted exactly once."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from addon.extensions import db
from addon.jobs.events import record_event_once
from addon.jobs.models import ProcessedEvent
from addon.platform.models import Tenant


def test_first_delivery_only(tenant, other_tenant):
    assert record_event_once(tenant, "forge", "page:123:v4") is True
    db.session.commit()
    assert record_event_once(tenant, "forge", "page:123:v4") is False
    assert record_event_once(tenant, "forge", "page:123:v5") is True
    assert record_event_once(tenant, "connect", "page:123:v4") is True
    assert record_event_once(other_tenant, "forge", "page:123:v4") is True, "tenants are walls"


def test_a_rolled_back_event_can_be_handled_again(tenant):
    assert record_event_once(tenant, "forge", "page:1:v1") is True
    db.session.rollback()
    assert record_event_once(tenant, "forge", "page:1:v1") is True


def test_concurrent_redeliveries_are_accepted_once(app, tenant):
    tenant_id = tenant.id  # read here: the fixture's instance belongs to this thread's session
    barrier = threading.Barrier(4)
    answers, errors = [], []

    def deliver():
        try:
            with app.app_context():
                owner = db.session.get(Tenant, tenant_id)
                barrier.wait(timeout=5)
                answers.append(record_event_once(owner, "forge", "page:9:v2"))
                db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert sorted(answers) == [False, False, False, True]
    assert db.session.execute(sa.select(sa.func.count()).select_from(ProcessedEvent)).scalar_one() == 1


def test_keys_must_fit(tenant):
    with pytest.raises(ValueError):
        record_event_once(tenant, "forge", "x" * 256)
