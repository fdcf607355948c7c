"""The attack table (issue #13): every attack tried against the app, as a row of real requests through it.

Each row sends its attack and asserts two things: the refusal (status and error code), and that nothing
changed — tenants, their encrypted secrets, settings, outbox writes, decisions, recorded events, schedule
marks and the writes Consonance received are exactly what they were. Positive controls sit at the end, so
a refusal always means the check worked, never that the route or the fixture was broken.

Forge rows aim at POST /forge/lifecycle with an uninstall body: any token that got in would destroy the
site's secrets. Connect rows aim at /connect/disabled (a request-bound route that would switch the site off)
or at the signed install callbacks (which would replace the shared secret).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt
import pytest

from addon.admin import csrf
from addon.extensions import db
from addon.jobs.models import OutboxEntry
from addon.platform import tenants
from addon.platform.qsh import query_string_hash
from tests.fixtures.admin import ADMIN, EDITOR, INSTALLATION
from tests.platform.signing import (
    APP_ID,
    admin_fit_claims,
    as_module,
    connect_claims,
    fit_claims,
    install_payload,
    public_pem,
    sign_rs256,
    system_fit_claims,
)
from tests.platform.test_auth import b64, hs256_with_key_bytes, install_token, unsigned
from tests.security.conftest import audit_actions, snapshot

UNINSTALL = {"eventType": "avi:forge:uninstalled:app"}
HUGE = 2 * 1024 * 1024
DEEP = "[" * 5000 + "]" * 5000
OUT_OF_RANGE = "99999999999999999999999"


@dataclass
class Keys:
    forge: object
    stranger: object
    install: object
    stub_url: str


@dataclass(frozen=True)
class Row:
    name: str
    send: Callable  # (client, world, keys) -> response
    status: int
    error: str | None = None


# --- token makers (signing.py's claims, forged the ways an attacker forges them) ----------------------------


def lifecycle_claims(keys: Keys, **overrides) -> dict:
    return {**system_fit_claims("app-lifecycle", INSTALLATION, api_base_url=keys.stub_url), **overrides}


def macro_viewer_claims(keys: Keys) -> dict:
    """What a page viewer's macro frame gets: the title-status module, with the viewer as principal."""
    return fit_claims(INSTALLATION, principal="557058:page-viewer", api_base_url=keys.stub_url)


def signed(claims: dict, key, kid="forge-1", headers=None) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, **(headers or {})})


def forge_post(path: str, token: str, body=UNINSTALL, **headers):
    def send(client, world, keys):
        return client.post(path, json=body, headers={"Authorization": f"Bearer {token(keys)}", **headers})

    return send


def lifecycle_with(token) -> Callable:
    return forge_post("/forge/lifecycle", token)


def with_header(claims_of, key_of, extra: dict, kid="forge-1"):
    return lambda keys: signed(claims_of(keys), key_of(keys), kid, extra)


def jwk_of(key) -> dict:
    return jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)


def swapped(keys: Keys) -> str:
    """A genuine viewer token's header and signature around the lifecycle module's claims."""
    head, _claims, signature = signed(macro_viewer_claims(keys), keys.forge).split(".")
    return ".".join([head, b64(json.dumps(lifecycle_claims(keys)).encode()), signature])


def stripped(keys: Keys) -> str:
    head, claims, _signature = signed(lifecycle_claims(keys), keys.forge).split(".")
    return f"{head}.{claims}."


def without_installation(keys: Keys) -> dict:
    claims = lifecycle_claims(keys)
    claims["app"] = {k: v for k, v in claims["app"].items() if k not in ("installationId", "installation")}
    return claims


def other_app(keys: Keys) -> dict:
    claims = lifecycle_claims(keys)
    claims["app"] = {**claims["app"], "id": "ari:cloud:ecosystem::app/someone-else"}
    return claims


def now() -> int:
    return int(time.time())


