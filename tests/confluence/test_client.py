"""The REST client against canned Confluence answers: what it sends (checked against Atlassian's
OpenAPI documents), what it returns, and how it behaves on pagination, conflicts, 429 and 5xx."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from addon.confluence.auth import ConnectAuth, ForgeAuth
from addon.confluence.client import ConfluenceClient, cql_quote
from addon.confluence.errors import (
    ConfluenceAuthError,
    ConfluenceConflict,
    ConfluenceError,
    ConfluenceNotFound,
    ConfluenceRateLimited,
    ConfluenceUnavailable,
)
from addon.confluence.models import InlineTask, Page
from tests.confluence import canned
from tests.confluence.canned import SITE, V1, V2
from tests.confluence.openapi_check import validate_calls

SECRET = "shared-secret-of-at-least-thirty-two-bytes!"


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        validate_calls(mock.calls)  # every request, and every 2xx answer we used, matches the spec


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def client(sleeps):
    return ConfluenceClient(ForgeAuth(SITE, "system-token"), requests.Session(), sleep=sleeps, jitter=lambda: 0.5)


def _query(call) -> dict:
    return parse_qs(urlsplit(call.request.url).query)


def _body(call) -> dict:
    return json.loads(call.request.body)


# ---------------------------------------------------------------- spaces
def test_get_space_by_key_uses_v2_keys_filter_with_bearer_token(client, rsps):
    rsps.get(V2 + "/spaces", json=canned.multi([canned.space_v2()]))
    space = client.get_space_by_key("PUB")
    assert (space.id, space.key, space.homepage_id) == ("98305", "PUB", "65537")
    assert _query(rsps.calls[0]) == {"keys": ["PUB"]}
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer system-token"


def test_get_space_by_key_answers_none_when_absent(client, rsps):
    rsps.get(V2 + "/spaces", json=canned.multi([]))
    assert client.get_space_by_key("NOPE") is None


def test_create_space_v2(client, rsps):
    rsps.post(V2 + "/spaces", json=canned.space_v2(key="NEW", name="New"), status=201)
    space = client.create_space("NEW", "New", description="Launch hub")
    assert space.key == "NEW"
    assert _body(rsps.calls[0]) == {
        "key": "NEW",
        "name": "New",
        "description": {"value": "Launch hub", "representation": "plain"},
    }


def test_create_space_falls_back_to_v1_when_v2_is_unavailable(client, rsps):
    rsps.post(V2 + "/spaces", status=404, json={"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not found"}]})
    rsps.post(V1 + "/space", json=canned.space_v1(space_id=98399, key="NEW", name="New"))
    space = client.create_space("NEW", "New", description="Launch hub")
    assert (space.id, space.key, space.homepage_id) == ("98399", "NEW", "65537")
    assert _body(rsps.calls[1])["description"] == {"plain": {"value": "Launch hub", "representation": "plain"}}


def test_create_space_does_not_fall_back_on_a_real_refusal(client, rsps):
    rsps.post(
        V2 + "/spaces", status=400, json={"errors": [{"status": 400, "code": "INVALID", "title": "Space key exists"}]}
    )
    with pytest.raises(ConfluenceError) as caught:
        client.create_space("PUB", "Publishing")
    assert caught.value.status == 400 and "Space key exists" in caught.value.message


# ---------------------------------------------------------------- pages
def test_create_page_under_parent_in_storage_format(client, rsps):
    rsps.post(V2 + "/pages", json=canned.page(page_id="200", title="Brief", parent_id="131073", body="<p>x</p>"))
    page = client.create_page("98305", "Brief", "<p>x</p>", parent_id="131073")
    assert page == Page("200", "Brief", "98305", "131073", 1, "<p>x</p>")
    assert _body(rsps.calls[0]) == {
        "spaceId": "98305",
        "status": "current",
        "title": "Brief",
        "parentId": "131073",
        "body": {"representation": "storage", "value": "<p>x</p>"},
    }


def test_get_page_asks_for_storage_body(client, rsps):
    rsps.get(V2 + "/pages/131073", json=canned.page(version=4, body="<p>hello</p>"))
    page = client.get_page("131073")
    assert (page.version, page.body, page.parent_id) == (4, "<p>hello</p>", "65537")
    assert _query(rsps.calls[0]) == {"body-format": ["storage"]}


def test_update_page_sends_next_version(client, rsps):
    rsps.put(V2 + "/pages/131073", json=canned.page(version=5, body="<p>new</p>"))
    current = Page("131073", "Title home", "98305", "65537", 4, "<p>old</p>")
    updated = client.update_page(current, "<p>new</p>", message="regenerated")
    assert updated.version == 5
    sent = _body(rsps.calls[0])
    assert sent["version"] == {"number": 5, "message": "regenerated"}
    assert sent["id"] == "131073" and sent["title"] == "Title home" and sent["status"] == "current"


def test_children_follow_links_next_across_pages(client, rsps):
    rsps.get(
        V2 + "/pages/131073/children",
        match=[matchers.query_param_matcher({"limit": "250"})],
        json=canned.multi(
            [canned.child_page("1", "A"), canned.child_page("2", "B")],
            next_link="/wiki/api/v2/pages/131073/children?cursor=c2&limit=250",
        ),
    )
    rsps.get(
        V2 + "/pages/131073/children",
        match=[matchers.query_param_matcher({"cursor": "c2", "limit": "250"})],
        json=canned.multi(
            [canned.child_page("3", "C")], next_link="/wiki/api/v2/pages/131073/children?cursor=c3&limit=250"
        ),
    )
    rsps.get(
        V2 + "/pages/131073/children",
        match=[matchers.query_param_matcher({"cursor": "c3", "limit": "250"})],
        json=canned.multi([]),
    )
    children = client.iter_children("131073")
    assert next(children).title == "A"  # a generator: later pages are fetched only when needed
    assert len(rsps.calls) == 1
    assert [c.id for c in children] == ["2", "3"]
    assert len(rsps.calls) == 3


def test_children_follow_link_header_when_body_has_no_next(client, rsps):
    rsps.get(
        V2 + "/pages/9/children",
        match=[matchers.query_param_matcher({"limit": "250"})],
        json=canned.multi([canned.child_page("1", "A")]),
        headers={"Link": '</wiki/api/v2/pages/9/children?cursor=zz&limit=250>; rel="next"'},
    )
    rsps.get(
        V2 + "/pages/9/children",
        match=[matchers.query_param_matcher({"cursor": "zz", "limit": "250"})],
        json=canned.multi([canned.child_page("2", "B")]),
    )
    assert [c.title for c in client.iter_children("9")] == ["A", "B"]
    assert all(c.request.url.startswith(SITE + "/wiki/api/v2/") for c in rsps.calls)


def test_find_page_by_title_in_space(client, rsps):
    rsps.get(V2 + "/pages", json=canned.multi([canned.page(page_id="77", title="Decision log", body="<p/>")]))
    page = client.find_page_by_title("98305", "Decision log")
    assert page.id == "77" and page.body == "<p/>"
    assert _query(rsps.calls[0]) == {
        "space-id": ["98305"],
        "title": ["Decision log"],
        "body-format": ["storage"],
        "limit": ["25"],
    }


def test_search_uses_cql_and_follows_v1_search_pagination(client, rsps):
    cql = 'type = page AND space = "PUB"'
    rsps.get(
        V1 + "/search",
        match=[matchers.query_param_matcher({"cql": cql, "limit": "50"})],
        json=canned.search_page(
            [canned.search_result("101", "Home")], cql, next_link="/rest/api/search?cql=x&limit=50&cursor=abc&next=true"
        ),
    )
    rsps.get(
        V1 + "/search",
        match=[matchers.query_param_matcher({"cql": "x", "limit": "50", "cursor": "abc", "next": "true"})],
        json=canned.search_page([canned.search_result("102", "Brief")], cql),
    )
    assert [r.content_id for r in client.search(cql)] == ["101", "102"]


def test_cql_quote_escapes_quotes_and_backslashes():
    assert cql_quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'


# ---------------------------------------------------------------- content properties
def test_page_property_get_create_update(client, rsps):
    rsps.get(
        V2 + "/pages/5/properties", json=canned.multi([canned.content_property(value={"workId": "W1"}, version=2)])
    )
    rsps.put(V2 + "/pages/5/properties/2001", json=canned.content_property(value={"workId": "W2"}, version=3))
    prop = client.set_page_property("5", "consonance.title", {"workId": "W2"})
    assert (prop.value, prop.version) == ({"workId": "W2"}, 3)
    assert _query(rsps.calls[0]) == {"key": ["consonance.title"]}
    assert _body(rsps.calls[1]) == {"key": "consonance.title", "value": {"workId": "W2"}, "version": {"number": 3}}


def test_page_property_created_when_missing_and_not_rewritten_when_equal(client, rsps):
    rsps.get(V2 + "/pages/5/properties", json=canned.multi([]))
    rsps.post(V2 + "/pages/5/properties", json=canned.content_property(value=[1, 2]))
    assert client.set_page_property("5", "consonance.title", [1, 2]).value == [1, 2]
    rsps.replace(responses.GET, V2 + "/pages/5/properties", json=canned.multi([canned.content_property(value=[1, 2])]))
    assert client.set_page_property("5", "consonance.title", [1, 2]).version == 1
    assert [c.request.method for c in rsps.calls] == ["GET", "POST", "GET"]


# ---------------------------------------------------------------- labels
def test_labels_add_list_remove(client, rsps):
    rsps.post(
        V1 + "/content/5/label", json=canned.label_array([canned.label("f1-title"), canned.label("decision", "7002")])
    )
    rsps.get(V1 + "/content/5/label", json=canned.label_array([canned.label("f1-title")]))
    rsps.delete(V1 + "/content/5/label", status=204)
    assert [label.name for label in client.add_labels("5", ["f1-title", "decision"])] == ["f1-title", "decision"]
    assert _body(rsps.calls[0]) == [{"prefix": "global", "name": "f1-title"}, {"prefix": "global", "name": "decision"}]
    assert [label.name for label in client.get_labels("5")] == ["f1-title"]
    client.remove_label("5", "decision")
    assert _query(rsps.calls[2]) == {"name": ["decision"]}


# ---------------------------------------------------------------- tasks
def test_tasks_filtered_and_updated(client, rsps):
    rsps.get(
        V2 + "/tasks", json=canned.multi([canned.task(), canned.task(task_id="302", local_id="2", status="complete")])
    )
    rsps.put(V2 + "/tasks/301", json=canned.task(status="complete"))
    tasks = list(client.iter_tasks(page_ids=["131073"], status="incomplete"))
    assert [(t.id, t.status, t.body) for t in tasks][0] == ("301", "incomplete", "<p>Cover approved</p>")
    assert _query(rsps.calls[0]) == {
        "page-id": ["131073"],
        "status": ["incomplete"],
        "body-format": ["storage"],
        "limit": ["250"],
    }
    done = client.update_task(tasks[0], "complete")
    assert done.status == "complete"
    assert _body(rsps.calls[1]) == {
        "id": "301",
        "status": "complete",
        "localId": "1",
        "pageId": "131073",
        "spaceId": "98305",
    }
    with pytest.raises(ValueError):
        client.update_task(InlineTask("1", None, None, None, "incomplete"), "done")


# ---------------------------------------------------------------- attachments and macros
def test_attachment_upload_is_multipart_with_no_check_header(client, rsps):
    rsps.put(V1 + "/content/131073/child/attachment", json={"results": [canned.attachment()], "size": 1, "_links": {}})
    att = client.upload_attachment("131073", "pipeline.png", b"\x89PNG", "image/png", comment="weekly chart")
    assert (att.id, att.title, att.media_type) == ("att98", "pipeline.png", "image/png")
    request = rsps.calls[0].request
    assert request.headers["X-Atlassian-Token"] == "no-check"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="pipeline.png"' in request.body and b"\x89PNG" in request.body
    assert b'name="minorEdit"\r\n\r\ntrue' in request.body


# ---------------------------------------------------------------- conflicts
def test_update_with_retry_rereads_and_reapplies_after_conflict(client, rsps):
    rsps.get(V2 + "/pages/5", json=canned.page(page_id="5", version=2, body="<p>a</p>"))
    rsps.put(
        V2 + "/pages/5",
        status=409,
        json={
            "errors": [
                {
                    "status": 409,
                    "code": "CONFLICT",
                    "title": "Version must be incremented on update. Current version is: 3",
                }
            ]
        },
    )
    rsps.get(V2 + "/pages/5", json=canned.page(page_id="5", version=3, body="<p>a</p><p>b</p>"))
    rsps.put(V2 + "/pages/5", json=canned.page(page_id="5", version=4, body="<p>a</p><p>b</p><p>ours</p>"))
    seen = []

    def append_ours(page):
        seen.append((page.version, page.body))
        return page.body + "<p>ours</p>"

    result = client.update_page_with_retry("5", append_ours)
    assert seen == [(2, "<p>a</p>"), (3, "<p>a</p><p>b</p>")]
    assert result.version == 4
    assert _body(rsps.calls[3])["version"]["number"] == 4
    assert _body(rsps.calls[3])["body"]["value"] == "<p>a</p><p>b</p><p>ours</p>"


def test_update_with_retry_gives_up_after_bounded_conflicts(sleeps, rsps):
    client = ConfluenceClient(ForgeAuth(SITE, "t"), sleep=sleeps, max_conflict_retries=2)
    rsps.get(V2 + "/pages/5", json=canned.page(page_id="5", version=2, body="<p>a</p>"))
    rsps.put(
        V2 + "/pages/5",
        status=409,
        json={"statusCode": 409, "message": "Version must be incremented on update. Current version is: 9"},
    )
    with pytest.raises(ConfluenceConflict) as caught:
        client.update_page_with_retry("5", lambda page: "<p>b</p>")
    assert caught.value.status == 409 and "Current version is: 9" in caught.value.message
    assert [c.request.method for c in rsps.calls] == ["GET", "PUT"] * 3


@pytest.mark.parametrize("result", [None, "<p>same</p>"])
def test_update_with_retry_skips_write_when_nothing_changes(client, rsps, result):
    rsps.get(V2 + "/pages/5", json=canned.page(page_id="5", version=2, body="<p>same</p>"))
    page = client.update_page_with_retry("5", lambda page: result)
    assert page.version == 2
    assert [c.request.method for c in rsps.calls] == ["GET"]


# ---------------------------------------------------------------- 429 and 5xx
def test_rate_limit_waits_retry_after_then_succeeds(client, rsps, sleeps):
    rsps.get(V2 + "/pages/5", status=429, headers={"Retry-After": "7", "X-RateLimit-NearLimit": "true"}, body="")
    rsps.get(V2 + "/pages/5", json=canned.page(page_id="5", body="<p/>"))
    assert client.get_page("5").id == "5"
    assert sleeps == [7.0]


def test_rate_limit_longer_than_our_bound_is_raised_with_retry_after(sleeps, rsps):
    client = ConfluenceClient(ForgeAuth(SITE, "t"), sleep=sleeps, max_retry_after=30)
    rsps.get(V2 + "/pages/5", status=429, headers={"Retry-After": "120"}, json={"message": "Rate limit exceeded"})
    with pytest.raises(ConfluenceRateLimited) as caught:
        client.get_page("5")
    assert (caught.value.status, caught.value.retry_after, caught.value.message) == (429, 120.0, "Rate limit exceeded")
    assert sleeps == []


def test_rate_limit_waits_are_bounded_in_count(sleeps, rsps):
    client = ConfluenceClient(ForgeAuth(SITE, "t"), sleep=sleeps, max_rate_limit_waits=2)
    rsps.get(V2 + "/pages/5", status=429, headers={"Retry-After": "1"})
    with pytest.raises(ConfluenceRateLimited):
        client.get_page("5")
    assert sleeps == [1.0, 1.0] and len(rsps.calls) == 3


def test_server_errors_back_off_exponentially_with_jitter_then_succeed(sleeps, rsps):
    client = ConfluenceClient(ForgeAuth(SITE, "t"), sleep=sleeps, backoff_base=1, backoff_cap=30, jitter=lambda: 1.0)
    rsps.get(V2 + "/pages/5", status=500)
    rsps.get(V2 + "/pages/5", status=502)
    rsps.get(V2 + "/pages/5", json=canned.page(page_id="5", body="<p/>"))
    assert client.get_page("5").id == "5"
    assert sleeps == [1.0, 2.0]


def test_backoff_jitter_stays_within_half_to_full_ceiling(sleeps, rsps):
    client = ConfluenceClient(
        ForgeAuth(SITE, "t"),
        sleep=sleeps,
        backoff_base=2,
        backoff_cap=5,
        max_server_error_retries=4,
        jitter=lambda: 0.0,
    )
    rsps.get(V2 + "/pages/5", status=503, json={"message": "Service Unavailable"})
    with pytest.raises(ConfluenceUnavailable) as caught:
        client.get_page("5")
    assert sleeps == [1.0, 2.0, 2.5, 2.5]  # ceilings 2, 4, 5(cap), 5 halved by zero jitter
    assert caught.value.status == 503 and caught.value.message == "Service Unavailable"


def test_server_error_retries_stop_at_total_time_budget(sleeps, rsps):
    client = ConfluenceClient(
        ForgeAuth(SITE, "t"),
        sleep=sleeps,
        backoff_base=4,
        backoff_cap=60,
        max_server_error_retries=10,
        max_total_wait=10,
        jitter=lambda: 1.0,
    )
    rsps.get(V2 + "/pages/5", status=500)
    with pytest.raises(ConfluenceUnavailable):
        client.get_page("5")
    assert sleeps == [4.0] and sum(sleeps) <= 10


def test_post_is_not_repeated_after_an_ambiguous_500(client, rsps, sleeps):
    rsps.post(V2 + "/pages", status=500, json={"message": "Internal error"})
    with pytest.raises(ConfluenceUnavailable):
        client.create_page("98305", "T", "<p/>")
    assert len(rsps.calls) == 1 and sleeps == []


def test_post_is_repeated_after_503(client, rsps, sleeps):
    rsps.post(V2 + "/pages", status=503)
    rsps.post(V2 + "/pages", json=canned.page(page_id="9", title="T", body="<p/>"))
    assert client.create_page("98305", "T", "<p/>").id == "9"
    assert len(sleeps) == 1


# ---------------------------------------------------------------- clear errors
@pytest.mark.parametrize(
    "status,payload,cls,message",
    [
        (
            404,
            {"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Page not found", "detail": "id 5"}]},
            ConfluenceNotFound,
            "Page not found - id 5",
        ),
        (
            401,
            {"code": 401, "message": "Unauthorized; scope does not match"},
            ConfluenceAuthError,
            "Unauthorized; scope does not match",
        ),
        (403, {"statusCode": 403, "message": "Not permitted to edit"}, ConfluenceAuthError, "Not permitted to edit"),
        (
            400,
            {"statusCode": 400, "data": {"errors": [{"message": {"translation": "Title is too long"}}]}, "message": ""},
            ConfluenceError,
            "Title is too long",
        ),
    ],
)
def test_failures_carry_status_and_confluences_message(client, rsps, status, payload, cls, message):
    rsps.get(V2 + "/pages/5", status=status, json=payload)
    with pytest.raises(cls) as caught:
        client.get_page("5")
    assert caught.value.status == status and caught.value.message == message
    assert str(status) in str(caught.value) and "/wiki/api/v2/pages/5" in str(caught.value)


def test_non_json_error_body_is_kept_as_message(client, rsps):
    rsps.get(V2 + "/pages/5", status=400, body="<html>Bad gateway-ish</html>")
    with pytest.raises(ConfluenceError) as caught:
        client.get_page("5")
    assert "Bad gateway-ish" in caught.value.message


def test_connection_failure_is_unavailable_without_status(sleeps, rsps):
    client = ConfluenceClient(ForgeAuth(SITE, "t"), sleep=sleeps, max_server_error_retries=1, jitter=lambda: 0.0)
    rsps.get(V2 + "/pages/5", body=requests.ConnectionError("refused"))
    with pytest.raises(ConfluenceUnavailable) as caught:
        client.get_page("5")
    assert caught.value.status is None and "refused" in caught.value.message
    assert len(rsps.calls) == 2


# ---------------------------------------------------------------- Connect auth
def test_connect_auth_signs_each_attempt_for_the_exact_url(sleeps, rsps):
    issued = []

    def stand_in(method, url, **kwargs):  # the lead's outgoing_token signature
        issued.append((method, url, kwargs))
        return f"tok{len(issued)}"

    auth = ConnectAuth(
        "https://pub.atlassian.net/wiki", "com.consonance.confluence", "client-1", SECRET, token_factory=stand_in
    )
    client = ConfluenceClient(auth, sleep=sleeps)
    url = "https://pub.atlassian.net/wiki/api/v2/spaces"
    rsps.get(url, status=429, headers={"Retry-After": "1"})
    rsps.get(url, json=canned.multi([canned.space_v2()]))
    assert client.get_space_by_key("PUB").id == "98305"
    assert [c.request.headers["Authorization"] for c in rsps.calls] == ["JWT tok1", "JWT tok2"]
    method, signed_url, kwargs = issued[0]
    assert (method, signed_url) == ("GET", url + "?keys=PUB")
    assert kwargs == {
        "app_key": "com.consonance.confluence",
        "client_key": "client-1",
        "shared_secret": SECRET,
        "product_base_url": "https://pub.atlassian.net/wiki",
    }


def test_connect_auth_with_platform_tokens_binds_qsh_relative_to_wiki(rsps):
    import jwt

    from addon.platform import connect_tokens
    from addon.platform.qsh import query_string_hash

    auth = ConnectAuth(
        "https://pub.atlassian.net/wiki",
        "com.consonance.confluence",
        "client-1",
        SECRET,
        token_factory=connect_tokens.outgoing_token,
    )
    rsps.get("https://pub.atlassian.net/wiki/rest/api/search", json=canned.search_page([], "type = page"))
    list(ConfluenceClient(auth).search("type = page", limit=10))
    token = rsps.calls[0].request.headers["Authorization"].removeprefix("JWT ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
    assert claims["iss"] == "com.consonance.confluence" and claims["aud"] == ["client-1"]
    assert claims["qsh"] == query_string_hash("GET", "/rest/api/search", "cql=type+%3D+page&limit=10")


def test_unreadable_success_is_a_bad_response_error(client):
    from addon.confluence.errors import ConfluenceBadResponse

    with responses.RequestsMock() as mock:  # this answer breaks the spec on purpose: check the request only
        mock.get(V2 + "/pages/9/children", body="<html>login</html>", content_type="text/html")
        with pytest.raises(ConfluenceBadResponse) as caught:
            list(client.iter_children("9"))
        validate_calls(mock.calls, responses_too=False)
    assert caught.value.status == 200 and "login" in caught.value.body
