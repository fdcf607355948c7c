"""Users with operations (site admins administer the application), validated against the v1 document;
the app's admin page hosted from its own manifest resource (Forge) or its configure page (Connect);
each macro framed from the resource its manifest entry names; a trailing `*` in `title ~`."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import requests

from sandbox.confluence.qsh import query_string_hash
from sandbox.confluence.users import EDITOR_ACCOUNT_ID

from .contract import CheckedSession

ADMIN_OPERATION = {"operation": "administer", "targetType": "application"}


def _user_session(emulator, contract, account_id):
    return CheckedSession(contract, f"Bearer {emulator.emulator.user_token(account_id)}")


def _connect_jwt(emulator, method, url):
    inst = emulator.store.connect
    parts = urlsplit(url)
    now = int(time.time())
    claims = {
        "iss": inst.key,
        "aud": [inst.client_key],
        "iat": now,
        "exp": now + 180,
        "qsh": query_string_hash(method, parts.path, parts.query, "/wiki"),
    }
    return jwt.encode(claims, inst.shared_secret, algorithm="HS256")


def test_current_user_with_operations_says_who_administers_the_site(emulator, contract):
    url = f"{emulator.url}/wiki/rest/api/user/current?expand=operations"
    admin_id = emulator.emulator.config["DEFAULT_ACCOUNT_ID"]
    admin = _user_session(emulator, contract, admin_id).get(url).json()
    assert admin["type"] == "known" and admin["accountId"] == admin_id and admin["displayName"]
    assert ADMIN_OPERATION in admin["operations"]

    editor = _user_session(emulator, contract, EDITOR_ACCOUNT_ID).get(url).json()
    assert editor["accountId"] == EDITOR_ACCOUNT_ID and editor["displayName"] == "Eddie Editor"
    assert ADMIN_OPERATION not in editor["operations"]

    plain = _user_session(emulator, contract, admin_id).get(f"{emulator.url}/wiki/rest/api/user/current").json()
    assert "operations" not in plain and "operations" in plain["_expandable"]
    assert [status for _, path, status in contract.checked if "/rest/api/user/current" in path] == [200, 200, 200]


def test_the_system_token_is_the_app_user_not_an_admin(emulator, api):
    me = api.get(f"{emulator.url}/wiki/rest/api/user/current", params={"expand": "operations"}).json()
    assert me["accountType"] == "app" and ADMIN_OPERATION not in me["operations"]


def test_user_by_account_id_over_connect_and_admins_set_through_control(emulator, contract, fake_app):
    emulator.install_connect(fake_app["base_url"])
    url = f"{emulator.url}/wiki/rest/api/user?accountId={EDITOR_ACCOUNT_ID}&expand=operations"

    def lookup():
        response = CheckedSession(contract, f"JWT {_connect_jwt(emulator, 'GET', url)}").get(url)
        assert response.status_code == 200, response.text
        return response.json()

    assert ADMIN_OPERATION not in lookup()["operations"]
    changed = requests.post(f"{emulator.url}/_emulator/users", json={"accountId": EDITOR_ACCOUNT_ID, "admin": True})
    assert changed.json()["admin"] is True
    assert ADMIN_OPERATION in lookup()["operations"]
    listed = {u["accountId"]: u for u in requests.get(f"{emulator.url}/_emulator/users").json()}
    assert listed[EDITOR_ACCOUNT_ID]["admin"] and listed[emulator.emulator.config["DEFAULT_ACCOUNT_ID"]]["admin"]

    missing = requests.get(
        f"{emulator.url}/wiki/rest/api/user",
        headers={"Authorization": f"JWT {_connect_jwt(emulator, 'GET', emulator.url + '/wiki/rest/api/user')}"},
    )
    assert missing.status_code == 400
    assert requests.get(url).status_code == 401  # no token, no answer


def test_admin_accounts_are_configurable(signing_keys, fake_app):
    from sandbox.confluence.testing import running_emulator

    with running_emulator(**signing_keys, ADMIN_ACCOUNT_IDS=["557058:someone-else"]) as emu:
        users = emu.emulator.users
        assert users.is_admin("557058:someone-else") and not users.is_admin(emu.emulator.config["DEFAULT_ACCOUNT_ID"])


def test_forge_admin_page_is_hosted_from_its_own_resource_with_the_bridge(emulator, fake_app):
    index = requests.get(emulator.url + "/").text
    assert 'href="/wiki/admin/apps/consonance-admin"' in index

    page = requests.get(f"{emulator.url}/wiki/admin/apps/consonance-admin", params={"as": "editor"}).text
    src = re.search(r'class="app-macro app-admin forge-admin"[^>]*src="([^"]+)"', page).group(1)
    frame_html = requests.get(emulator.url + src).text
    assert "admin ui" in frame_html
    assert f'<base href="{fake_app["base_url"]}/static/admin/">' in frame_html
    bridge_url = re.search(r'"bridgeUrl": "([^"]+)"', frame_html).group(1)

    context = requests.post(bridge_url, json={"method": "getContext"}).json()["result"]
    assert context["moduleKey"] == "consonance-admin" and context["accountId"] == EDITOR_ACCOUNT_ID
    assert context["extension"] == {"type": "confluence:globalSettings"}

    answer = requests.post(
        bridge_url,
        json={
            "method": "invoke",
            "payload": {
                "invokeType": "ui-remote-fetch",
                "path": "/forge/admin/settings",
                "method": "POST",
                "body": {"form": {"x": 1}},
            },
        },
    ).json()["result"]
    assert answer["success"] and answer["payload"]["body"]["received"] == {"form": {"x": 1}}
    call = next(r for r in fake_app["received"] if r["name"] == "forge:admin:settings")
    claims = jwt.decode(call["headers"]["Authorization"].removeprefix("Bearer "), options={"verify_signature": False})
    assert claims["principal"] == EDITOR_ACCOUNT_ID
    assert claims["app"]["module"] == {"type": "confluence:globalSettings", "key": "consonance-admin"}
    user_token = call["headers"]["X-Forge-Oauth-User"]
    me = requests.get(
        f"{emulator.url}/wiki/rest/api/user/current",
        params={"expand": "operations"},
        headers={"Authorization": f"Bearer {user_token}"},
    ).json()
    assert me["accountId"] == EDITOR_ACCOUNT_ID  # the token the app gets is the viewing user's

    resolver = requests.post(bridge_url, json={"method": "invoke", "payload": {"functionKey": "load"}}).json()["result"]
    assert resolver["success"] and resolver["payload"]["body"]["admin"] == "page"  # the module's resolver route

    assert requests.get(f"{emulator.url}/wiki/admin/apps/no-such-module").status_code == 404


def test_each_macro_frame_uses_the_resource_its_manifest_entry_names(emulator, fake_app):
    seeded = requests.post(f"{emulator.url}/_emulator/seed", json={"work_id": "5"}).json()
    html = requests.get(emulator.url + seeded["pageUrl"]).text
    src = re.search(r'data-macro-key="title-status"[^>]*src="([^"]+)"', html).group(1)
    assert f'<base href="{fake_app["base_url"]}/static/customui/">' in requests.get(emulator.url + src).text
    forge_app = emulator.emulator.forge_app
    assert forge_app.macro_resource_path("title-status") == "static/customui"
    assert forge_app.admin_pages["consonance-admin"].resource_path == "static/admin"


def test_connect_configure_page_gets_a_context_jwt_for_the_viewing_user(emulator, fake_app):
    emulator.emulator.uninstall_forge()
    emulator.install_connect(fake_app["base_url"])
    assert 'href="/wiki/admin/apps/settings"' in requests.get(emulator.url + "/").text

    page = requests.get(f"{emulator.url}/wiki/admin/apps/settings", params={"as": "editor"}).text
    match = re.search(r'class="app-macro app-admin connect-admin"[^>]*data-token-url="([^"]+)"[^>]*src="([^"]+)"', page)
    token_url, src = match.group(1), match.group(2).replace("&amp;", "&")
    assert src.startswith(f"{fake_app['base_url']}/connect/admin?")
    query = parse_qs(urlsplit(src).query)
    assert query["cp"] == ["/wiki"] and query["xdm_e"] == [emulator.url]
    secret = emulator.store.connect.shared_secret
    claims = jwt.decode(query["jwt"][0], secret, algorithms=["HS256"], options={"verify_aud": False})
    assert claims["qsh"] == "context-qsh" and claims["sub"] == EDITOR_ACCOUNT_ID
    assert claims["iss"] == emulator.store.connect.client_key

    fresh = requests.post(emulator.url + token_url).json()
    assert (
        jwt.decode(fresh["token"], secret, algorithms=["HS256"], options={"verify_aud": False})["sub"]
        == EDITOR_ACCOUNT_ID
    )
    assert requests.get(src).text.endswith("configure page</body></html>")


def test_viewer_remembers_who_is_viewing_and_offers_the_switch(emulator):
    seeded = requests.post(f"{emulator.url}/_emulator/seed", json={"work_id": "5"}).json()
    session = requests.Session()
    first = session.get(emulator.url + seeded["pageUrl"], params={"as": "editor"}).text
    assert f"viewing as {EDITOR_ACCOUNT_ID}" in first
    assert re.search(rf'<option value="{re.escape(EDITOR_ACCOUNT_ID)}" selected>Eddie Editor</option>', first)
    assert f"viewing as {EDITOR_ACCOUNT_ID}" in session.get(emulator.url + seeded["pageUrl"]).text
    default = emulator.emulator.config["DEFAULT_ACCOUNT_ID"]
    assert f"viewing as {default}" in requests.get(emulator.url + seeded["pageUrl"]).text


def test_cql_title_contains_accepts_a_trailing_star(api, emulator, space):
    for title in ("Stage guide", "Stage notes", "Rights guidance"):
        api.post(
            f"{emulator.url}/wiki/api/v2/pages",
            json={
                "spaceId": space["id"],
                "status": "current",
                "title": title,
                "body": {"representation": "storage", "value": "<p>x</p>"},
            },
        )

    def titles(cql):
        response = api.get(f"{emulator.url}/wiki/rest/api/search", params={"cql": cql})
        assert response.status_code == 200, response.text
        return sorted(r["title"] for r in response.json()["results"])

    assert titles('type = page AND title ~ "Stage gu*"') == ["Stage guide"]
    assert titles('type = page AND title ~ "stage*"') == ["Stage guide", "Stage notes"]
    assert titles('type = page AND space = "TST" AND title ~ "guid*"') == ["Rights guidance", "Stage guide"]
