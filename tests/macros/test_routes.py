"""The Forge macro resolver over HTTP against the Consonance sandbox: values, escaping, messages,
single-flight under 50 concurrent first views, Refresh, and stale data when Consonance fails."""

from concurrent.futures import ThreadPoolExecutor

import requests

from addon.extensions import db
from addon.platform import tenants
from addon.titles.models import TitlePage
from tests.fixtures.macros import INSTALLATION
from tests.servers import serving


def view(client, fit, macro="title-status", config=None, body=None, **options):
    options.setdefault("module", macro)  # each macro's frame calls its own route, as Forge does
    response = client.post(f"/forge/macro/{macro}", json=body or {}, headers=fit(config=config, **options))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_title_status_shows_consonance_values_and_the_form(client, fit, forge_tenant, consonance):
    work = consonance.control.work(3)
    answer = view(client, fit, config={"title": "3"})
    model = answer["viewModel"]
    assert model["title"]["title"] == work["title"]
    assert model["title"]["stage"]["name"] == work["projectStage"]
    assert {f["isbn"] for f in model["formats"]} == {i for i in work["isbns"] if i}
    assert answer["asOf"] and f">{answer['asOf']}</time>" in answer["html"]
    assert 'data-action="decision"' in answer["html"] and answer["form"]["idempotencyKey"] in answer["html"]
    assert "actionToken" not in answer["html"]  # Forge needs no form token: every call carries a fresh FIT


def test_the_title_can_be_named_by_isbn(client, fit, forge_tenant, consonance):
    isbn = next(i for i in consonance.control.work(3)["isbns"] if i)
    hyphenated = f"{isbn[:3]}-{isbn[3:4]}-{isbn[4:8]}-{isbn[8:12]}-{isbn[12]}"
    answer = view(client, fit, macro="rights-link", config={"title": hyphenated})
    assert answer["viewModel"]["title"]["workId"] == "3"


def test_without_a_parameter_the_pages_title_is_used(app, client, fit, forge_tenant, consonance):
    db.session.add(TitlePage(tenant_id=forge_tenant.id, work_id="5", role="home", page_id="777"))
    db.session.commit()
    answer = view(client, fit, macro="launch-readiness", content_id="777")
    assert answer["viewModel"]["title"]["workId"] == "5"
    assert answer["viewModel"]["verdict"]["headline"]


def test_friendly_messages_for_no_title_and_unknown_title(client, fit, forge_tenant):
    none = view(client, fit, content_id="999")
    assert none["kind"] == "message" and none["viewModel"]["message"]["kind"] == "no_title"
    assert "choose a title" in none["html"]
    missing = view(client, fit, config={"title": "99999"})
    assert missing["viewModel"]["message"]["kind"] == "not_found"
    assert "Title not found" in missing["html"]


def test_consonance_not_configured_is_a_message_not_an_error(app, client, fit):
    answer = view(client, fit, config={"title": "3"})
    assert answer["viewModel"]["message"]["kind"] == "not_configured"
    assert "Ask a Confluence administrator" in answer["html"]


def test_markup_in_titles_and_descriptions_renders_as_text(client, fit, forge_tenant, consonance):
    created = consonance.control.acquire_title(title='<img src=x onerror="alert(1)"><script>alert(2)</script>')
    for macro in ("title-status", "rights-link", "metadata-checklist", "launch-readiness"):
        html = view(client, fit, macro=macro, config={"title": str(created["id"])})["html"]
        assert "<script>" not in html and "<img" not in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_fifty_concurrent_first_views_ask_consonance_once(app, fit, forge_tenant, consonance):
    headers = [fit(config={"title": "4"}) for _ in range(50)]
    consonance.control.clear_requests()
    with serving(app) as url:

        def one(h):
            return requests.post(f"{url}/forge/macro/title-status", json={}, headers=h, timeout=30)

        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(one, headers))
    assert [a.status_code for a in answers] == [200] * 50
    assert {a.json()["viewModel"]["title"]["workId"] for a in answers} == {"4"}
    assert consonance.control.counters()["byOperation"] == {"TitleByWorkId": 1}


def test_the_four_macros_share_one_cached_title(client, fit, forge_tenant, consonance):
    for macro in ("title-status", "rights-link", "metadata-checklist", "launch-readiness"):
        view(client, fit, macro=macro, config={"title": "6"})
    assert consonance.control.counters()["total"] == 1


