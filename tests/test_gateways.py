"""Gateways are built per tenant from its settings and secrets, and say what is missing."""

import time

import pytest
import redis

from addon import create_app
from addon.consonance.host_policy import HostPolicy
from addon.extensions import db
from addon.gateways import NotConfigured, TenantGateways, gateways
from addon.platform import invalidation, tenants
from addon.platform.models import Tenant
from addon.settings.service import update_settings
from tests.fixtures.tenants import make_tenant


def site_tenant(transport="connect"):
    return make_tenant("ck-1", transport=transport, site_url="https://s.test", api_base_url="https://s.test/wiki")


def test_consonance_needs_host_and_key(app):
    tenant = site_tenant()
    with pytest.raises(NotConfigured, match="configuration page"):
        gateways().consonance(tenant)
    update_settings(tenant, {"consonance_host": "http://127.0.0.1:8100"}, actor="admin")
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, "k-1")
    db.session.commit()
    first = gateways().consonance(tenant)
    assert first.connection.graphql_url == "http://127.0.0.1:8100/graphql"
    assert gateways().consonance(tenant) is first  # pooled
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, "k-2")
    db.session.commit()
    assert gateways().consonance(tenant) is not first  # a new key, a new gateway


def test_the_stored_capability_profile_is_read_once_and_again_when_it_changes(app):
    tenant = site_tenant()
    found = {"present": ["notes", "works"], "source": "introspection", "host": "http://127.0.0.1:8100"}
    update_settings(tenant, {"consonance_host": "http://127.0.0.1:8100", "consonance_capabilities": found}, "admin")
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, "k-1")
    db.session.commit()
    profile = gateways().consonance(tenant).profile
    assert profile is not None and "notes" in profile.present
    assert gateways().consonance(tenant).profile is profile  # the same stored copy: not read again
    update_settings(tenant, {"consonance_capabilities": {**found, "present": ["works"]}}, "admin")
    db.session.commit()
    assert "notes" not in gateways().consonance(tenant).profile.present  # a new copy: read


def test_confluence_client_per_transport(app):
    connect_tenant = site_tenant()
    with pytest.raises(NotConfigured):
        gateways().confluence(connect_tenant)
    tenants.set_secret(connect_tenant, tenants.SHARED_SECRET, "s" * 40)
    db.session.commit()
    assert gateways().confluence(connect_tenant) is not None
    forge_tenant = Tenant(transport="forge", external_id="inst-1", api_base_url="https://api.test/ex/confluence/c")
    db.session.add(forge_tenant)
    db.session.commit()
    with pytest.raises(NotConfigured):
        gateways().confluence(forge_tenant)
    assert gateways().confluence(forge_tenant, user_token="user-token") is not None


def test_a_new_forge_system_token_is_used_at_once_without_renewing_the_tenant(app):
    from addon.platform import tenant_cache

    tenant = Tenant(transport="forge", external_id="inst-2", api_base_url="https://api.test/ex/confluence/c")
    db.session.add(tenant)
    db.session.commit()
    tenants.set_secret(tenant, tenants.FORGE_SYSTEM_TOKEN, "system-1")
    db.session.commit()
    assert gateways().confluence(tenant).auth._token == "system-1"
    generation = tenant_cache.current().generation(tenant.id)
    tenants.set_secret(tenant, tenants.FORGE_SYSTEM_TOKEN, "system-2")
    db.session.commit()
    assert gateways().confluence(tenant).auth._token == "system-2"
    assert tenant_cache.current().generation(tenant.id) == generation  # memoised views of the site stay
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, "k-1")
    db.session.commit()
    assert tenant_cache.current().generation(tenant.id) != generation  # other secrets still renew it


def _tenant_at(external_id: str, host: str) -> Tenant:
    tenant = Tenant(transport="forge", external_id=external_id)
    db.session.add(tenant)
    db.session.commit()
    update_settings(tenant, {"consonance_host": host}, actor="admin")
    tenants.set_consonance_key(tenant, "k", host)
    db.session.commit()
    return tenant


def test_a_saved_address_the_policy_refuses_gets_no_gateway_and_is_judged_once(app):
    """A saved name that resolves somewhere private is not used; the refusal is remembered until the host or
    key changes, so page views do not resolve the name again each time."""
    tenant = _tenant_at("policy-refused", "https://internal.example")
    asked = []
    refusing = TenantGateways("app", HostPolicy(resolve=lambda host, port: asked.append(host) or ["10.0.0.1"]))
    for _ in range(3):
        with pytest.raises(NotConfigured, match="saved address may not receive the API key"):
            refusing.consonance(tenant)
    assert asked == ["internal.example"]


def test_a_name_that_does_not_resolve_is_an_outage_not_a_refusal(app):
    tenant = _tenant_at("dns-blip", "https://consonance.example")
    unresolved = TenantGateways("app", HostPolicy(resolve=lambda host, port: []))
    assert unresolved.consonance(tenant).connection.host == "https://consonance.example"


def test_a_budget_is_woken_through_the_apps_bus_when_a_place_comes_free_elsewhere(app_config, redis_url):
    """Every process's budget for a site hears, on the app's own bus, that a place came free while requests
    were queued: the give-back names the channel, and the process hands the message to that site's budget."""
    app_config["REDIS_URL"] = redis_url
    app = create_app(app_config)
    with app.app_context():
        tenant = site_tenant()
        budget = gateways().budget(tenant)
        bus = invalidation.bus(app)
        assert budget.wake_channel == bus.channel
        woken = []
        budget.woken = lambda served=None: woken.append((budget.name, served))
        deadline = time.monotonic() + 5
        while not bus.healthy:
            assert time.monotonic() < deadline, "the bus did not subscribe"
            time.sleep(0.01)
        redis.Redis.from_url(redis_url).publish(bus.channel, f"budget-freed:{budget.name}:token-1,token-2")
        while not woken:
            assert time.monotonic() < deadline, "the budget was not woken"
            time.sleep(0.01)
        assert woken == [(budget.name, "token-1,token-2")]
        bus.stop()
