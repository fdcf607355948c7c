"""Settings are cached per process; a change shows at once where it was saved and, in another process,
within the invalidation bound (tests/platform/test_secret_cache.py)."""

from __future__ import annotations

from addon.extensions import db
from addon.platform.models import Tenant
from addon.settings.service import get_settings, update_settings
from tests.fixtures.processes import eventually


def _tenant() -> Tenant:
    tenant = Tenant(transport="connect", external_id="client-key-S", site_url="https://s.atlassian.test", enabled=True)
    db.session.add(tenant)
    db.session.commit()
    return tenant


def test_a_change_shows_at_once_in_the_process_that_saved_it(app):
    tenant = _tenant()
    assert get_settings(tenant).macro_freshness_seconds == 300
    update_settings(tenant, {"macro_freshness_seconds": 120}, actor="admin")
    assert get_settings(tenant).macro_freshness_seconds == 120


def test_callers_cannot_change_the_cached_copy(app):
    tenant = _tenant()
    get_settings(tenant).values["consonance_host"] = "https://evil.example"
    assert get_settings(tenant).consonance_host == ""


def test_a_change_shows_in_another_process_within_the_bound(two_processes):
    first, second = two_processes
    with first.app_context():
        tenant_id = _tenant().id
        assert get_settings(db.session.get(Tenant, tenant_id)).consonance_host == ""
    with second.app_context():
        update_settings(db.session.get(Tenant, tenant_id), {"consonance_host": "https://c.example"}, actor="admin")

    def seen() -> bool:
        with first.app_context():
            return get_settings(db.session.get(Tenant, tenant_id)).consonance_host == "https://c.example"

    eventually(seen)