def test_refresh_bypasses_the_cache_but_is_rate_limited_per_title(client, fit, forge_tenant, consonance):
    view(client, fit, config={"title": "7"})
    consonance.control.move_to_stage(7, "Proofs")
    assert view(client, fit, config={"title": "7"})["viewModel"]["title"]["stage"]["name"] != "Proofs"
    refreshed = view(client, fit, config={"title": "7"}, body={"refresh": True})
    assert refreshed["viewModel"]["title"]["stage"]["name"] == "Proofs"
    again = view(client, fit, config={"title": "7"}, body={"call": {"payload": {"refresh": True}}})
    assert again["viewModel"]["freshness"]["refreshLimited"] is True
    assert consonance.control.counters()["total"] == 2


def test_consonance_down_shows_the_last_good_data_with_the_notice(client, fit, forge_tenant, consonance):
    good = view(client, fit, config={"title": "8"})
    consonance.control.add_fault(errorRate=1.0, errorStatus=503)
    stale = view(client, fit, config={"title": "8"}, body={"refresh": True})
    assert stale["kind"] == "panel" and stale["stale"] is True
    assert stale["viewModel"]["title"] == good["viewModel"]["title"]
    assert f"as of {good['asOf']} — Consonance is not answering" in stale["html"]
    nothing = view(client, fit, macro="rights-link", config={"title": "9"})
    assert nothing["viewModel"]["message"]["kind"] == "unavailable"


def test_unknown_macro_and_missing_token(client, fit, forge_tenant):
    assert client.post("/forge/macro/nope", json={}, headers=fit()).status_code == 403  # not this frame's route
    assert client.post("/forge/macro/title-status", json={}).status_code == 401
    assert tenants.find_tenant(tenants.FORGE, INSTALLATION) is not None


def test_after_a_failed_refresh_every_panel_of_the_title_shows_the_notice(client, fit, forge_tenant, consonance):
    view(client, fit, config={"title": "10"})
    consonance.control.add_fault(errorRate=1.0, errorStatus=503)
    view(client, fit, config={"title": "10"}, body={"refresh": True})
    before = consonance.control.counters()["total"]
    for macro in ("rights-link", "metadata-checklist", "launch-readiness"):
        answer = view(client, fit, macro=macro, config={"title": "10"})
        assert answer["stale"] is True and "Consonance is not answering" in answer["html"]
    assert consonance.control.counters()["total"] == before  # inside the window: no new requests


def test_title_picker_searches_by_title_words_and_isbn(client, fit, forge_tenant, consonance):
    work = consonance.control.work(3)
    word = max(work["title"].split(), key=len).strip("'’").lower()
    answer = client.post("/forge/titles/search", json={"query": word}, headers=fit())
    results = answer.get_json()["results"]
    assert answer.status_code == 200 and "3" in [r["workId"] for r in results]
    found = next(r for r in results if r["workId"] == "3")
    assert found["contributors"] and all(isinstance(name, str) and name for name in found["contributors"])
    isbn = next(i for i in work["isbns"] if i)
    by_isbn = client.post("/forge/titles/search", json={"call": {"payload": {"query": isbn}}}, headers=fit())
    assert [r["workId"] for r in by_isbn.get_json()["results"]] == ["3"]
    assert client.post("/forge/titles/search", json={"query": "a"}, headers=fit()).get_json()["results"] == []
    client.post("/forge/titles/search", json={"query": word.upper()}, headers=fit())
    assert consonance.control.counters()["byOperation"].get("SearchTitles") == 1  # same query, shared answer


def test_a_panel_view_connects_only_where_the_host_policy_allows(app, client, fit, forge_tenant, consonance):
    """The page-view connection is vetted on every connect, like the background one: once the address
    stops being one the key may go to (a name that now resolves somewhere private), a panel view sends
    Consonance nothing and says it is not answering, from the last good data."""
    from addon.gateways import gateways

    good = view(client, fit, config={"title": "12"})
    assert consonance.control.counters()["total"] == 1
    with app.app_context():
        policy = gateways().consonance_policy
    allowed = policy.allowed
    object.__setattr__(policy, "allowed", ())  # the sandbox's loopback address is no longer allowed
    try:
        stale = view(client, fit, config={"title": "12"}, body={"refresh": True})
    finally:
        object.__setattr__(policy, "allowed", allowed)
    assert consonance.control.counters()["total"] == 1  # nothing reached the sandbox
    assert stale["stale"] is True and stale["viewModel"]["title"] == good["viewModel"]["title"]