FORGE_TOKEN_ROWS = [
    Row("alg none", lifecycle_with(lambda k: unsigned(lifecycle_claims(k), {"kid": "forge-1"})), 401, "bad_alg"),
    Row(
        "alg None",
        lifecycle_with(lambda k: unsigned(lifecycle_claims(k), {"kid": "forge-1", "alg": "None"})),
        401,
        "bad_alg",
    ),
    Row(
        "HS256 keyed with the RSA public key",
        lifecycle_with(lambda k: hs256_with_key_bytes(lifecycle_claims(k), public_pem(k.forge), {"kid": "forge-1"})),
        401,
        "bad_alg",
    ),
    Row("own RS256 key, real kid", lifecycle_with(lambda k: signed(lifecycle_claims(k), k.stranger)), 401),
    Row("own RS256 key, unknown kid", lifecycle_with(lambda k: signed(lifecycle_claims(k), k.stranger, "mine")), 401),
    Row(
        "own RS256 key, path-shaped kid",
        lifecycle_with(lambda k: signed(lifecycle_claims(k), k.stranger, "../../../etc/passwd")),
        401,
    ),
    Row(
        "own RS256 key, URL-shaped kid",
        lifecycle_with(lambda k: signed(lifecycle_claims(k), k.stranger, "https://evil.example/jwks.json")),
        401,
    ),
    Row(
        "jku header",
        lifecycle_with(with_header(lifecycle_claims, lambda k: k.stranger, {"jku": "https://evil.example/jwks"})),
        401,
    ),
    Row(
        "x5u header",
        lifecycle_with(with_header(lifecycle_claims, lambda k: k.stranger, {"x5u": "https://evil.example/cert"})),
        401,
    ),
    Row(
        "embedded jwk header",
        lifecycle_with(lambda k: signed(lifecycle_claims(k), k.stranger, "forge-1", {"jwk": jwk_of(k.stranger)})),
        401,
    ),
    Row(
        "crit header",
        lifecycle_with(with_header(lifecycle_claims, lambda k: k.forge, {"crit": ["exp"], "exp": 1})),
        401,
        "invalid_token",
    ),
    Row("stripped signature", lifecycle_with(stripped), 401),
    Row("swapped claims", lifecycle_with(swapped), 401, "bad_signature"),
    Row(
        "expired by 7 s with 5 s leeway",
        lifecycle_with(lambda k: signed(lifecycle_claims(k, iat=now() - 67, nbf=now() - 67, exp=now() - 7), k.forge)),
        401,
        "expired",
    ),
    Row(
        "nbf an hour ahead",
        lifecycle_with(lambda k: signed(lifecycle_claims(k, nbf=now() + 3600), k.forge)),
        401,
        "not_yet_valid",
    ),
    Row(
        "iat an hour ahead",
        lifecycle_with(lambda k: signed(lifecycle_claims(k, iat=now() + 3600), k.forge)),
        401,
        "not_yet_valid",
    ),
    Row(
        "wrong aud as a string",
        lifecycle_with(lambda k: signed(lifecycle_claims(k, aud="ari:cloud:ecosystem::app/other"), k.forge)),
        401,
        "wrong_audience",
    ),
    Row(
        "wrong aud as a list",
        lifecycle_with(lambda k: signed(lifecycle_claims(k, aud=["ari:cloud:ecosystem::app/other", "x"]), k.forge)),
        401,
        "wrong_audience",
    ),
    Row("wrong app id", lifecycle_with(lambda k: signed(other_app(k), k.forge)), 401, "wrong_audience"),
    Row(
        "wrong iss",
        lifecycle_with(lambda k: signed(lifecycle_claims(k, iss="someone/else"), k.forge)),
        401,
        "wrong_issuer",
    ),
    Row(
        "missing installation", lifecycle_with(lambda k: signed(without_installation(k), k.forge)), 401, "missing_claim"
    ),
]

