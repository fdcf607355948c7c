"""The page viewer over plain HTTP: rendered storage format, task checkboxes, the app's macros
in iframes (Forge Custom UI host with its bridge; Connect URL with a context-qsh JWT), editing."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from jwt import PyJWKClient

from sandbox.confluence.seed import APP_MACROS

from .conftest import FORGE_APP_ID


def _seeded(emulator, work_id="42"):
    return requests.post(f"{emulator.url}/_emulator/seed", json={"work_id": work_id}).json()


def test_seeded_page_renders_tasks_builtins_and_four_forge_macro_iframes(emulator):
    seeded = _seeded(emulator)
    html = requests.get(emulator.url + seeded["pageUrl"]).text
    assert 'class="status-lozenge status-green">LIVE DATA<' in html
    assert 'class="panel panel-info"' in html and 'class="toc"' in html
    assert re.search(r'<input type="checkbox" class="task-checkbox"[^>]*data-task-local-id="1">', html)
    assert re.search(r'<input type="checkbox" class="task-checkbox"[^>]*data-task-local-id="2" checked>', html)
    frames = re.findall(r'<iframe class="app-macro forge-macro" data-macro-key="([^"]+)"[^>]*src="([^"]+)"', html)
    assert [key for key, _ in frames] == list(APP_MACROS)
    assert "<td>Hardback</td>" in html


def test_forge_custom_ui_host_injects_the_bridge_and_answers_invoke_with_a_fresh_fit(emulator, fake_app):
    seeded = _seeded(emulator)
    html = requests.get(emulator.url + seeded["pageUrl"]).text
    src = re.search(r'data-macro-key="rights-link"[^>]*src="([^"]+)"', html).group(1)
    frame_html = requests.get(emulator.url + src).text
    assert "custom ui" in frame_html  # the app's own resource, fetched from the app
    assert f'<base href="{fake_app["base_url"]}/static/customui/">' in frame_html
    assert "forge-bridge.js" in frame_html
    bridge_js = requests.get(f"{emulator.url}/_emulator-static/forge-bridge.js").text
    assert "window.__bridge = {callBridge: callBridge}" in bridge_js
    bridge_url = re.search(r'"bridgeUrl": "([^"]+)"', frame_html).group(1)

    context = requests.post(bridge_url, json={"method": "getContext"}).json()["result"]
    assert context["extension"]["content"]["id"] == seeded["pageId"]
    assert context["extension"]["config"] == {"title": "42"} and context["moduleKey"] == "rights-link"

    answer = requests.post(
        bridge_url,
        json={
            "method": "invoke",
            "payload": {
                "invokeType": "ui-remote-fetch",
                "path": "/forge/macro/rights-link",
                "method": "POST",
                "body": {"call": {"x": 1}},
            },
        },
    ).json()["result"]
    assert answer["success"] and answer["payload"]["body"]["macro"] == "rights-link"
    call = [r for r in fake_app["received"] if r["name"] == "forge:macro:rights-link"][-1]
    assert call["json"] == {"call": {"x": 1}}
    token = call["headers"]["Authorization"].removeprefix("Bearer ")
    key = PyJWKClient(f"{emulator.url}/.well-known/jwks.json").get_signing_key_from_jwt(token).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=FORGE_APP_ID)
    assert claims["context"]["extension"]["content"]["id"] == seeded["pageId"]
    assert claims["principal"] and call["headers"]["X-Forge-Oauth-User"]

    resolver = requests.post(
        bridge_url, json={"method": "invoke", "payload": {"functionKey": "load", "payload": {"refresh": True}}}
    ).json()["result"]
    assert resolver["success"]
    body = [r for r in fake_app["received"] if r["name"] == "forge:macro:rights-link"][-1]["json"]
    assert body["call"] == {"functionKey": "load", "payload": {"refresh": True}}
    assert body["context"]["extension"]["content"]["id"] == seeded["pageId"]


def test_connect_macro_iframe_has_context_variables_and_a_context_qsh_jwt(emulator, fake_app):
    emulator.emulator.uninstall_forge()
    emulator.install_connect(fake_app["base_url"])
    seeded = _seeded(emulator)
    html = requests.get(emulator.url + seeded["pageUrl"]).text
    src = unescape(
        re.search(
            r'<iframe class="app-macro connect-macro" data-macro-key="title-status"[^>]*src="([^"]+)"', html
        ).group(1)
    )
    parts = urlsplit(src)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake_app['base_url']}/connect/macro/title-status"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["pageId"] == seeded["pageId"] and query["spaceKey"] == "PUB" and query["title"] == "42"
    assert query["macroId"] == "seed-title-status" and query["pageVersion"] == "1" and query["outputType"] == "display"
    claims = jwt.decode(query["jwt"], emulator.store.connect.shared_secret, algorithms=["HS256"])
    assert claims["qsh"] == "context-qsh" and claims["iss"] == emulator.store.connect.client_key
    assert "AP = {" in requests.get(f"{emulator.url}/atlassian-connect/all.js").text
    token_url = re.search(r'data-token-url="([^"]+)"', html).group(1)
    fresh = requests.post(emulator.url + token_url).json()["token"]
    assert jwt.decode(fresh, emulator.store.connect.shared_secret, algorithms=["HS256"])["qsh"] == "context-qsh"


def test_editor_saves_a_new_version_and_checkbox_ticks_a_task(emulator):
    seeded = _seeded(emulator)
    page_url = emulator.url + seeded["pageUrl"]
    edit = requests.get(page_url + "/edit").text
    assert 'name="version" value="2"' in edit
    saved = requests.post(
        page_url + "/edit",
        data={
            "title": "Welcome to Publishing",
            "version": "2",
            "body": "<h1>Hello</h1><ac:task-list><ac:task><ac:task-status>incomplete</ac:task-status><ac:task-body>New task</ac:task-body></ac:task></ac:task-list>",
        },
    )
    assert saved.status_code == 200 and '<h1 id="h-0">Hello</h1>' in saved.text
    stale = requests.post(page_url + "/edit", data={"title": "x", "version": "2", "body": "<p/>"})
    assert stale.status_code == 409 and "Current version is: 2" in stale.text
    local_id = re.search(r'data-task-local-id="([^"]+)"', saved.text).group(1)
    toggle_url = re.search(r'data-toggle-url="([^"]+)"', saved.text).group(1)
    toggled = requests.post(f"{emulator.url}{toggle_url}{local_id}", json={"status": "complete"})
    assert toggled.json()["version"] == 3
    assert "<ac:task-status>complete</ac:task-status>" in emulator.store.page(seeded["pageId"]).current.body
