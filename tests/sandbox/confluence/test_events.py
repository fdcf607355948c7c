"""Page events reach the app at least once: Forge product events with a FIT, Connect webhooks
signed with the shared secret; retried on failure; duplicated and reordered on request."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import jwt
import requests
from jwt import PyJWKClient

from sandbox.confluence.qsh import query_string_hash

from .conftest import FORGE_APP_ID


def _create(api, emulator, space, title):
    return api.post(
        f"{emulator.url}/wiki/api/v2/pages",
        json={
            "spaceId": space["id"],
            "status": "current",
            "title": title,
            "body": {"representation": "storage", "value": "<p>x</p>"},
        },
    ).json()


def _events(fake_app, name):
    return [r for r in fake_app["received"] if r["name"] == name]


def _wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_forge_page_event_carries_a_valid_fit_and_the_page(api, emulator, fake_app, space):
    emulator.emulator.events.wait_idle()
    fake_app["received"].clear()
    page = _create(api, emulator, space, "Brief")
    assert emulator.emulator.events.wait_idle()
    [event] = _events(fake_app, "forge:event")
    body = event["json"]
    assert body["eventType"] == "avi:confluence:created:page"
    assert body["page"] == {"id": page["id"], "title": "Brief", "spaceKey": "TST", "version": 1}
    token = event["headers"]["Authorization"].removeprefix("Bearer ")
    key = PyJWKClient(f"{emulator.url}/.well-known/jwks.json").get_signing_key_from_jwt(token).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=FORGE_APP_ID, issuer="forge/invocation-token")
    assert claims["app"]["module"]["key"] == "page-events"
    assert event["headers"]["X-Forge-Oauth-System"] == emulator.store.forge.system_token


def test_failed_deliveries_are_retried_until_the_receiver_answers(api, emulator, fake_app, space):
    emulator.emulator.events.wait_idle()
    fake_app["received"].clear()
    fake_app["event_failures"] = 3
    page = _create(api, emulator, space, "Flaky")
    assert emulator.emulator.events.wait_idle()
    attempts = _events(fake_app, "forge:event")
    assert len(attempts) == 4 and {a["json"]["page"]["id"] for a in attempts} == {page["id"]}
    log = [e for e in requests.get(f"{emulator.url}/_emulator/events").json() if e["body"]["page"]["id"] == page["id"]]
    assert [e["status"] for e in log] == [503, 503, 503, 200]


def test_delivery_gives_up_after_four_retries(api, emulator, fake_app, space):
    emulator.emulator.events.wait_idle()
    fake_app["received"].clear()
    fake_app["event_failures"] = 100
    _create(api, emulator, space, "Never")
    assert emulator.emulator.events.wait_idle()
    assert len(_events(fake_app, "forge:event")) == 5  # the first attempt and four retries


def test_duplicates_and_out_of_order_on_request(api, emulator, fake_app, space):
    emulator.emulator.events.wait_idle()
    fake_app["received"].clear()
    requests.post(
        f"{emulator.url}/_emulator/events/settings",
        json={"duplicates": 1, "out_of_order": True, "reorder_window_seconds": 0.3},
    )
    first = _create(api, emulator, space, "First")
    second = _create(api, emulator, space, "Second")
    assert emulator.emulator.events.wait_idle()
    order = [e["json"]["page"]["id"] for e in _events(fake_app, "forge:event")]
    assert sorted(order) == sorted([first["id"]] * 2 + [second["id"]] * 2)
    assert order.index(second["id"]) < order.index(first["id"])


def test_connect_webhooks_are_signed_with_the_shared_secret_and_a_real_qsh(api, emulator, fake_app, space):
    emulator.install_connect(fake_app["base_url"])
    emulator.emulator.uninstall_forge()
    emulator.emulator.events.wait_idle()
    fake_app["received"].clear()
    # with Forge gone the bearer token is void: act through the store as a person would in the editor
    page = emulator.store.create_page(space["id"], "Webhook page", "<p>x</p>")
    assert _wait_for(lambda: _events(fake_app, "webhook:page_created"))
    [hook] = _events(fake_app, "webhook:page_created")
    token = hook["headers"]["Authorization"].removeprefix("JWT ")
    claims = jwt.decode(token, emulator.store.connect.shared_secret, algorithms=["HS256"])
    path = urlsplit(hook["path"]).path
    assert claims["iss"] == emulator.store.connect.client_key
    assert claims["qsh"] == query_string_hash("POST", path, "")
    assert hook["json"]["page"]["id"] == int(page.id) and hook["json"]["page"]["version"] == 1