# Hole 1 of #13: genuine tokens from the wrong module, or for the wrong kind of caller.
WRONG_CALLER_ROWS = [
    Row(
        "page viewer's macro token uninstalls the app",
        lifecycle_with(lambda k: signed(macro_viewer_claims(k), k.forge)),
        403,
        "wrong_module",
    ),
    Row(
        "page viewer's macro token runs the scheduled trigger",
        forge_post("/forge/scheduled", lambda k: signed(macro_viewer_claims(k), k.forge), body={}),
        403,
        "wrong_module",
    ),
    Row(
        "page viewer's macro token sends a page event",
        forge_post(
            "/forge/events/page",
            lambda k: signed(macro_viewer_claims(k), k.forge),
            body={"eventType": "avi:confluence:updated:page", "content": {"id": "77", "version": {"number": 3}}},
        ),
        403,
        "wrong_module",
    ),
    Row(
        "admin page token uninstalls the app",
        lifecycle_with(lambda k: signed(admin_fit_claims(INSTALLATION, api_base_url=k.stub_url), k.forge)),
        403,
        "wrong_module",
    ),
    Row(
        "lifecycle trigger called for a user",
        lifecycle_with(lambda k: signed(lifecycle_claims(k, principal="557058:page-viewer"), k.forge)),
        403,
        "user_not_allowed",
    ),
    Row(
        "page-events trigger token on the lifecycle route",
        lifecycle_with(
            lambda k: signed(system_fit_claims("page-events", INSTALLATION, api_base_url=k.stub_url), k.forge)
        ),
        403,
        "wrong_module",
    ),
    Row(
        "macro token saves the admin settings",
        forge_post(
            "/forge/admin/settings",
            lambda k: signed(macro_viewer_claims(k), k.forge),
            body={"form": {"consonance_host": "https://evil.example"}},
            **{"x-forge-oauth-user": "user-token-admin"},
        ),
        403,
        "wrong_module",
    ),
    Row(
        "trigger token sends a decision",
        forge_post(
            "/forge/actions/decision",
            lambda k: signed(system_fit_claims("schedule-tick", INSTALLATION, api_base_url=k.stub_url), k.forge),
            body={"decisionType": "note", "text": "x", "workId": "1", "idempotencyKey": "k" * 32},
        ),
        403,
        "wrong_module",
    ),
    Row(
        "one macro's frame loads another macro's route",
        forge_post("/forge/macro/rights-link", lambda k: signed(macro_viewer_claims(k), k.forge), body={}),
        403,
        "wrong_module",
    ),
    Row(
        "macro token reads an audit entry",
        lambda c, w, k: c.get(
            f"/api/audit/{w.connect_audit_id}",
            headers={"Authorization": f"Bearer {signed(macro_viewer_claims(k), k.forge)}"},
        ),
        403,
        "wrong_module",
    ),
]


# --- Connect ---------------------------------------------------------------------------------------------


def disable_with(token_of) -> Callable:
    def send(client, world, keys):
        return client.post("/connect/disabled", headers={"Authorization": f"JWT {token_of(world, keys)}"})

    return send


def connect_token(world, method="POST", path="/connect/disabled", query="", algorithm="HS256", **overrides) -> str:
    claims = {**connect_claims(world.connect_payload["clientKey"], method, path, query), **overrides}
    return jwt.encode(claims, world.connect_payload["sharedSecret"], algorithm=algorithm)


def signed_lifecycle(path: str, payload_of, token_of) -> Callable:
    def send(client, world, keys):
        payload = payload_of(world)
        token = token_of(world, keys, payload)
        return client.post(path, json=payload, headers={"Authorization": f"JWT {token}"} if token else {})

    return send


def hijack(world) -> dict:
    """An install for the Connect site's clientKey that would replace its shared secret."""
    return install_payload(
        world.connect_payload["clientKey"], shared_secret="h" * 40, base_url=world.connect.api_base_url
    )


def uninstall_body(world) -> dict:
    payload = {k: v for k, v in hijack(world).items() if k != "sharedSecret"}
    return {**payload, "eventType": "uninstalled"}


def hs256_install(world, keys, payload, path="/connect/installed"):
    claims = {"iss": payload["clientKey"], "aud": "https://addon.example.test", "iat": now(), "exp": now() + 180}
    return jwt.encode({**claims, "qsh": query_string_hash("POST", path)}, world.connect_payload["sharedSecret"])


