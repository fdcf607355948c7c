"""Macro fixtures: the Consonance sandbox over HTTP, a Forge tenant connected to it, token makers."""

from __future__ import annotations


import pytest

from addon.extensions import db
from addon.platform import tenants
from addon.platform.models import Tenant
from addon.settings.service import update_settings
from sandbox.consonance.testing import running_sandbox
from tests.platform.signing import fit_claims, sign_rs256

INSTALLATION = "ari:cloud:ecosystem::installation/macro-tests"
SITE = "https://site-one.atlassian.test"


@pytest.fixture(scope="module")
def consonance():
    with running_sandbox(SEED=7, SIZE=30, ANCHOR="2026-11-01") as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(consonance):
    """The module's sandbox with faults and counters cleared for this test."""
    consonance.control.clear_faults()
    consonance.control.clear_requests()
    yield consonance
    consonance.control.clear_faults()


@pytest.fixture
def fit(forge_key):
    """Make Forge headers: fit(config={"title": "3"}, principal=..., user_token=True)."""

    def make(
        config=None,
        *,
        principal="557058:user-1",
        content_id="12345",
        user_token=True,
        module="title-status",
        **overrides,
    ):
        claims = fit_claims(INSTALLATION, principal=principal, site_url=SITE, **overrides)
        extension = claims["context"]["extension"]
        extension["content"] = {"id": content_id} if content_id else {}
        if config is not None:
            extension["config"] = config
        claims["app"]["module"]["key"] = module
        claims["context"]["moduleKey"] = module
        headers = {
            "Authorization": f"Bearer {sign_rs256(claims, forge_key, 'forge-1')}",
            "x-forge-oauth-system": "system-token-1",
        }
        if user_token and principal:
            headers["x-forge-oauth-user"] = "user-token-1"
        return headers

    return make


def connect_tenant_to(tenant: Tenant, sandbox, **settings) -> None:
    update_settings(tenant, {"consonance_host": sandbox.url, **settings}, actor="557058:admin")
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, sandbox.api_key)
    db.session.commit()


@pytest.fixture
def forge_tenant(app, client, fit, sandbox):
    """A Forge tenant (made by its first call) whose Consonance connection points at the sandbox."""
    assert client.post("/forge/macro/title-status", json={}, headers=fit()).status_code == 200
    tenant = tenants.find_tenant(tenants.FORGE, INSTALLATION)
    connect_tenant_to(tenant, sandbox)
    sandbox.control.clear_requests()
    return tenant
