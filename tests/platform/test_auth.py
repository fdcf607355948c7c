"""The adversarial table: every row is a real request through the app, and each is refused.

Positive controls sit beside the rows, so a refusal always means the check worked,
never that the route or the fixture was broken.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from addon.extensions import db
from addon.platform import tenants
from addon.platform.models import AuditEntry, Tenant
from addon.platform.qsh import query_string_hash
from tests.platform.signing import (
    APP_ID,
    admin_fit_claims,
    connect_claims,
    fit_claims,
    install_payload,
    public_pem,
    sign_rs256,
)

FORGE_ROUTE = "/forge/macro/title-status"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_key_bytes(claims: dict, key: bytes, header_extra=None) -> str:
    """HS256 by hand: PyJWT refuses to use a PEM as an HMAC secret, an attacker would not."""
    header = {"alg": "HS256", "typ": "JWT", **(header_extra or {})}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def unsigned(claims: dict, header_extra=None) -> str:
    header = {"alg": "none", "typ": "JWT", **(header_extra or {})}
    return b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode()) + "."


def assert_refused(response, status=401, *, secrets=()):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] and body["message"]
    text = response.get_data(as_text=True)
    for secret in secrets:
        assert secret not in text


def forge_post(client, token, path=FORGE_ROUTE):
    return client.post(path, json={"call": {}}, headers={"Authorization": f"Bearer {token}"})


# --- Forge Invocation Tokens ------------------------------------------------------------------


def test_valid_forge_token_is_accepted_and_makes_the_tenant(client, forge_key):
    token = sign_rs256(fit_claims(), forge_key, "forge-1")
    response = forge_post(client, token)
    assert response.status_code == 200
    tenant = tenants.find_tenant("forge", "ari:cloud:ecosystem::installation/aaaa-1111")
    assert tenant.cloud_id == "cloud-1"
    assert tenant.site_url == "https://site-one.atlassian.test"
    assert tenant.api_base_url == "https://api.atlassian.test/ex/confluence/cloud-1"


FORGE_ROWS = {
    "alg_none": "bad_alg",
    "hs256_with_rsa_public_key": "bad_alg",
    "tampered_signature": "bad_signature",
    "expired_beyond_leeway": "expired",
    "nbf_in_future": "not_yet_valid",
    "wrong_aud": "wrong_audience",
    "wrong_iss": "wrong_issuer",
    "unknown_kid": "unknown_kid",
    "signed_by_unpublished_key": "bad_signature",
    "missing_exp": "missing_claim",
}


@pytest.mark.parametrize("row", sorted(FORGE_ROWS))
def test_forge_token_rows_are_refused(client, forge_key, stranger_key, row):
    now = int(time.time())
    claims = fit_claims(now=now)
    if row == "alg_none":
        token = unsigned(claims, {"kid": "forge-1"})
    elif row == "hs256_with_rsa_public_key":
        token = hs256_with_key_bytes(claims, public_pem(forge_key), {"kid": "forge-1"})
    elif row == "tampered_signature":
        token = sign_rs256(claims, forge_key, "forge-1")
        head, payload, signature = token.split(".")
        forged_claims = {**claims, "app": {**claims["app"], "installationId": "ari:cloud:ecosystem::installation/evil"}}
        token = ".".join([head, b64(json.dumps(forged_claims).encode()), signature])
    elif row == "expired_beyond_leeway":
        token = sign_rs256(fit_claims(now=now - 120, lifetime=60), forge_key, "forge-1")
    elif row == "nbf_in_future":
        token = sign_rs256({**claims, "nbf": now + 60}, forge_key, "forge-1")
    elif row == "wrong_aud":
        token = sign_rs256({**claims, "aud": "ari:cloud:ecosystem::app/another-app"}, forge_key, "forge-1")
    elif row == "wrong_iss":
        token = sign_rs256({**claims, "iss": "someone/else"}, forge_key, "forge-1")
    elif row == "unknown_kid":
        token = sign_rs256(claims, forge_key, "forge-999")
    elif row == "signed_by_unpublished_key":
        token = sign_rs256(claims, stranger_key, "forge-1")
    elif row == "missing_exp":
        token = sign_rs256({k: v for k, v in claims.items() if k != "exp"}, forge_key, "forge-1")
    response = forge_post(client, token)
    assert_refused(response)
    assert response.get_json()["error"] == FORGE_ROWS[row]
    assert db.session.query(Tenant).count() == 0


def test_forge_expiry_within_leeway_is_accepted(client, forge_key):
    now = int(time.time())
    token = sign_rs256(fit_claims(now=now - 62, lifetime=60), forge_key, "forge-1")  # expired 2 s ago
    assert forge_post(client, token).status_code == 200


def test_jwks_unreachable_is_refused(app_config, forge_key):
    from addon import create_app

    app_config["FORGE_JWKS_URL"] = "http://127.0.0.1:9/jwks.json"  # nothing listens on the discard port
    app_config["OUTBOUND_TIMEOUT_SECONDS"] = 2
    client = create_app(app_config).test_client()
    response = forge_post(client, sign_rs256(fit_claims(), forge_key, "forge-1"))
    assert_refused(response)
    assert response.get_json()["error"] == "jwks_unavailable"


def test_jwks_serving_errors_are_refused(client, keyserver, forge_key):
    keyserver.failing = True
    assert_refused(forge_post(client, sign_rs256(fit_claims(), forge_key, "forge-1")))


def test_missing_forge_token_is_refused(client):
    assert_refused(client.post(FORGE_ROUTE, json={}))


# --- Signed installs ---------------------------------------------------------------------------

BASE_URL = "https://addon.example.test"


def install_token(key, payload, *, kid="install-1", path="/connect/installed", aud=BASE_URL, **overrides):
    claims = {
        "iss": payload["clientKey"],
        "aud": aud,
        "iat": int(time.time()),
        "exp": int(time.time()) + 180,
        "qsh": query_string_hash("POST", path),
        "sub": payload["accountId"],
    }
    claims.update(overrides)
    return sign_rs256(claims, key, kid)


def post_install(client, payload, token, path="/connect/installed"):
    headers = {"Authorization": f"JWT {token}"} if token else {}
    return client.post(path, json=payload, headers=headers)


def stored_secret(client_key):
    return tenants.connect_shared_secret(client_key)


def test_signed_install_is_accepted_and_secret_encrypted(client, install_key):
    payload = install_payload()
    response = post_install(client, payload, install_token(install_key, payload))
    assert response.status_code == 200
    assert stored_secret("client-key-A") == payload["sharedSecret"]
    from addon.platform.models import TenantSecret

    row = db.session.query(TenantSecret).one()
    assert payload["sharedSecret"] not in row.ciphertext


TOKEN_USER = "557058:user-1"  # signing.py's default Forge principal and Connect sub
FORGE_USER_TOKEN = "user-token-1"  # that user's own Forge token (x-forge-oauth-user)


@pytest.fixture
def site_admin(stub):
    """The stub Confluence the sites below point at, where the tokens' user administers the site: the probe
    route, /api/audit, is the site admin's, so a valid token is answered only because its caller is one."""
    stub.admins.add(TOKEN_USER)
    stub.user_tokens[FORGE_USER_TOKEN] = TOKEN_USER
    return stub