CONNECT_ROWS = [
    Row(
        "Connect alg none",
        disable_with(
            lambda w, k: unsigned(connect_claims(w.connect_payload["clientKey"], "POST", "/connect/disabled"))
        ),
        401,
    ),
    Row(
        "Connect RS256",
        disable_with(
            lambda w, k: sign_rs256(
                connect_claims(w.connect_payload["clientKey"], "POST", "/connect/disabled"), k.install, "install-1"
            )
        ),
        401,
    ),
    Row("Connect HS384", disable_with(lambda w, k: connect_token(w, algorithm="HS384")), 401),
    Row("Connect HS512", disable_with(lambda w, k: connect_token(w, algorithm="HS512")), 401),
    Row("Connect unknown iss", disable_with(lambda w, k: connect_token(w, iss="client-key-nobody")), 401),
    Row("wrong qsh: path", disable_with(lambda w, k: connect_token(w, path="/connect/enabled")), 401, "qsh_mismatch"),
    Row("wrong qsh: method", disable_with(lambda w, k: connect_token(w, method="GET")), 401, "qsh_mismatch"),
    Row("wrong qsh: query", disable_with(lambda w, k: connect_token(w, query="force=1")), 401, "qsh_mismatch"),
    Row(
        "context-qsh on a non-iframe route",
        disable_with(lambda w, k: connect_token(w, qsh="context-qsh")),
        401,
        "context_qsh_not_allowed",
    ),
    Row(
        "unsigned install",
        signed_lifecycle("/connect/installed", hijack, lambda w, k, p: None),
        401,
        "unsigned_install",
    ),
    Row("HS256-signed install", signed_lifecycle("/connect/installed", hijack, hs256_install), 401),
    Row(
        "install signed with the attacker's own key",
        signed_lifecycle("/connect/installed", hijack, lambda w, k, p: install_token(k.stranger, p)),
        401,
    ),
    Row(
        "unsigned uninstall",
        signed_lifecycle("/connect/uninstalled", uninstall_body, lambda w, k, p: None),
        401,
        "unsigned_install",
    ),
    Row(
        "HS256-signed uninstall",
        signed_lifecycle(
            "/connect/uninstalled", uninstall_body, lambda w, k, p: hs256_install(w, k, p, "/connect/uninstalled")
        ),
        401,
    ),
    Row(
        "uninstall signed with the attacker's own key",
        signed_lifecycle(
            "/connect/uninstalled",
            uninstall_body,
            lambda w, k, p: install_token(k.stranger, {**p, "accountId": "x"}, path="/connect/uninstalled"),
        ),
        401,
    ),
]


# --- CSRF, cross-tenant reads, hostile input -------------------------------------------------------------


def context_token(world, account=ADMIN) -> str:
    claims = connect_claims(world.connect_payload["clientKey"], "GET", "/", qsh="context-qsh", sub=account)
    return jwt.encode(claims, world.connect_payload["sharedSecret"], algorithm="HS256")


USER_TOKENS = {ADMIN: "user-token-admin", EDITOR: "user-token-editor"}  # each user's own, as the stub knows them


def forge_admin(keys: Keys, principal=ADMIN) -> dict:
    """The admin page's call (invokeRemote) for `principal`, with that user's own Forge token."""
    token = signed(admin_fit_claims(INSTALLATION, principal=principal, api_base_url=keys.stub_url), keys.forge)
    return {"Authorization": f"Bearer {token}", "x-forge-oauth-user": USER_TOKENS[principal]}


def connect_audit_reader(world, entry_id: int, account=ADMIN) -> dict:
    """A Connect token bound to this very read (qsh) for `account`: valid, whoever the account is."""
    token = connect_token(world, method="GET", path=f"/api/audit/{entry_id}", sub=account)
    return {"Authorization": f"JWT {token}"}


def forge_viewer(keys: Keys) -> dict:
    token = signed(fit_claims(INSTALLATION, principal=ADMIN, api_base_url=keys.stub_url), keys.forge)
    return {"Authorization": f"Bearer {token}", "x-forge-oauth-user": "user-token-admin"}


