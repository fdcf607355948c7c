"""Tokens the emulator mints and checks: FITs against the served JWKS, signed installs against
the key server, Connect JWTs with a real qsh (a bad qsh is refused)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from jwt import PyJWKClient

from sandbox.confluence.qsh import canonical_request, query_string_hash

from .conftest import FORGE_APP_ID
from .contract import CheckedSession


def test_qsh_matches_atlassians_published_vectors():
    assert canonical_request("GET", "/rest/api/space", "limit=10&start=0") == "GET&/rest/api/space&limit=10&start=0"
    assert (
        query_string_hash("GET", "/rest/api/space", "limit=10&start=0")
        == "5c0deae67ca3bc03f7f35363c3ed9d5aa3537de95d92a988460465f54f0c0697"
    )
    assert (
        query_string_hash("POST", "/installed", "")
        == "4a2e1de8ca74e6cafe8862d332fa3ac7a8e51e692bc6d798ea4dfedc14948bf4"
    )
    assert (
        canonical_request("GET", "/wiki/rest/api/x&y/", "b=2&a=1&a=0&jwt=t", base_path="/wiki")
        == "GET&/rest/api/x%26y&a=0,1&b=2"
    )


def test_minted_fit_verifies_against_the_served_jwks(emulator):
    token = requests.post(
        f"{emulator.url}/_emulator/fit",
        json={"module_key": "title-status", "principal": "557058:abc", "content_id": "10003", "space_key": "PUB"},
    ).json()["token"]
    signing_key = PyJWKClient(f"{emulator.url}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, signing_key.key, algorithms=["RS256"], audience=FORGE_APP_ID, issuer="forge/invocation-token"
    )
    installation = emulator.store.forge
    assert jwt.get_unverified_header(token)["kid"] == emulator.emulator.fit_key.kid
    assert claims["app"]["installationId"] == installation.id and installation.id.startswith(
        "ari:cloud:ecosystem::installation/"
    )
    assert claims["app"]["apiBaseUrl"] == emulator.url
    assert claims["app"]["module"] == {"type": "xen:macro", "key": "title-status"}
    assert claims["app"]["installation"]["contexts"] == [f"ari:cloud:confluence::site/{emulator.store.cloud_id}"]
    assert claims["context"]["cloudId"] == emulator.store.cloud_id
    assert claims["context"]["extension"]["type"] == "macro"
    assert claims["context"]["extension"]["content"]["id"] == "10003"
    assert claims["principal"] == "557058:abc"
    assert 50 <= claims["exp"] - claims["iat"] <= 70 and claims["nbf"] <= time.time() + 1 and claims["jti"]


def test_forge_user_token_from_the_invocation_is_accepted_by_the_api(emulator, contract):
    headers = emulator.emulator.forge_headers(emulator.mint_fit(principal="557058:user"), "557058:user")
    as_user = CheckedSession(contract, f"Bearer {headers['x-forge-oauth-user']}")
    assert as_user.get(f"{emulator.url}/wiki/api/v2/spaces").status_code == 200


def test_connect_install_sends_a_signed_install_token_verifiable_at_the_key_server(emulator, fake_app):
    result = emulator.install_connect(fake_app["base_url"])
    call = next(r for r in fake_app["received"] if r["name"] == "connect:installed")
    token = call["headers"]["Authorization"].removeprefix("JWT ")
    kid = jwt.get_unverified_header(token)["kid"]
    pem = requests.get(f"{emulator.url}/install-keys/{kid}").text
    claims = jwt.decode(token, pem, algorithms=["RS256"], audience=fake_app["base_url"])
    assert claims["iss"] == call["json"]["clientKey"] == result["clientKey"]
    assert claims["qsh"] == query_string_hash("POST", "/connect/installed", "")
    assert call["json"]["baseUrl"] == f"{emulator.url}/wiki" and call["json"]["sharedSecret"]
    assert emulator.store.connect.shared_secret == call["json"]["sharedSecret"]
    assert requests.get(f"{emulator.url}/install-keys/other-kid").status_code == 404
    enabled = next(r for r in fake_app["received"] if r["name"] == "connect:enabled")
    enabled_claims = jwt.decode(
        enabled["headers"]["Authorization"].removeprefix("JWT "), call["json"]["sharedSecret"], algorithms=["HS256"]
    )
    assert enabled_claims["qsh"] == query_string_hash("POST", "/connect/enabled", "")


def test_connect_uninstall_is_signed_and_forgets_the_secret(emulator, fake_app):
    emulator.install_connect(fake_app["base_url"])
    emulator.emulator.uninstall_connect()
    names = [r["name"] for r in fake_app["received"]]
    assert names.index("connect:disabled") < names.index("connect:uninstalled")
    call = next(r for r in fake_app["received"] if r["name"] == "connect:uninstalled")
    token = call["headers"]["Authorization"].removeprefix("JWT ")
    pem = requests.get(f"{emulator.url}/install-keys/{jwt.get_unverified_header(token)['kid']}").text
    assert jwt.decode(token, pem, algorithms=["RS256"], audience=fake_app["base_url"])["qsh"] == query_string_hash(
        "POST", "/connect/uninstalled", ""
    )
    assert emulator.store.connect is None


def _outgoing(method, url, *, key, client_key, secret, qsh=None):
    parts = urlsplit(url)
    now = int(time.time())
    claims = {
        "iss": key,
        "aud": [client_key],
        "iat": now,
        "exp": now + 180,
        "qsh": qsh or query_string_hash(method, parts.path, parts.query, "/wiki"),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.fixture
def connect(emulator, fake_app):
    emulator.install_connect(fake_app["base_url"])
    inst = emulator.store.connect
    return {"key": inst.key, "client_key": inst.client_key, "secret": inst.shared_secret}


def test_connect_jwt_with_a_real_qsh_is_accepted(emulator, contract, connect):
    url = f"{emulator.url}/wiki/api/v2/spaces?limit=5"
    token = _outgoing("GET", url, **connect)
    assert CheckedSession(contract, f"JWT {token}").get(url).status_code == 200


@pytest.mark.parametrize("problem", ["bad-qsh", "other-path", "wrong-secret", "wrong-issuer", "context-qsh"])
def test_connect_jwt_is_refused_when_wrong(emulator, contract, connect, problem):
    url = f"{emulator.url}/wiki/api/v2/spaces?limit=5"
    options = dict(connect)
    if problem == "bad-qsh":
        options["qsh"] = "0" * 64
    elif problem == "other-path":
        options["qsh"] = query_string_hash("GET", "/api/v2/pages", "limit=5")
    elif problem == "wrong-secret":
        options["secret"] = "not-the-secret-" + "x" * 32  # long enough that only its value is wrong
    elif problem == "wrong-issuer":
        options["key"] = "com.someone.else"
    else:
        options["qsh"] = "context-qsh"
    response = CheckedSession(contract, f"JWT {_outgoing('GET', url, **options)}").get(url)
    assert response.status_code == 401


def test_each_forge_call_is_signed_for_the_manifest_module_that_makes_it():
    """The emulator reads the app's manifest as Forge does: triggers, the uninstall and the scheduled tick go
    to their own modules' endpoints (the app refuses any other module on those routes)."""
    from pathlib import Path

    from sandbox.confluence.app_descriptors import parse_manifest

    app = parse_manifest((Path(__file__).resolve().parents[3] / "manifest.yml").read_text())
    assert app.trigger("avi:forge:installed:app") == ("app-lifecycle", "/forge/lifecycle")
    assert app.trigger("avi:forge:uninstalled:app") == ("app-lifecycle", "/forge/lifecycle")
    assert app.trigger("avi:confluence:updated:page") == ("page-events", "/forge/events/page")
    assert [(t.key, t.route) for t in app.scheduled_triggers] == [("schedule-tick", "/forge/scheduled")]