@pytest.fixture
def installed_a(client, install_key, site_admin):
    payload = install_payload("client-key-A", base_url=site_admin.url + "/wiki")
    assert post_install(client, payload, install_token(install_key, payload)).status_code == 200
    return payload


@pytest.mark.parametrize(
    "row",
    [
        "unsigned",
        "alg_none",
        "hs256_with_old_shared_secret",
        "hs256_with_rsa_public_key",
        "wrong_aud",
        "iss_not_client_key",
        "qsh_for_another_path",
        "unknown_kid",
        "signed_by_unpublished_key",
        "expired",
    ],
)
def test_reinstall_rows_cannot_change_the_secret(client, installed_a, install_key, stranger_key, row):
    hijack = install_payload("client-key-A", shared_secret="attacker-chosen-secret-" + "x" * 32)
    claims = {
        "iss": "client-key-A",
        "aud": BASE_URL,
        "iat": int(time.time()),
        "exp": int(time.time()) + 180,
        "qsh": query_string_hash("POST", "/connect/installed"),
    }
    if row == "unsigned":
        token = None
    elif row == "alg_none":
        token = unsigned(claims, {"kid": "install-1"})
    elif row == "hs256_with_old_shared_secret":
        token = jwt.encode(claims, installed_a["sharedSecret"], algorithm="HS256")
    elif row == "hs256_with_rsa_public_key":
        token = hs256_with_key_bytes(claims, public_pem(install_key), {"kid": "install-1"})
    elif row == "wrong_aud":
        token = install_token(install_key, hijack, aud="https://evil.example.test")
    elif row == "iss_not_client_key":
        token = install_token(install_key, hijack, iss="client-key-B")
    elif row == "qsh_for_another_path":
        token = install_token(install_key, hijack, qsh=query_string_hash("POST", "/connect/uninstalled"))
    elif row == "unknown_kid":
        token = install_token(install_key, hijack, kid="install-404")
    elif row == "signed_by_unpublished_key":
        token = install_token(stranger_key, hijack)
    elif row == "expired":
        token = install_token(install_key, hijack, iat=int(time.time()) - 600, exp=int(time.time()) - 300)
    assert_refused(post_install(client, hijack, token), secrets=(installed_a["sharedSecret"],))
    assert stored_secret("client-key-A") == installed_a["sharedSecret"]