def decision(work_id="1") -> dict:
    return {"decisionType": "note", "text": "Approved", "workId": work_id, "idempotencyKey": "a" * 32}


OTHER_ROWS = [
    Row(
        "CSRF: settings saved with the iframe's context token and no admin token",
        lambda c, w, k: c.post(
            "/connect/admin/settings",
            json={"form": {"macro_freshness_seconds": "60"}},
            headers={"Authorization": f"JWT {context_token(w)}"},
        ),
        403,
        "bad_admin_token",
    ),
    Row(
        "CSRF: settings saved with another site's admin token",
        lambda c, w, k: c.post(
            "/connect/admin/settings",
            json={"form": {"macro_freshness_seconds": "60"}},
            headers={"Authorization": f"JWT {context_token(w)}", csrf.HEADER: csrf.issue(w.forge.id, ADMIN)},
        ),
        403,
        "bad_admin_token",
    ),
    Row(
        "CSRF: a decision with the iframe's context token and no action token",
        lambda c, w, k: c.post(
            "/connect/actions/decision", json=decision(), headers={"Authorization": f"JWT {context_token(w)}"}
        ),
        403,
        "bad_action_token",
    ),
    Row(
        "cross-tenant audit read",
        lambda c, w, k: c.get(f"/api/audit/{w.connect_audit_id}", headers=forge_admin(k)),
        403,
        "not_available",
    ),
    Row(
        "Connect non-admin reads the site's audit entry",
        lambda c, w, k: c.get(
            f"/api/audit/{w.connect_audit_id}", headers=connect_audit_reader(w, w.connect_audit_id, EDITOR)
        ),
        403,
        "not_site_admin",
    ),
    Row(
        "admin page token of a non-admin reads the site's audit entry",
        lambda c, w, k: c.get(f"/api/audit/{audit_actions_id(w)}", headers=forge_admin(k, EDITOR)),
        403,
        "not_site_admin",
    ),
    Row(
        "admin page token without the user's own token reads the site's audit entry",
        lambda c, w, k: c.get(
            f"/api/audit/{audit_actions_id(w)}", headers={"Authorization": forge_admin(k)["Authorization"]}
        ),
        403,
        "user_token_required",
    ),
    Row(
        "cross-tenant outbox retry",
        lambda c, w, k: c.post(f"/forge/admin/outbox/{w.connect_outbox_id}/retry", json={}, headers=forge_admin(k)),
        409,
    ),
    Row(
        "deep JSON on the Forge decision route",
        lambda c, w, k: c.post(
            "/forge/actions/decision", data=DEEP, content_type="application/json", headers=forge_viewer(k)
        ),
        400,
        "bad_request",
    ),
    Row(
        "deep JSON on page events",
        lambda c, w, k: c.post(
            "/forge/events/page",
            data=DEEP,
            content_type="application/json",
            headers={
                "Authorization": f"Bearer {signed(system_fit_claims('page-events', INSTALLATION, api_base_url=k.stub_url), k.forge)}"
            },
        ),
        400,
        "bad_request",
    ),
    Row(
        "deep JSON on the lifecycle route",
        lambda c, w, k: c.post(
            "/forge/lifecycle",
            data='{"eventType": "avi:forge:uninstalled:app", "x": ' + DEEP + "}",
            content_type="application/json",
            headers={"Authorization": f"Bearer {signed(lifecycle_claims(k), k.forge)}"},
        ),
        400,
        "bad_request",
    ),
    Row(
        "deep JSON on a Connect webhook",
        lambda c, w, k: c.post(
            "/connect/webhooks/page_updated",
            data=DEEP,
            content_type="application/json",
            headers={"Authorization": f"JWT {connect_token(w, path='/connect/webhooks/page_updated')}"},
        ),
        400,
        "bad_request",
    ),
    Row(
        "deep JSON in a signed install",
        lambda c, w, k: c.post("/connect/installed", data=DEEP, content_type="application/json"),
        400,
        "bad_request",
    ),
    Row(
        "a JSON list where an object belongs (title search)",
        lambda c, w, k: c.post("/forge/titles/search", json=[1, 2], headers=forge_viewer(k)),
        400,
        "bad_request",
    ),
    Row(
        "a body over the size limit",
        lambda c, w, k: c.post(
            "/forge/actions/decision",
            data=b'{"text": "' + b"x" * HUGE + b'"}',
            content_type="application/json",
            headers=forge_viewer(k),
        ),
        413,
        "request_entity_too_large",
    ),
    Row(
        "a huge body on an unauthenticated route",
        lambda c, w, k: c.post("/connect/installed", data=b"{" + b" " * HUGE + b"}", content_type="application/json"),
        413,
        "request_entity_too_large",
    ),
    Row(
        "an out-of-range audit id",
        lambda c, w, k: c.get(f"/api/audit/{OUT_OF_RANGE}", headers=forge_admin(k)),
        404,
        "not_found",
    ),
    Row(
        "an out-of-range outbox id (Forge retry)",
        lambda c, w, k: c.post(f"/forge/admin/outbox/{OUT_OF_RANGE}/retry", json={}, headers=forge_admin(k)),
        404,
        "not_found",
    ),
    Row(
        "an out-of-range outbox id (Connect retry)",
        lambda c, w, k: c.post(
            f"/connect/admin/outbox/{OUT_OF_RANGE}/retry",
            headers={"Authorization": f"JWT {connect_token(w, path=f'/connect/admin/outbox/{OUT_OF_RANGE}/retry')}"},
        ),
        404,
        "not_found",
    ),
]

