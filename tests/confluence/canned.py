"""Response bodies in Confluence Cloud's shapes (checked against the OpenAPI documents by the tests)."""

from __future__ import annotations

SITE = "https://api.atlassian.com/ex/confluence/0f1e2d3c"
V2 = SITE + "/wiki/api/v2"
V1 = SITE + "/wiki/rest/api"
WHEN = "2026-05-01T10:00:00.000Z"


def space_v2(space_id="98305", key="PUB", name="Publishing", homepage_id="65537"):
    return {
        "id": space_id,
        "key": key,
        "name": name,
        "type": "global",
        "status": "current",
        "authorId": "557058:abc",
        "createdAt": WHEN,
        "homepageId": homepage_id,
        "_links": {"webui": f"/spaces/{key}"},
    }


def space_v1(space_id=98305, key="PUB", name="Publishing", homepage_id="65537"):
    return {
        "id": space_id,
        "key": key,
        "name": name,
        "type": "global",
        "status": "current",
        "homepage": {"id": homepage_id, "type": "page", "status": "current", "title": name + " Home"},
        "_expandable": {"settings": "", "metadata": ""},
        "_links": {"webui": f"/spaces/{key}", "self": f"{V1}/space/{key}"},
    }


def page(page_id="131073", title="Title home", space_id="98305", parent_id="65537", version=1, body=None):
    data = {
        "id": page_id,
        "status": "current",
        "title": title,
        "spaceId": space_id,
        "parentId": parent_id,
        "parentType": "page",
        "authorId": "557058:abc",
        "createdAt": WHEN,
        "version": {"number": version, "createdAt": WHEN, "message": "", "minorEdit": False, "authorId": "557058:abc"},
        "_links": {
            "webui": f"/spaces/PUB/pages/{page_id}",
            "editui": f"/pages/resumedraft.action?draftId={page_id}",
            "tinyui": "/x/AQAC",
        },
    }
    if body is not None:
        data["body"] = {"storage": {"representation": "storage", "value": body}}
    return data


def child_page(page_id, title, space_id="98305", position=0):
    return {"id": page_id, "status": "current", "title": title, "spaceId": space_id, "childPosition": position}


def content_property(prop_id="2001", key="consonance.title", value=None, version=1):
    return {
        "id": prop_id,
        "key": key,
        "value": value if value is not None else {"workId": "W1"},
        "version": {"number": version, "createdAt": WHEN, "message": "", "minorEdit": False, "authorId": "557058:abc"},
    }


def task(task_id="301", local_id="1", page_id="131073", status="incomplete", body="<p>Cover approved</p>"):
    data = {
        "id": task_id,
        "localId": local_id,
        "spaceId": "98305",
        "pageId": page_id,
        "status": status,
        "createdBy": "557058:abc",
        "createdAt": WHEN,
        "updatedAt": WHEN,
    }
    if body is not None:
        data["body"] = {"storage": {"representation": "storage", "value": body}}
    return data


def label(name, label_id="7001", prefix="global"):
    return {"id": label_id, "name": name, "prefix": prefix, "label": name}


def label_array(labels, start=0, limit=200):
    return {"results": labels, "start": start, "limit": limit, "size": len(labels), "_links": {"self": V1 + "/label"}}


def search_result(content_id, title, space_key="PUB"):
    return {
        "content": {
            "id": content_id,
            "type": "page",
            "status": "current",
            "title": title,
            "_expandable": {"space": f"/rest/api/space/{space_key}"},
            "_links": {"webui": f"/spaces/{space_key}/pages/{content_id}"},
        },
        "title": title,
        "excerpt": "",
        "url": f"/spaces/{space_key}/pages/{content_id}",
        "resultGlobalContainer": {"title": "Publishing", "displayUrl": f"/spaces/{space_key}"},
        "breadcrumbs": [],
        "entityType": "content",
        "iconCssClass": "aui-icon content-type-page",
        "lastModified": WHEN,
        "friendlyLastModified": "May 01, 2026",
        "score": 1.0,
    }


def search_page(results, cql, next_link=None, start=0):
    links = {"base": "https://pub.atlassian.net/wiki", "context": "/wiki"}
    if next_link:
        links["next"] = next_link
    return {
        "results": results,
        "start": start,
        "limit": 50,
        "size": len(results),
        "totalSize": len(results),
        "cqlQuery": cql,
        "searchDuration": 12,
        "_links": links,
    }


def attachment(att_id="att98", title="pipeline.png"):
    return {
        "id": att_id,
        "type": "attachment",
        "status": "current",
        "title": title,
        "version": {
            "number": 1,
            "by": {
                "type": "known",
                "accountId": "557058:abc",
                "accountType": "app",
                "email": "",
                "publicName": "app",
                "profilePicture": {"path": "/p.png", "width": 48, "height": 48, "isDefault": True},
                "displayName": "app",
                "isExternalCollaborator": False,
                "_expandable": {},
                "_links": {},
            },
            "when": WHEN,
            "friendlyWhen": "just now",
            "message": "",
            "minorEdit": True,
            "_expandable": {},
            "_links": {},
        },
        "extensions": {"mediaType": "image/png", "fileSize": 4},
        "_links": {"download": f"/download/attachments/131073/{title}?version=1", "webui": "/x"},
        "_expandable": {},
    }


def multi(results, next_link=None):
    links = {"base": "https://pub.atlassian.net/wiki"}
    if next_link:
        links["next"] = next_link
    return {"results": results, "_links": links}