def test_signed_reinstall_replaces_the_secret(client, installed_a, install_key):
    renewed = install_payload("client-key-A", shared_secret="renewed-secret-" + "y" * 40)
    assert post_install(client, renewed, install_token(install_key, renewed)).status_code == 200
    assert stored_secret("client-key-A") == renewed["sharedSecret"]


def test_install_key_server_unreachable_is_refused(app_config, install_key):
    from addon import create_app

    app_config["CONNECT_INSTALL_KEYS_URL"] = "http://127.0.0.1:9/install-keys"
    app_config["OUTBOUND_TIMEOUT_SECONDS"] = 2
    app = create_app(app_config)
    payload = install_payload()
    response = post_install(app.test_client(), payload, install_token(install_key, payload))
    assert_refused(response)
    with app.app_context():
        assert stored_secret("client-key-A") is None


def test_malformed_install_payload_is_a_clear_400(client, install_key):
    payload = install_payload()
    del payload["sharedSecret"]
    response = post_install(client, payload, install_token(install_key, install_payload()))
    assert response.status_code == 400
    assert "sharedSecret" in response.get_json()["message"]


@pytest.mark.parametrize("path", ["/connect/installed", "/connect/uninstalled"])
def test_an_unsigned_lifecycle_call_is_refused_in_words_that_fit_either_callback(client, path):
    response = client.post(path, json=install_payload("client-key-A"))

    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] == "unsigned_install"
    assert "Install and uninstall callbacks must be signed" in body["message"]
    assert stored_secret("client-key-A") is None


def test_signed_uninstall_destroys_secrets_and_refuses_later_calls(client, installed_a, install_key):
    tenant = tenants.find_tenant("connect", "client-key-A")
    entry = AuditEntry(tenant_id=tenant.id, action="probe")
    db.session.add(entry)
    db.session.commit()
    path = f"/api/audit/{entry.id}"
    token = jwt.encode(connect_claims("client-key-A", "GET", path), installed_a["sharedSecret"], algorithm="HS256")
    assert client.get(path, headers={"Authorization": f"JWT {token}"}).status_code == 200

    uninstall = install_payload("client-key-A")
    response = post_install(
        client,
        uninstall,
        install_token(install_key, uninstall, path="/connect/uninstalled"),
        path="/connect/uninstalled",
    )
    assert response.status_code == 200
    assert stored_secret("client-key-A") is None
    assert not tenants.find_tenant("connect", "client-key-A").enabled
    assert_refused(client.get(path, headers={"Authorization": f"JWT {token}"}))


# --- Connect requests (HS256 + qsh) -----------------------------------------------------------


@pytest.fixture
def audit_of_a(installed_a):
    tenant = tenants.find_tenant("connect", "client-key-A")
    entry = AuditEntry(tenant_id=tenant.id, action="probe", detail={"note": "A's"})
    db.session.add(entry)
    db.session.commit()
    return entry.id


def connect_get(client, path, query, token, header=True):
    url = path + ("?" + query if query else "")
    if header:
        return client.get(url, headers={"Authorization": f"JWT {token}"})
    return client.get(url + ("&" if query else "?") + "jwt=" + token)


QUERY = "expand=a&expand=b&q=caf%C3%A9+noir&limit=10"