ROWS = FORGE_TOKEN_ROWS + WRONG_CALLER_ROWS + CONNECT_ROWS + OTHER_ROWS


@pytest.fixture
def keys(forge_key, stranger_key, install_key, stub) -> Keys:
    return Keys(forge_key, stranger_key, install_key, stub.url)


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_each_attack_is_refused_and_changes_nothing(client, world, keys, row):
    before = snapshot(world)
    response = row.send(client, world, keys)
    assert response.status_code == row.status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body and body.get("message"), "every refusal says why in words"
    if row.error:
        assert body["error"] == row.error
    text = response.get_data(as_text=True)
    assert world.connect_payload["sharedSecret"] not in text and world.sandbox.api_key not in text
    assert snapshot(world) == before
    assert tenants.get_secret(world.forge, tenants.CONSONANCE_API_KEY) == world.sandbox.api_key
    assert tenants.connect_shared_secret(world.connect_payload["clientKey"]) == world.connect_payload["sharedSecret"]


@pytest.mark.parametrize("row", WRONG_CALLER_ROWS, ids=[row.name for row in WRONG_CALLER_ROWS])
def test_a_wrong_caller_leaves_an_audit_line(client, world, keys, row):
    assert row.send(client, world, keys).status_code == 403
    assert audit_actions(world.forge)[-1] == "forge_call_refused"


def test_cross_tenant_activity_and_audit_views_show_only_the_sites_own_rows(client, world, keys):
    """The Connect site has a failed write and an audit line; the Forge site's admin sees neither."""
    before = snapshot(world)
    own_failure = OutboxEntry(
        tenant_id=world.forge.id,
        target="consonance",
        kind="consonance.add_note",
        dedupe_key="forge-own-failure",
        payload={"workId": "2", "text": "Forge site's own note"},
        status="failed",
        last_error="HTTP 503",
    )
    db.session.add(own_failure)
    db.session.commit()
    activity = client.post("/forge/admin", json={"view": "activity"}, headers=forge_admin(keys))
    audit = client.post("/forge/admin", json={"view": "audit"}, headers=forge_admin(keys))
    assert activity.status_code == audit.status_code == 200
    activity_html, audit_html = activity.get_json()["html"], audit.get_json()["html"]
    assert "Forge site&#39;s own note" in activity_html or "Forge site's own note" in activity_html  # control
    assert "Connect site" not in activity_html and f'data-entry="{world.connect_outbox_id}"' not in activity_html
    assert "Connect site" not in audit_html
    db.session.delete(own_failure)
    db.session.commit()
    assert snapshot(world) == before


