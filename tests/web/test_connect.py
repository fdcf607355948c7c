"""Connect routes: page-context tokens only on iframe pages, CSP framing by the tenant's site."""

import jwt
import pytest

from tests.fixtures.macros import connect_tenant_to
from tests.platform.signing import connect_claims

MACRO_QUERY = (
    "pageId=42&pageVersion=3&spaceKey=PUB&macroId=m-1&outputType=display&title=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
)


def context_token(payload, path):
    return jwt.encode(
        connect_claims(payload["clientKey"], "GET", path, qsh="context-qsh"), payload["sharedSecret"], algorithm="HS256"
    )


def test_macro_iframe_accepts_a_context_token_and_is_framed_only_by_the_site(client, connect_install):
    payload = connect_install()
    path = "/connect/macro/title-status"
    response = client.get(f"{path}?{MACRO_QUERY}&jwt={context_token(payload, path)}")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://site-a.atlassian.test;" in csp
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_macro_iframe_accepts_a_request_bound_token(client, connect_install):
    payload = connect_install()
    path = "/connect/macro/rights-link"
    token = jwt.encode(
        connect_claims(payload["clientKey"], "GET", path, MACRO_QUERY), payload["sharedSecret"], algorithm="HS256"
    )
    assert client.get(f"{path}?{MACRO_QUERY}", headers={"Authorization": f"JWT {token}"}).status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/connect/macro-static/title-status"),
        ("POST", "/connect/webhooks/page_created"),
    ],
)
def test_context_tokens_are_refused_off_iframe_routes(client, connect_install, method, path):
    payload = connect_install()
    token = jwt.encode(
        connect_claims(payload["clientKey"], method, path, qsh="context-qsh"),
        payload["sharedSecret"],
        algorithm="HS256",
    )
    response = client.open(path, method=method, headers={"Authorization": f"JWT {token}"}, json={})
    assert response.status_code == 401
    assert response.get_json()["error"] == "context_qsh_not_allowed"


def test_webhook_with_a_request_bound_token_is_accepted(client, connect_install):
    payload = connect_install()
    path = "/connect/webhooks/page_updated"
    token = jwt.encode(connect_claims(payload["clientKey"], "POST", path), payload["sharedSecret"], algorithm="HS256")
    response = client.post(path, json={"page": {"id": 1}}, headers={"Authorization": f"JWT {token}"})
    assert response.status_code == 202


def test_unknown_macro_is_404_after_authentication(client, connect_install):
    payload = connect_install()
    path = "/connect/macro/not-ours"
    assert client.get(f"{path}?jwt={context_token(payload, path)}").status_code == 404
    assert client.get(path).status_code == 401


def test_disabled_app_refuses_macros_but_can_be_enabled_again(client, connect_install):
    payload = connect_install()
    for event in ("disabled", "enabled"):
        path = f"/connect/{event}"
        token = jwt.encode(
            connect_claims(payload["clientKey"], "POST", path), payload["sharedSecret"], algorithm="HS256"
        )
        assert client.post(path, json=payload, headers={"Authorization": f"JWT {token}"}).status_code == 200
        macro = "/connect/macro/title-status"
        status = client.get(f"{macro}?jwt={context_token(payload, macro)}").status_code
        assert status == (401 if event == "disabled" else 200)


# --- the live panel in the iframe, its JSON endpoint and the static export ------------------------


@pytest.fixture
def connected_site(client, connect_install, consonance):
    from addon.platform import tenants

    payload = connect_install()
    connect_tenant_to(tenants.find_tenant(tenants.CONNECT, payload["clientKey"]), consonance)
    return payload


def test_macro_iframe_renders_the_panel_with_scripts_only_from_us_and_the_site(client, connected_site, consonance):
    path = "/connect/macro/title-status"
    response = client.get(f"{path}?title=3&pageId=42&jwt={context_token(connected_site, path)}")
    html = response.get_data(as_text=True)
    title = consonance.control.work(3)["title"]
    assert title.replace("'", "&#39;") in html
    assert '<script src="https://site-a.atlassian.test/atlassian-connect/all.js"></script>' in html
    assert 'name="actionToken"' in html and "<script>" not in html  # no inline script anywhere
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://site-a.atlassian.test;" in csp and "unsafe-inline" not in csp


