"""Which key may be tried for an address: the typed one always; the saved one only for the address it was saved for."""

from __future__ import annotations

import pytest

from addon.admin import consonance_host
from addon.consonance.gateway import ConnectionCheck
from addon.extensions import db
from addon.platform import tenants
from addon.platform.models import Tenant, TenantSecret
from addon.settings.service import update_settings


@pytest.fixture
def tenant(app):
    tenant = Tenant(transport=tenants.FORGE, external_id="key-host-tests", site_url="https://a.atlassian.test")
    db.session.add(tenant)
    db.session.commit()
    update_settings(tenant, {"consonance_host": "https://web.consonance.app"}, actor="admin")
    tenants.set_consonance_key(tenant, "saved-key", "https://web.consonance.app/")
    db.session.commit()
    return tenant


def test_the_saved_key_is_offered_to_its_own_address_only(tenant):
    assert consonance_host.key_for(tenant, "https://WEB.consonance.app/", "") == "saved-key"
    with pytest.raises(consonance_host.KeyRequired, match="saved with"):
        consonance_host.key_for(tenant, "https://evil.example", "")
    assert consonance_host.key_for(tenant, "https://evil.example", "typed") == "typed"


def test_a_legacy_key_belongs_to_the_address_saved_with_it(tenant):
    db.session.query(TenantSecret).filter_by(tenant_id=tenant.id, name=tenants.CONSONANCE_KEY_HOST).delete()
    db.session.commit()
    assert consonance_host.saved_key_host(tenant) == "https://web.consonance.app"
    assert consonance_host.key_for(tenant, "https://web.consonance.app", "") == "saved-key"
    with pytest.raises(consonance_host.KeyRequired):
        consonance_host.key_for(tenant, "https://evil.example", "")


def test_failed_checks_never_carry_the_hosts_words():
    checks = (
        ConnectionCheck("Reach", False, "Consonance rejected: <script>db=10.0.0.5</script>", "not_consonance"),
        ConnectionCheck("Stages", True, "Editorial, Production"),
    )
    safe = consonance_host.safe_checks(checks)
    assert safe[0].detail == "Not a Consonance API." and safe[1].detail == "Editorial, Production"
    assert consonance_host.first_failure(checks) == "not_consonance"
