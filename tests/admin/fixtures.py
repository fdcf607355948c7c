"""Admin fixtures (shared with tests/web/test_admin.py): the stub Confluence (site admins), the Consonance
sandbox, Forge and Connect callers."""

from __future__ import annotations

import time

import jwt
import pytest

from addon.platform import tenants
from sandbox.consonance.testing import running_sandbox
from tests.admin.stub_confluence import StubConfluence
from tests.platform.signing import connect_claims, fit_claims, sign_rs256

INSTALLATION = "ari:cloud:ecosystem::installation/admin-tests"
ADMIN = "557058:site-admin"
EDITOR = "557058:just-an-editor"


@pytest.fixture(scope="session")
def _stub_process():
    stub = StubConfluence().start()
    yield stub
    stub.stop()


@pytest.fixture
def stub(_stub_process):
    stub = _stub_process
    stub.admins = {ADMIN}
    stub.user_tokens = {"user-token-admin": ADMIN, "user-token-editor": EDITOR}
    stub.failing_users = False
    stub.calls.clear()
    return stub


@pytest.fixture(scope="module")
def consonance():
    with running_sandbox(SEED=7, SIZE=20, ANCHOR="2026-11-01") as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(consonance):
    consonance.control.clear_faults()
    yield consonance
    consonance.control.clear_faults()


@pytest.fixture
def forge(forge_key, stub):
    """Forge headers for `principal`, as the admin page's invokeRemote sends them."""

    def make(principal=ADMIN, *, user_token=None, module="consonance-admin"):
        claims = fit_claims(INSTALLATION, principal=principal, api_base_url=stub.url)
        claims["app"]["module"] = {"type": "confluence:globalSettings", "key": module}
        claims["context"]["moduleKey"] = module
        claims["context"].pop("extension", None)
        headers = {
            "Authorization": f"Bearer {sign_rs256(claims, forge_key, 'forge-1')}",
            "x-forge-oauth-system": "system-token-1",
        }
        token = (
            user_token
            if user_token is not None
            else {ADMIN: "user-token-admin", EDITOR: "user-token-editor"}.get(principal)
        )
        if token:
            headers["x-forge-oauth-user"] = token
        return headers

    return make


@pytest.fixture
def forge_tenant(client, forge):
    """The Forge tenant, made by its first (admin) call."""
    assert client.post("/forge/admin", json={}, headers=forge()).status_code == 200
    return tenants.find_tenant(tenants.FORGE, INSTALLATION)


@pytest.fixture
def connect_site(connect_install, stub):
    return connect_install(client_key="admin-client", base_url=stub.url + "/wiki")


@pytest.fixture
def connect_token(connect_site):
    """A Connect token for `account`: the iframe's context token, or one bound to the request (qsh)."""

    def make(account=ADMIN, *, method="GET", path="/connect/admin", query="", context=True, lifetime=180):
        claims = connect_claims(
            connect_site["clientKey"],
            method,
            path,
            query,
            qsh="context-qsh" if context else None,
            sub=account,
            now=int(time.time()),
            lifetime=lifetime,
        )
        return jwt.encode(claims, connect_site["sharedSecret"], algorithm="HS256")

    return make