def test_valid_connect_token_is_accepted(client, installed_a, audit_of_a):
    path = f"/api/audit/{audit_of_a}"
    token = jwt.encode(
        connect_claims("client-key-A", "GET", path, QUERY), installed_a["sharedSecret"], algorithm="HS256"
    )
    response = connect_get(client, path, QUERY, token)
    assert response.status_code == 200
    assert response.get_json()["detail"] == {"note": "A's"}
    assert connect_get(client, path, QUERY, token, header=False).status_code == 200


def test_same_parameters_in_another_order_are_accepted(client, installed_a, audit_of_a):
    path = f"/api/audit/{audit_of_a}"
    token = jwt.encode(
        connect_claims("client-key-A", "GET", path, QUERY), installed_a["sharedSecret"], algorithm="HS256"
    )
    assert connect_get(client, path, "limit=10&q=caf%C3%A9+noir&expand=b&expand=a", token).status_code == 200


@pytest.mark.parametrize(
    "row, signed_query, sent_query",
    [
        ("another_query_value", QUERY, QUERY.replace("limit=10", "limit=11")),
        ("added_parameter", QUERY, QUERY + "&admin=true"),
        ("dropped_parameter", QUERY, "expand=a&expand=b&q=caf%C3%A9+noir"),
        ("another_repeated_parameter_set", QUERY, "expand=a&expand=c&q=caf%C3%A9+noir&limit=10"),
        ("repeated_parameter_dropped_once", QUERY, "expand=a&q=caf%C3%A9+noir&limit=10"),
    ],
)
def test_qsh_rows_are_refused(client, installed_a, audit_of_a, row, signed_query, sent_query):
    path = f"/api/audit/{audit_of_a}"
    token = jwt.encode(
        connect_claims("client-key-A", "GET", path, signed_query), installed_a["sharedSecret"], algorithm="HS256"
    )
    response = connect_get(client, path, sent_query, token)
    assert_refused(response, secrets=(installed_a["sharedSecret"], token))
    assert response.get_json()["error"] == "qsh_mismatch"


def test_qsh_made_for_another_path_is_refused(client, installed_a, audit_of_a):
    token = jwt.encode(
        connect_claims("client-key-A", "GET", "/api/audit/999999"), installed_a["sharedSecret"], algorithm="HS256"
    )
    assert_refused(connect_get(client, f"/api/audit/{audit_of_a}", "", token))


def test_qsh_with_another_encoding_of_reserved_marks_is_refused(client, installed_a, audit_of_a):
    """A hash over `!'()*` left raw (as JavaScript's encodeURIComponent would) is not ours."""
    path = f"/api/audit/{audit_of_a}"
    query = "q=it%27s%21%20%28really%29%2A"
    wrong_canonical = f"GET&{path}&q=it's!%20(really)*"
    wrong_qsh = hashlib.sha256(wrong_canonical.encode()).hexdigest()
    token = jwt.encode(
        connect_claims("client-key-A", "GET", path, qsh=wrong_qsh), installed_a["sharedSecret"], algorithm="HS256"
    )
    assert_refused(connect_get(client, path, query, token))
    right = jwt.encode(
        connect_claims("client-key-A", "GET", path, query), installed_a["sharedSecret"], algorithm="HS256"
    )
    assert connect_get(client, path, query, right).status_code == 200


def test_context_qsh_on_a_non_iframe_route_is_refused(client, installed_a, audit_of_a):
    path = f"/api/audit/{audit_of_a}"
    token = jwt.encode(
        connect_claims("client-key-A", "GET", path, qsh="context-qsh"), installed_a["sharedSecret"], algorithm="HS256"
    )
    response = connect_get(client, path, "", token)
    assert_refused(response)
    assert response.get_json()["error"] == "context_qsh_not_allowed"


@pytest.mark.parametrize(
    "row", ["alg_none", "rs256_on_hs256_route", "tampered", "expired", "wrong_secret", "unknown_client_key"]
)
def test_connect_token_rows_are_refused(client, installed_a, audit_of_a, install_key, row):
    path = f"/api/audit/{audit_of_a}"
    claims = connect_claims("client-key-A", "GET", path)
    secret = installed_a["sharedSecret"]
    if row == "alg_none":
        token = unsigned(claims)
    elif row == "rs256_on_hs256_route":
        token = sign_rs256(claims, install_key, "install-1")
    elif row == "tampered":
        token = jwt.encode(claims, secret, algorithm="HS256")
        head, _payload, signature = token.split(".")
        token = ".".join([head, b64(json.dumps({**claims, "sub": "admin"}).encode()), signature])
    elif row == "expired":
        token = jwt.encode(
            {**claims, "iat": int(time.time()) - 900, "exp": int(time.time()) - 600}, secret, algorithm="HS256"
        )
    elif row == "wrong_secret":
        token = jwt.encode(claims, "not-the-shared-secret-" + "z" * 30, algorithm="HS256")
    elif row == "unknown_client_key":
        token = jwt.encode({**claims, "iss": "client-key-nobody"}, secret, algorithm="HS256")
    assert_refused(connect_get(client, path, "", token), secrets=(secret,))


