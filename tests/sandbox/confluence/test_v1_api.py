"""REST v1: labels, CQL search, attachments, macro bodies and space creation, validated against
Atlassian's v1 document."""

from __future__ import annotations

import pytest

MACRO_PAGE = (
    '<p>before</p><ac:structured-macro ac:name="code" ac:macro-id="m-42">'
    '<ac:parameter ac:name="language">python</ac:parameter>'
    '<ac:plain-text-body><![CDATA[print("a & b")]]></ac:plain-text-body></ac:structured-macro>'
)


@pytest.fixture
def page(api, emulator, space):
    response = api.post(
        f"{emulator.url}/wiki/api/v2/pages",
        json={
            "spaceId": space["id"],
            "status": "current",
            "title": "Rights guidance",
            "body": {"representation": "storage", "value": MACRO_PAGE},
        },
    )
    return response.json()


def test_labels_add_list_remove(api, emulator, page):
    base = f"{emulator.url}/wiki/rest/api/content/{page['id']}/label"
    added = api.post(base, json=[{"prefix": "global", "name": "rights"}, {"prefix": "global", "name": "territory"}])
    assert [label["name"] for label in added.json()["results"]] == ["rights", "territory"]
    assert api.delete(f"{base}/rights").status_code == 204
    assert [label["name"] for label in api.get(base).json()["results"]] == ["territory"]
    assert api.delete(base, params={"name": "territory"}).status_code == 204
    assert api.get(base).json()["size"] == 0


def test_cql_search_subset(api, emulator, space, page):
    api.post(f"{emulator.url}/wiki/rest/api/content/{page['id']}/label", json={"prefix": "global", "name": "rights"})
    api.post(
        f"{emulator.url}/wiki/api/v2/pages/{page['id']}/properties",
        json={"key": "consonance", "value": {"workId": "9"}},
    )
    child = api.post(
        f"{emulator.url}/wiki/api/v2/pages",
        json={
            "spaceId": space["id"],
            "status": "current",
            "title": "Territory rules",
            "parentId": page["id"],
            "body": {"representation": "storage", "value": "<p>t</p>"},
        },
    ).json()

    def ids(cql):
        response = api.get(f"{emulator.url}/wiki/rest/api/search", params={"cql": cql})
        assert response.status_code == 200, response.text
        return [r["content"]["id"] for r in response.json()["results"]]

    assert ids('type=page AND space="TST" AND label="rights"') == [page["id"]]
    assert ids('type=page AND title="Territory rules"') == [child["id"]]
    assert ids(f"ancestor={page['id']}") == [child["id"]]
    assert ids('content.property[consonance].workId = "9"') == [page["id"]]
    assert ids('space="NOPE"') == []
    assert api.get(f"{emulator.url}/wiki/rest/api/search", params={"cql": "creator wibble"}).status_code == 400


def test_search_paginates_with_next_link(api, emulator, space):
    for i in range(5):
        api.post(
            f"{emulator.url}/wiki/api/v2/pages",
            json={
                "spaceId": space["id"],
                "status": "current",
                "title": f"Meeting {i}",
                "body": {"representation": "storage", "value": ""},
            },
        )
    first = api.get(f"{emulator.url}/wiki/rest/api/search", params={"cql": 'space="TST"', "limit": 4}).json()
    assert first["size"] == 4 and first["totalSize"] == 6  # five pages and the space home
    second = api.get(emulator.url + "/wiki" + first["_links"]["next"]).json()
    assert second["size"] == 2 and "next" not in second["_links"]


def test_attachments_upload_update_download(api, emulator, page):
    base = f"{emulator.url}/wiki/rest/api/content/{page['id']}/child/attachment"
    headers = {"X-Atlassian-Token": "nocheck"}
    created = api.post(
        base,
        headers=headers,
        files={"file": ("chart.png", b"\x89PNG one", "image/png")},
        data={"minorEdit": "true", "comment": "weekly chart"},
    )
    assert created.status_code == 200, created.text
    attachment = created.json()["results"][0]
    assert (
        api.post(
            base, headers=headers, files={"file": ("chart.png", b"dup", "image/png")}, data={"minorEdit": "true"}
        ).status_code
        == 400
    )
    updated = api.put(
        base, headers=headers, files={"file": ("chart.png", b"\x89PNG two", "image/png")}, data={"minorEdit": "true"}
    ).json()["results"][0]
    assert updated["id"] == attachment["id"] and updated["version"]["number"] == 2
    download = api.get(f"{base}/{attachment['id']}/download")
    assert download.content == b"\x89PNG two"


def test_macro_body_by_macro_id(api, emulator, page):
    response = api.get(f"{emulator.url}/wiki/rest/api/content/{page['id']}/history/1/macro/id/m-42")
    assert response.json()["name"] == "code"
    assert response.json()["body"] == 'print("a & b")'
    assert response.json()["parameters"] == {"language": "python"}
    assert api.get(f"{emulator.url}/wiki/rest/api/content/{page['id']}/history/1/macro/id/nope").status_code == 404


def test_v1_space_create(api, emulator):
    response = api.post(
        f"{emulator.url}/wiki/rest/api/space",
        json={
            "key": "RTS",
            "name": "Rights",
            "description": {"plain": {"value": "Rights guidance", "representation": "plain"}},
        },
    )
    assert response.status_code == 200 and response.json()["key"] == "RTS"
    assert (
        api.get(f"{emulator.url}/wiki/api/v2/spaces", params={"keys": "RTS"}).json()["results"][0]["name"] == "Rights"
    )