def test_panel_endpoint_answers_json_for_refresh(client, connected_site):
    path = "/connect/macro/metadata-checklist/panel"
    answer = client.get(
        f"{path}?title=3&refresh=1", headers={"Authorization": f"JWT {context_token(connected_site, path)}"}
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["kind"] == "panel" and body["viewModel"]["completion"] >= 0 and "c4c-checks" in body["html"]


def _anonymous_token(payload, path):
    """A page-context token for someone not logged in: Confluence sends no `sub`."""
    claims = connect_claims(payload["clientKey"], "GET", path, qsh="context-qsh")
    claims.pop("sub")
    return jwt.encode(claims, payload["sharedSecret"], algorithm="HS256")


def test_someone_not_logged_in_cannot_name_titles_or_search_the_catalogue(client, connected_site, consonance):
    """The iframe's `title=` is the address's, not signed: on a site open to anonymous readers, anyone could
    type any work id. They are asked to log in, on the iframe, its JSON panel and the title search."""
    title = consonance.control.work(3)["title"].replace("'", "&#39;")
    path = "/connect/macro/title-status"
    page = client.get(f"{path}?title=3&pageId=42&jwt={_anonymous_token(connected_site, path)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Log in to see this title" in html and title not in html
    panel_path = path + "/panel"
    panel = client.get(f"{panel_path}?title=3&jwt={_anonymous_token(connected_site, panel_path)}").get_json()
    assert panel["kind"] == "message" and title not in panel["html"]
    search_path = "/connect/titles/search"
    search = client.get(f"{search_path}?q=the&jwt={_anonymous_token(connected_site, search_path)}")
    assert search.status_code == 401 and "results" not in search.get_json()  # as the Forge picker answers
    assert "Log in" in search.get_json()["message"]
    signed_in = client.get(f"{search_path}?q=the&jwt={context_token(connected_site, search_path)}")
    assert signed_in.status_code == 200 and signed_in.get_json()["results"]


def test_static_export_has_no_controls_or_scripts(client, connected_site):
    path = "/connect/macro-static/title-status"
    query = "title=3&pageId=42"
    token = jwt.encode(
        connect_claims(connected_site["clientKey"], "GET", path, query),
        connected_site["sharedSecret"],
        algorithm="HS256",
    )
    html = client.get(f"{path}?{query}", headers={"Authorization": f"JWT {token}"}).get_data(as_text=True)
    assert 'class="c4c-panel c4c-panel--title-status"' in html
    assert "as of <time" in html
    assert "<script" not in html and "<form" not in html and 'data-action="refresh"' not in html


@pytest.fixture
def redis_down(app_config):
    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there: every Redis call is refused


def test_macro_views_answer_while_redis_is_down(redis_down, client, connected_site, consonance):
    path = "/connect/macro/title-status"
    consonance.control.clear_requests()
    answers = [client.get(f"{path}?title=3&pageId=42&jwt={context_token(connected_site, path)}") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    title = consonance.control.work(3)["title"].replace("'", "&#39;")
    assert all(title in a.get_data(as_text=True) for a in answers)
    assert consonance.control.counters()["total"] == 1  # cached in the process while the shared cache is away


@pytest.mark.parametrize("script_root", ["", "/c4c"])
def test_the_iframe_pages_addresses_are_url_fors_under_any_script_root(app, script_root):
    """The page's addresses are built once per process (a first view in the macro lane has no request context):
    they must be exactly what `url_for` builds in a request, mounted at the root or under a path."""
    from flask import url_for

    from addon.macros.answers import page_urls

    with app.test_request_context("/connect/macro/title-status", base_url="http://localhost" + script_root):
        from flask import request

        assert request.script_root == script_root
        assert page_urls("title-status", request.script_root) == {
            "panel_css": url_for("static", filename="customui/panel.css"),
            "macro_js": url_for("static", filename="connect/macro.js"),
            "panel": url_for("connect.macro_panel", macro_key="title-status"),
            "action_token": url_for("connect.action_token", macro_key="title-status"),
            "decision": url_for("actions.connect_decision"),
        }
        assert page_urls("title-status", script_root)["panel"].startswith(script_root + "/connect/macro/")