# --- Tenants are walls -------------------------------------------------------------------------


def test_tenant_a_connect_token_cannot_read_tenant_b_rows(client, installed_a, install_key, site_admin):
    payload_b = install_payload("client-key-B", base_url=site_admin.url + "/wiki")
    assert post_install(client, payload_b, install_token(install_key, payload_b)).status_code == 200
    tenant_b = tenants.find_tenant("connect", "client-key-B")
    entry = AuditEntry(tenant_id=tenant_b.id, action="probe", detail={"note": "B's secret plans"})
    db.session.add(entry)
    db.session.commit()
    path = f"/api/audit/{entry.id}"
    token_a = jwt.encode(connect_claims("client-key-A", "GET", path), installed_a["sharedSecret"], algorithm="HS256")
    response = connect_get(client, path, "", token_a)
    assert_refused(response, status=403)
    assert response.get_json()["error"] == "not_available"  # A's site admin, refused for the tenant wall
    assert "B's secret plans" not in response.get_data(as_text=True)
    # A's token claiming to be B (iss = B) does not verify with B's secret.
    token_as_b = jwt.encode(connect_claims("client-key-B", "GET", path), installed_a["sharedSecret"], algorithm="HS256")
    assert_refused(connect_get(client, path, "", token_as_b))
    # B's own token reads it.
    token_b = jwt.encode(connect_claims("client-key-B", "GET", path), payload_b["sharedSecret"], algorithm="HS256")
    assert connect_get(client, path, "", token_b).status_code == 200


def test_tenant_a_forge_token_cannot_read_tenant_b_rows(client, forge_key, site_admin):
    token_b = sign_rs256(
        fit_claims(
            "ari:cloud:ecosystem::installation/bbbb-2222",
            cloud_id="cloud-2",
            site_url="https://site-two.atlassian.test",
        ),
        forge_key,
        "forge-1",
    )
    assert forge_post(client, token_b).status_code == 200
    tenant_b = tenants.find_tenant("forge", "ari:cloud:ecosystem::installation/bbbb-2222")
    entry = AuditEntry(tenant_id=tenant_b.id, action="probe", detail={"note": "B only"})
    db.session.add(entry)
    db.session.commit()
    # audit entries are the site admin's to read: both tokens come from the admin module, for a site admin
    token_b = sign_rs256(
        admin_fit_claims(
            "ari:cloud:ecosystem::installation/bbbb-2222",
            cloud_id="cloud-2",
            site_url="https://site-two.atlassian.test",
            api_base_url=site_admin.url,
        ),
        forge_key,
        "forge-1",
    )
    token_a = sign_rs256(
        admin_fit_claims("ari:cloud:ecosystem::installation/aaaa-1111", api_base_url=site_admin.url),
        forge_key,
        "forge-1",
    )
    as_admin = {"x-forge-oauth-user": FORGE_USER_TOKEN}
    response = client.get(f"/api/audit/{entry.id}", headers={"Authorization": f"Bearer {token_a}", **as_admin})
    assert_refused(response, status=403)
    assert response.get_json()["error"] == "not_available"  # A's site admin, refused for the tenant wall
    assert "B only" not in response.get_data(as_text=True)
    response = client.get(f"/api/audit/{entry.id}", headers={"Authorization": f"Bearer {token_b}", **as_admin})
    assert response.status_code == 200
    assert response.get_json()["detail"] == {"note": "B only"}


def test_forge_token_for_another_app_cannot_create_a_tenant(client, forge_key):
    claims = fit_claims()
    claims["app"]["id"] = "ari:cloud:ecosystem::app/someone-else"
    assert_refused(forge_post(client, sign_rs256(claims, forge_key, "forge-1")))
    assert db.session.query(Tenant).count() == 0
    assert APP_ID != claims["app"]["id"]