AUDIT_LINE = "API key rotated by the finance team"


@pytest.mark.parametrize("transport", ["forge", "connect"])
def test_only_a_site_admin_reads_an_audit_entry(client, world, keys, stub, transport):
    """The audit log is the site admin's record: a valid token of a non-admin gets the admin page's own refusal
    and nothing of the line; when Confluence cannot say, it stays closed; the site admin reads it."""
    site = world.forge if transport == "forge" else world.connect
    entry = tenants.record(site, "settings_changed", actor=ADMIN, note=AUDIT_LINE)
    db.session.commit()
    entry_id = entry.id
    path = f"/api/audit/{entry_id}"

    def read(account):
        if transport == "forge":
            return client.get(path, headers=forge_admin(keys, account))
        return client.get(path, headers=connect_audit_reader(world, entry_id, account))

    def admin_page(account):
        if transport == "forge":
            return client.post("/forge/admin", json={"view": "audit"}, headers=forge_admin(keys, account))
        view = "/connect/admin/view/audit"
        token = connect_token(world, method="GET", path=view, sub=account)
        return client.get(view, headers={"Authorization": f"JWT {token}"})

    refused, page = read(EDITOR), admin_page(EDITOR)
    assert refused.status_code == page.status_code == 403
    assert refused.get_json() == {"error": "not_site_admin", "message": page.get_json()["message"]}
    assert AUDIT_LINE not in refused.get_data(as_text=True)

    stub.failing_users = True  # Confluence does not answer whether the admin is one: closed, as the admin page
    closed, page = read(ADMIN), admin_page(ADMIN)
    assert closed.status_code == page.status_code == 403
    assert closed.get_json() == {"error": "not_site_admin", "message": page.get_json()["message"]}
    assert "did not say whether you are a site admin" in closed.get_json()["message"]

    stub.failing_users = False
    granted = read(ADMIN)
    assert granted.status_code == 200, granted.get_data(as_text=True)[:300]
    assert granted.get_json()["detail"] == {"note": AUDIT_LINE}
    assert granted.get_json()["action"] == "settings_changed"


def test_a_repeated_wrong_caller_is_audited_once_a_minute(client, world, keys):
    row = WRONG_CALLER_ROWS[0]
    assert [row.send(client, world, keys).status_code for _ in range(5)] == [403] * 5
    assert audit_actions(world.forge).count("forge_call_refused") == 1


# --- the site keeps working: the same routes take their own callers -------------------------------------------


