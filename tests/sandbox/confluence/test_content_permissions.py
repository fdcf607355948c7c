"""The emulator's content permission check (`POST /wiki/rest/api/content/{id}/permission/check`), checked against
Atlassian's v1 document: everyone reads, view-only users and page edit restrictions stop edits, and a user may
ask only about themselves."""

from __future__ import annotations

import requests

from sandbox.confluence.users import EDITOR_ACCOUNT_ID, VIEWER_ACCOUNT_ID

from .contract import CheckedSession


def _check(session, emulator, page_id, account_id, operation="update"):
    return session.post(
        f"{emulator.url}/wiki/rest/api/content/{page_id}/permission/check",
        json={"subject": {"type": "user", "identifier": account_id}, "operation": operation},
    )


def _page(api, emulator, space):
    body = {
        "spaceId": space["id"],
        "status": "current",
        "title": "Plans",
        "body": {"representation": "storage", "value": "<p>x</p>"},
    }
    return api.post(f"{emulator.url}/wiki/api/v2/pages", json=body).json()["id"]


def test_editors_may_update_viewers_only_read(api, emulator, space, contract):
    page = _page(api, emulator, space)
    assert _check(api, emulator, page, EDITOR_ACCOUNT_ID).json() == {"hasPermission": True}
    refused = _check(api, emulator, page, VIEWER_ACCOUNT_ID).json()
    assert refused["hasPermission"] is False
    assert refused["errors"][0]["translation"] == "User does not have permission to the content"
    assert _check(api, emulator, page, VIEWER_ACCOUNT_ID, "read").json()["hasPermission"] is True
    assert _check(api, emulator, page, "anonymous", "read").json()["hasPermission"] is False
    assert all(status == 200 for _, path, status in contract.checked if path.endswith("/permission/check"))


def test_an_edit_restriction_names_who_may_edit(api, emulator, space):
    page = _page(api, emulator, space)
    answer = requests.post(f"{emulator.url}/_emulator/pages/{page}/restrictions", json={"update": ["admin"]}, timeout=5)
    assert answer.status_code == 200
    admin_id = emulator.emulator.config["DEFAULT_ACCOUNT_ID"]
    assert _check(api, emulator, page, EDITOR_ACCOUNT_ID).json()["hasPermission"] is False
    assert _check(api, emulator, page, admin_id).json()["hasPermission"] is True
    requests.post(f"{emulator.url}/_emulator/pages/{page}/restrictions", json={"update": None}, timeout=5)
    assert _check(api, emulator, page, EDITOR_ACCOUNT_ID).json()["hasPermission"] is True


def test_a_view_restriction_names_who_may_open_the_page_at_all(api, emulator, space):
    page = _page(api, emulator, space)
    url = f"{emulator.url}/_emulator/pages/{page}/restrictions"
    admin_id = emulator.emulator.config["DEFAULT_ACCOUNT_ID"]
    assert requests.post(url, json={"read": ["admin"]}, timeout=5).status_code == 200
    for operation in ("read", "update"):
        assert _check(api, emulator, page, EDITOR_ACCOUNT_ID, operation).json()["hasPermission"] is False
    assert _check(api, emulator, page, admin_id, "read").json()["hasPermission"] is True
    requests.post(url, json={"read": None}, timeout=5)
    assert _check(api, emulator, page, EDITOR_ACCOUNT_ID, "read").json()["hasPermission"] is True


def test_a_user_may_ask_about_themselves_only(api, emulator, space, contract):
    page = _page(api, emulator, space)
    viewer = CheckedSession(contract, f"Bearer {emulator.emulator.user_token(VIEWER_ACCOUNT_ID)}")
    assert _check(viewer, emulator, page, VIEWER_ACCOUNT_ID).json()["hasPermission"] is False
    assert _check(viewer, emulator, page, EDITOR_ACCOUNT_ID).status_code == 403


def test_bad_checks_are_refused_as_the_spec_says(api, emulator, space):
    page = _page(api, emulator, space)
    assert _check(api, emulator, page, EDITOR_ACCOUNT_ID, "administer").status_code == 400
    url = f"{emulator.url}/wiki/rest/api/content/{page}/permission/check"
    assert api.post(url, json={"operation": "read"}).status_code == 400
    assert _check(api, emulator, "999999", EDITOR_ACCOUNT_ID).status_code == 404
