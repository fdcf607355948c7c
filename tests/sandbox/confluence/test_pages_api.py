"""REST v2 pages, spaces, children, properties and tasks, validated against Atlassian's v2 document."""

from __future__ import annotations

TASKS = (
    "<p>Intro</p><ac:task-list>"
    "<ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Cover</ac:task-body></ac:task>"
    "<ac:task><ac:task-status>complete</ac:task-status><ac:task-body>Metadata</ac:task-body></ac:task>"
    "</ac:task-list>"
)


def _create(api, url, space_id, title, body="<p>x</p>", parent=None):
    payload = {
        "spaceId": space_id,
        "status": "current",
        "title": title,
        "body": {"representation": "storage", "value": body},
    }
    if parent:
        payload["parentId"] = parent
    response = api.post(f"{url}/wiki/api/v2/pages", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def test_spaces_list_filters_by_key(api, emulator, space):
    api.post(f"{emulator.url}/wiki/api/v2/spaces", json={"name": "Other", "key": "OTH"})
    found = api.get(f"{emulator.url}/wiki/api/v2/spaces", params={"keys": "TST"}).json()["results"]
    assert [s["key"] for s in found] == ["TST"]
    assert api.get(f"{emulator.url}/wiki/api/v2/spaces/{space['id']}").json()["homepageId"] == space["homepageId"]


def test_create_read_update_page_with_versions(api, emulator, space):
    page = _create(api, emulator.url, space["id"], "Brief", "<p>one</p>")
    assert page["version"]["number"] == 1 and page["parentId"] == space["homepageId"]
    read = api.get(f"{emulator.url}/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage"}).json()
    assert read["body"]["storage"]["value"] == "<p>one</p>"
    update = {
        "id": page["id"],
        "status": "current",
        "title": "Brief",
        "version": {"number": 2, "message": "edit"},
        "body": {"representation": "storage", "value": "<p>two</p>"},
    }
    updated = api.put(f"{emulator.url}/wiki/api/v2/pages/{page['id']}", json=update)
    assert updated.status_code == 200 and updated.json()["version"]["number"] == 2
    old = api.get(f"{emulator.url}/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage", "version": 1})
    assert old.json()["body"]["storage"]["value"] == "<p>one</p>"


def test_stale_version_is_a_conflict_with_confluences_message(api, emulator, space):
    page = _create(api, emulator.url, space["id"], "Brief")
    update = {
        "id": page["id"],
        "status": "current",
        "title": "Brief",
        "version": {"number": 2},
        "body": {"representation": "storage", "value": "<p>a</p>"},
    }
    assert api.put(f"{emulator.url}/wiki/api/v2/pages/{page['id']}", json=update).status_code == 200
    stale = api.put(f"{emulator.url}/wiki/api/v2/pages/{page['id']}", json=update)
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["title"] == "Version must be incremented on update. Current version is: 2"


def test_children_paginate_with_cursor_links_and_link_header(api, emulator, space):
    parent = _create(api, emulator.url, space["id"], "Parent")
    made = [_create(api, emulator.url, space["id"], f"Child {i}", parent=parent["id"])["id"] for i in range(7)]
    url, seen, pages = f"{emulator.url}/wiki/api/v2/pages/{parent['id']}/children?limit=3", [], 0
    while url:
        response = api.get(url)
        body = response.json()
        seen += [c["id"] for c in body["results"]]
        pages += 1
        next_link = body["_links"].get("next")
        if next_link:
            assert f'<{next_link}>; rel="next"' in response.headers["Link"]
        url = emulator.url + next_link if next_link else None
    assert seen == made and pages == 3
    assert api.get(f"{emulator.url}/wiki/api/v2/pages/{parent['id']}/children?limit=251").status_code == 400


def test_find_page_by_title_in_space_and_delete(api, emulator, space):
    page = _create(api, emulator.url, space["id"], "Decision log")
    found = api.get(f"{emulator.url}/wiki/api/v2/pages", params={"space-id": space["id"], "title": "Decision log"})
    assert [p["id"] for p in found.json()["results"]] == [page["id"]]
    assert api.delete(f"{emulator.url}/wiki/api/v2/pages/{page['id']}").status_code == 204
    assert api.get(f"{emulator.url}/wiki/api/v2/pages/{page['id']}").status_code == 404


def test_content_properties_lifecycle(api, emulator, space):
    page = _create(api, emulator.url, space["id"], "Props")
    base = f"{emulator.url}/wiki/api/v2/pages/{page['id']}/properties"
    prop = api.post(base, json={"key": "consonance", "value": {"workId": "7"}}).json()
    assert prop["version"]["number"] == 1
    assert api.get(base, params={"key": "consonance"}).json()["results"][0]["value"] == {"workId": "7"}
    conflict = api.put(f"{base}/{prop['id']}", json={"key": "consonance", "value": {}, "version": {"number": 1}})
    assert conflict.status_code == 409
    updated = api.put(
        f"{base}/{prop['id']}", json={"key": "consonance", "value": {"workId": "8"}, "version": {"number": 2}}
    )
    assert updated.json()["value"] == {"workId": "8"}
    assert api.delete(f"{base}/{prop['id']}").status_code == 204
    assert api.get(f"{base}/{prop['id']}").status_code == 404


def test_tasks_follow_the_body_and_ticking_changes_the_body(api, emulator, space):
    page = _create(api, emulator.url, space["id"], "Checklist", TASKS)
    tasks = api.get(
        f"{emulator.url}/wiki/api/v2/tasks", params={"page-id": page["id"], "body-format": "storage"}
    ).json()["results"]
    assert [(t["localId"], t["status"], t["body"]["storage"]["value"]) for t in tasks] == [
        ("1", "incomplete", "Cover"),
        ("2", "complete", "Metadata"),
    ]
    ticked = api.put(f"{emulator.url}/wiki/api/v2/tasks/{tasks[0]['id']}", json={"status": "complete"})
    assert ticked.json()["status"] == "complete"
    body = api.get(f"{emulator.url}/wiki/api/v2/pages/{page['id']}", params={"body-format": "storage"}).json()
    assert "<ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status>" in body["body"]["storage"]["value"]
    assert body["version"]["number"] == 2
    # editing the body the other way changes the task, keeping its global id
    update = {
        "id": page["id"],
        "status": "current",
        "title": "Checklist",
        "version": {"number": 3},
        "body": {
            "representation": "storage",
            "value": body["body"]["storage"]["value"].replace(
                "<ac:task-status>complete</ac:task-status><ac:task-body>Metadata",
                "<ac:task-status>incomplete</ac:task-status><ac:task-body>Metadata",
            ),
        },
    }
    api.put(f"{emulator.url}/wiki/api/v2/pages/{page['id']}", json=update)
    again = api.get(f"{emulator.url}/wiki/api/v2/tasks/{tasks[1]['id']}").json()
    assert again["status"] == "incomplete"
    assert [
        t["id"] for t in api.get(f"{emulator.url}/wiki/api/v2/tasks", params={"status": "complete"}).json()["results"]
    ] == [tasks[0]["id"]]


def test_requests_without_a_known_token_are_refused(emulator, contract):
    from .contract import CheckedSession

    anonymous = CheckedSession(contract)
    assert anonymous.get(f"{emulator.url}/wiki/api/v2/spaces").status_code == 401
    forged = CheckedSession(contract, "Bearer not-a-token")
    assert forged.get(f"{emulator.url}/wiki/api/v2/spaces").status_code == 401
