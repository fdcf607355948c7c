"""Tenants: secrets encrypted per tenant, rotation across every row, uninstall destroys them."""

from cryptography.fernet import Fernet

from addon.extensions import db
from addon.platform import tenants
from addon.platform.crypto import SecretBox
from addon.platform.models import AuditEntry, Tenant, TenantSecret, tenant_query
from addon.platform.services import EXTENSION_KEY
from tests.fixtures.tenants import make_tenant


def connect_tenant(external_id="client-1"):
    return make_tenant(external_id, transport="connect", site_url="https://x.test")


def test_secrets_are_scoped_per_tenant(app):
    a, b = connect_tenant("a"), connect_tenant("b")
    tenants.set_secret(a, tenants.CONSONANCE_API_KEY, "key-a")
    tenants.set_secret(b, tenants.CONSONANCE_API_KEY, "key-b")
    db.session.commit()
    assert tenants.get_secret(a, tenants.CONSONANCE_API_KEY) == "key-a"
    assert tenants.get_secret(b, tenants.CONSONANCE_API_KEY) == "key-b"
    assert [row.ciphertext for row in db.session.execute(tenant_query(TenantSecret, a)).scalars()] != []


def test_key_rotation_rewrites_every_secret_under_the_new_key(app):
    tenant = connect_tenant()
    tenants.set_secret(tenant, tenants.SHARED_SECRET, "the-shared-secret")
    db.session.commit()
    old_key = app.config["ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()
    app.extensions[EXTENSION_KEY]["secret_box"] = SecretBox(f"{new_key},{old_key}")
    assert tenants.get_secret(tenant, tenants.SHARED_SECRET) == "the-shared-secret"
    assert tenants.rotate_secrets() == 1
    app.extensions[EXTENSION_KEY]["secret_box"] = SecretBox(new_key)
    assert tenants.get_secret(tenant, tenants.SHARED_SECRET) == "the-shared-secret"


def test_uninstall_destroys_secrets_and_keeps_the_audit_trail(app):
    tenant = connect_tenant()
    tenants.set_secret(tenant, tenants.SHARED_SECRET, "s")
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, "k")
    db.session.commit()
    tenants.uninstall(tenant, actor="admin")
    assert db.session.query(TenantSecret).count() == 0
    assert not tenant.enabled and tenant.uninstalled_at is not None
    assert [e.action for e in db.session.execute(tenant_query(AuditEntry, tenant)).scalars()] == ["uninstalled"]
    assert tenants.connect_shared_secret("client-1") is None


def test_tenant_query_refuses_models_without_a_tenant(app):
    import pytest

    with pytest.raises(TypeError):
        tenant_query(Tenant, connect_tenant())


def test_rotate_secrets_command(app):
    tenant = connect_tenant("cli")
    tenants.set_secret(tenant, tenants.SHARED_SECRET, "s")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tenants", "rotate-secrets"])
    assert result.exit_code == 0
    assert "re-encrypted 1 secrets" in result.output


def test_forge_system_token_is_kept_encrypted_for_background_work(client, forge_key):
    from tests.platform.signing import fit_claims, sign_rs256

    token = sign_rs256(fit_claims(), forge_key, "forge-1")
    headers = {"Authorization": f"Bearer {token}", "x-forge-oauth-system": "system-token-1"}
    assert client.post("/forge/macro/title-status", json={}, headers=headers).status_code == 200
    tenant = tenants.find_tenant("forge", "ari:cloud:ecosystem::installation/aaaa-1111")
    assert tenants.get_secret(tenant, tenants.FORGE_SYSTEM_TOKEN) == "system-token-1"
    row = db.session.query(TenantSecret).filter_by(name=tenants.FORGE_SYSTEM_TOKEN).one()
    assert "system-token-1" not in row.ciphertext
    headers["x-forge-oauth-system"] = "system-token-2"
    client.post("/forge/macro/title-status", json={}, headers=headers)
    db.session.expire_all()  # the request wrote through its own session: read the row as stored now
    assert tenants.get_secret(tenant, tenants.FORGE_SYSTEM_TOKEN) == "system-token-2"


def test_connect_consonance_command_stores_host_and_encrypted_key(app):
    from addon.settings.service import get_settings

    tenant = connect_tenant("cli-2")
    result = app.test_cli_runner().invoke(
        args=["tenants", "connect-consonance", "--host", "http://127.0.0.1:8100", "--api-key", "sandbox-api-key"]
    )
    assert result.exit_code == 0, result.output
    assert get_settings(tenant).consonance_host == "http://127.0.0.1:8100"
    assert tenants.get_secret(tenant, tenants.CONSONANCE_API_KEY) == "sandbox-api-key"
    bad = app.test_cli_runner().invoke(args=["tenants", "connect-consonance", "--host", "nonsense", "--api-key", "k"])
    assert bad.exit_code != 0 and "consonance_host" in bad.output


def test_kept_secrets_cost_no_query_until_the_tenant_changes(app):
    import sqlalchemy as sa

    tenant = connect_tenant("kept")
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, "key-1")
    db.session.commit()
    assert tenants.kept_secret(tenant, tenants.CONSONANCE_API_KEY) == "key-1"
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert tenants.kept_secret(tenant, tenants.CONSONANCE_API_KEY) == "key-1"
        assert statements == []
        tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, "key-2")
        db.session.commit()
        assert tenants.kept_secret(tenant, tenants.CONSONANCE_API_KEY) == "key-2"  # the commit renewed the tenant
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    other = connect_tenant("kept-other")
    assert tenants.kept_secret(other, tenants.CONSONANCE_API_KEY) is None


def test_a_frame_cannot_swap_the_system_token_a_trigger_handed_over(client, forge_key):
    """A viewer's frame may add any header to a call it makes straight to us (requestRemote): while the
    schedule keeps handing tokens over, the one a trigger gave stands; with no trigger for ten minutes a UI
    call's token is kept again (a site whose triggers stopped still gets one)."""
    from datetime import timedelta

    from addon.platform.models import utcnow
    from tests.platform.signing import fit_claims, sign_rs256, system_fit_claims

    def call(path, claims, system_token):
        headers = {"Authorization": f"Bearer {sign_rs256(claims, forge_key, 'forge-1')}"}
        return client.post(path, json={}, headers={**headers, "x-forge-oauth-system": system_token})

    assert call("/forge/scheduled", system_fit_claims("schedule-tick"), "from-the-schedule").status_code == 202
    tenant = tenants.find_tenant("forge", "ari:cloud:ecosystem::installation/aaaa-1111")
    assert call("/forge/macro/title-status", fit_claims(), "made-up-by-a-frame").status_code == 200
    db.session.expire_all()
    assert tenants.get_secret(tenant, tenants.FORGE_SYSTEM_TOKEN) == "from-the-schedule"

    stale = (utcnow() - timedelta(minutes=11)).isoformat()
    tenants.set_secret(tenant, tenants.FORGE_SYSTEM_TOKEN_BY_TRIGGER, stale)
    db.session.commit()
    call("/forge/macro/title-status", fit_claims(), "a-newer-one")
    db.session.expire_all()
    assert tenants.get_secret(tenant, tenants.FORGE_SYSTEM_TOKEN) == "a-newer-one"
    call("/forge/scheduled", system_fit_claims("schedule-tick"), "from-the-schedule-again")
    db.session.expire_all()
    assert tenants.get_secret(tenant, tenants.FORGE_SYSTEM_TOKEN) == "from-the-schedule-again"
