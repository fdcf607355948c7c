"""Every route that takes input answers hostile input with a 4xx, never a 500: each route the app serves is
sent bodies of every wrong shape (too deep, a list, a string, null, fields of the wrong types) by its own
rightful caller, and tokens whose JSON is nested thousands deep."""

from __future__ import annotations

import base64
import json

import pytest

from addon.admin import csrf
from addon.platform.forge_callers import ADMIN_MODULES, ROUTE_CALLERS
from tests.fixtures.admin import ADMIN, INSTALLATION
from tests.platform.signing import admin_fit_claims, as_module, fit_claims, sign_rs256, system_fit_claims
from tests.security.test_attacks import connect_token

WRONG_FIELDS = {
    "eventType": ["avi:forge:uninstalled:app"],
    "call": {"payload": [1]},
    "content": "x",
    "page": [],
    "decisionType": {"a": 1},
    "text": 7,
    "workId": {"$ne": None},
    "idempotencyKey": ["k"],
    "macro": ["title-status"],
    "pageId": {"x": 1},
    "actionToken": 5,
    "refresh": "yes",
    "form": [1, 2],
    "view": ["audit"],
    "q": ["a"],
    "space": {"k": 1},
    "query": 3,
    "consonance_host": ["http://x"],
}
BODIES = {
    "deep": "[" * 3000 + "]" * 3000,
    "deep object": '{"a":' * 3000 + "1" + "}" * 3000,
    "list": "[1, 2, 3]",
    "string": '"hello"',
    "number": "12345678901234567890123",
    "null": "null",
    "not json": "{nope",
    "wrong field types": json.dumps(WRONG_FIELDS),
    "wrong nested types": json.dumps({"form": WRONG_FIELDS, "call": {"payload": WRONG_FIELDS}, **WRONG_FIELDS}),
}


READS_THE_BODY = {
    "/forge/lifecycle",
    "/forge/scheduled",
    "/forge/events/page",
    "/forge/macro/<macro_key>",
    "/forge/actions/decision",
    "/forge/titles/search",
    "/forge/admin",
    "/forge/admin/settings",
    "/forge/admin/test-connection",
    "/forge/admin/<any(spaces, pages):kind>",
    "/connect/actions/decision",
    "/connect/admin/settings",
    "/connect/admin/test-connection",
    "/connect/webhooks/<event>",
    '/forge/admin/onboarding/<any("sync-now", count, "create-pages", progress):action>',
    '/connect/admin/onboarding/<any("sync-now", count, "create-pages", progress):action>',
}


def forge_headers(rule: str, forge_key, stub_url: str) -> dict:
    callers = ROUTE_CALLERS[rule]
    module = "title-status" if "title-status" in callers.modules else sorted(callers.modules)[0]
    if callers.who.value == "system":
        claims = system_fit_claims(module, INSTALLATION, api_base_url=stub_url)
    elif callers.modules == ADMIN_MODULES:
        claims = admin_fit_claims(INSTALLATION, principal=ADMIN, api_base_url=stub_url)
    else:
        claims = as_module(fit_claims(INSTALLATION, principal=ADMIN, api_base_url=stub_url), module)
    return {
        "Authorization": f"Bearer {sign_rs256(claims, forge_key, 'forge-1')}",
        "x-forge-oauth-user": "user-token-admin",
    }


def concrete(rule: str) -> str:
    return (
        rule.replace("<macro_key>", "title-status")
        .replace("<any(spaces, pages):kind>", "spaces")
        .replace("<int:entry_id>", "1")
        .replace("<event>", "page_updated")
        .replace("<name>", "activity")
        .replace('<any("sync-now", count, "create-pages", progress):action>', "count")
    )


def input_routes(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/static", "/metrics", "/healthz", "/readyz")):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule))
    # `/connect/disabled` switches the Connect site off (it reads no body): last, so the others still reach it
    return sorted(found, key=lambda route: route[1] == "/connect/disabled")


@pytest.mark.parametrize("body_name", sorted(BODIES))
def test_every_route_answers_hostile_bodies_with_a_4xx(app, client, world, forge_key, stub, body_name):
    body = BODIES[body_name]
    answered = []
    for method, rule in input_routes(app):
        path = concrete(rule)
        if rule.startswith("/forge/") or (rule.startswith("/api/") and rule in ROUTE_CALLERS):
            headers = forge_headers(rule, forge_key, stub.url)
        elif rule.startswith("/connect/") and rule not in ("/connect/installed", "/connect/uninstalled"):
            # request-bound, from a site admin (the stub says so), with the page's admin token: every check passes
            headers = {"Authorization": f"JWT {connect_token(world, method=method, path=path, sub=ADMIN)}"}
            headers[csrf.HEADER] = csrf.issue(world.connect.id, ADMIN)
        else:
            headers = {}
        response = client.open(path, method=method, data=body, content_type="application/json", headers=headers)
        answered.append((method, path, response.status_code))
        if rule in READS_THE_BODY:  # the route's rightful caller: the body, not the token, decided the answer
            assert response.status_code not in (401, 403), (method, path, response.get_data(as_text=True)[:300])
        assert response.status_code < 500, (method, path, response.get_data(as_text=True)[:300])
    assert len(answered) > 20  # the routes were found and reached


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("part", ["header", "claims"])
@pytest.mark.parametrize("scheme, path", [("Bearer", "/forge/lifecycle"), ("JWT", "/connect/disabled")])
def test_a_token_whose_json_is_nested_thousands_deep_is_a_401(client, world, part, scheme, path):
    deep = _b64(b"[" * 5000 + b"]" * 5000)
    plain = _b64(json.dumps({"alg": "RS256", "kid": "forge-1"}).encode())
    token = f"{deep}.{_b64(b'{}')}.c2ln" if part == "header" else f"{plain}.{deep}.c2ln"
    response = client.post(path, json={}, headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 401, response.get_data(as_text=True)[:300]