def test_the_lifecycle_trigger_itself_still_uninstalls_and_destroys_the_secrets(client, world, keys):
    token = signed(lifecycle_claims(keys), keys.forge)
    answer = client.post("/forge/lifecycle", json=UNINSTALL, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert tenants.get_secret(world.forge, tenants.CONSONANCE_API_KEY) is None
    assert tenants.get_secret(world.forge, tenants.FORGE_SYSTEM_TOKEN) is None
    assert audit_actions(world.forge)[-1] == "uninstalled"


def test_the_triggers_and_the_admin_page_are_answered(client, world, keys):
    tick = signed(system_fit_claims("schedule-tick", INSTALLATION, api_base_url=keys.stub_url), keys.forge)
    assert client.post("/forge/scheduled", json={}, headers={"Authorization": f"Bearer {tick}"}).status_code == 202
    event = signed(system_fit_claims("page-events", INSTALLATION, api_base_url=keys.stub_url), keys.forge)
    body = {
        "eventType": "avi:confluence:updated:page",
        "content": {"id": "77", "type": "page", "version": {"number": 3}},
    }
    assert client.post("/forge/events/page", json=body, headers={"Authorization": f"Bearer {event}"}).status_code == 202
    assert client.post("/forge/admin", json={}, headers=forge_admin(keys)).status_code == 200
    assert client.get(f"/api/audit/{audit_actions_id(world)}", headers=forge_admin(keys)).status_code == 200


def audit_actions_id(world) -> int:
    from addon.extensions import db
    from addon.platform.models import AuditEntry

    return db.session.query(AuditEntry.id).filter(AuditEntry.tenant_id == world.forge.id).first()[0]


def test_a_connect_uninstall_without_a_shared_secret_destroys_the_secrets(client, world, keys, install_key):
    # Confluence disables the app first, then uninstalls it: the disabled site's secrets go too
    disabled = client.post("/connect/disabled", headers={"Authorization": f"JWT {connect_token(world)}"})
    assert disabled.status_code == 200
    payload = uninstall_body(world)
    payload["accountId"] = ADMIN
    token = install_token(install_key, payload, path="/connect/uninstalled")
    answer = client.post("/connect/uninstalled", json=payload, headers={"Authorization": f"JWT {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert tenants.get_secret(world.connect, tenants.SHARED_SECRET) is None
    assert tenants.get_secret(world.connect, tenants.CONSONANCE_API_KEY) is None
    # replay after uninstall: the old request token no longer gets in
    replay = client.post(
        "/connect/enabled", headers={"Authorization": f"JWT {connect_token(world, path='/connect/enabled')}"}
    )
    assert replay.status_code == 401
    db.session.expire_all()
    assert not tenants.find_tenant(tenants.CONNECT, world.connect_payload["clientKey"]).enabled  # nothing re-enabled


def test_after_a_reinstall_the_old_secret_no_longer_signs(client, world, install_key):
    payload = install_payload(
        world.connect_payload["clientKey"], shared_secret="n" * 40, base_url=world.connect.api_base_url
    )
    answer = client.post(
        "/connect/installed", json=payload, headers={"Authorization": f"JWT {install_token(install_key, payload)}"}
    )
    assert answer.status_code == 200
    old = client.post("/connect/disabled", headers={"Authorization": f"JWT {connect_token(world)}"})
    assert old.status_code == 401
    assert tenants.find_tenant(tenants.CONNECT, world.connect_payload["clientKey"]).enabled


def test_hostile_strings_from_consonance_are_text_in_every_panel(client, world, keys, consonance):
    hostile = '<script>alert(1)</script>" onmouseover="alert(2)" \'><svg onload=alert(3)>'
    created = consonance.control.acquire_title(title=hostile)
    for macro in ("title-status", "rights-link", "metadata-checklist", "launch-readiness"):
        claims = as_module(fit_claims(INSTALLATION, principal=ADMIN, api_base_url=keys.stub_url), macro)
        claims["context"]["extension"]["config"] = {"title": str(created["id"])}
        answer = client.post(
            f"/forge/macro/{macro}", json={}, headers={"Authorization": f"Bearer {signed(claims, keys.forge)}"}
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        html = answer.get_json()["html"]
        assert "<script>" not in html and "<svg" not in html, macro
        assert '" onmouseover="' not in html and "'><svg" not in html, macro
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, macro


def test_the_caller_table_covers_every_forge_route(app):
    from addon.platform.forge_callers import ROUTE_CALLERS

    forge_rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/forge/")}
    assert forge_rules <= set(ROUTE_CALLERS)
    assert APP_ID  # the signing helpers' app id is the test app's FORGE_APP_ID (tests/conftest.py)


SSRF_TARGETS = [
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "http://user@127.0.0.1:6379",
    "http://2130706433:6379",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:6379",
    "http://0x7f.1/",
]


@pytest.mark.parametrize("typed_key", [False, True], ids=["saved key", "typed key"])
@pytest.mark.parametrize("host", SSRF_TARGETS)
def test_ssrf_targets_are_refused_before_anything_is_sent(client, world, keys, host, typed_key):
    before = snapshot(world)
    world.sandbox.control.clear_requests()
    form = {"consonance_host": host, **({"consonance_api_key": "typed-" + "k" * 30} if typed_key else {})}
    answer = client.post("/forge/admin/test-connection", json={"form": form}, headers=forge_admin(keys))
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["errors"]
    assert world.sandbox.api_key not in answer.get_data(as_text=True)
    assert snapshot(world) == before
