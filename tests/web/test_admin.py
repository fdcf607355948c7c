"""Admin routes on both transports: only site admins (as Confluence says), saving validated and CSRF-safe,
Test connection against the Consonance sandbox, the activity page's Retry."""

from __future__ import annotations

import re

import pytest

from addon.admin import csrf
from addon.extensions import db
from addon.platform import tenants
from addon.settings.service import get_settings
from tests.fixtures.admin import ADMIN, EDITOR

CONSONANCE_CATALOGUE = {"SIZE": 20}

GOOD_FORM = {
    "page_set_mode": "pages_in_space",
    "page_set_space_key": "PUB",
    "stage_guide_page_id": "1001",
    "playbook_page_ids": ["1003", "1004"],
    "summary_weekly_time": "08:30",
    "summary_timezone": "Europe/Paris",
    "macro_freshness_seconds": "600",
}


# --- Forge -------------------------------------------------------------------------------------


def test_forge_admin_page_renders_for_a_site_admin(client, forge, stub):
    response = client.post("/forge/admin", json={"view": "configuration"}, headers=forge())
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert "Consonance connection" in html and 'data-action="test-connection"' in html
    # the check asked Confluence as the user, with the user's own token
    assert any(
        path.startswith("/wiki/rest/api/user/current?expand=operations") and auth == "Bearer user-token-admin"
        for _m, path, auth in stub.calls
    )


def test_forge_non_admin_is_refused_with_words(client, forge):
    response = client.post("/forge/admin", json={}, headers=forge(EDITOR))
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "not_site_admin"
    assert "Only Confluence site admins" in body["message"] and "Only Confluence site admins" in body["html"]
    saved = client.post("/forge/admin/settings", json={"form": GOOD_FORM}, headers=forge(EDITOR))
    assert saved.status_code == 403


def test_forge_without_a_user_token_is_refused(client, forge):
    response = client.post("/forge/admin", json={}, headers=forge(ADMIN, user_token=""))
    assert response.status_code == 403
    assert response.get_json()["error"] == "user_token_required"


def test_forge_admin_check_fails_closed_when_confluence_does_not_answer(client, forge, stub):
    stub.failing_users = True
    response = client.post("/forge/admin", json={}, headers=forge())
    assert response.status_code == 403
    assert "did not say whether you are a site admin" in response.get_json()["message"]


def test_forge_without_a_token_is_401(client):
    assert client.post("/forge/admin", json={}).status_code == 401


def test_forge_save_validates_each_field_with_what_to_do(client, forge, admin_tenant):
    bad = {
        "summary_weekly_time": "8.30",
        "summary_timezone": "Mars/Olympus",
        "macro_freshness_seconds": "5",
        "page_set_mode": "pages_in_space",
        "page_set_space_key": "",
        "stage_guide_page_id": "Stage guide",
        "summary_monthly_day": "31",
    }
    response = client.post("/forge/admin/settings", json={"form": bad}, headers=forge())
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["summary_weekly_time"].startswith("Enter a time as HH:MM")
    assert errors["summary_timezone"].startswith("Choose a time zone")
    assert "between 30 seconds and a day" in errors["macro_freshness_seconds"]
    assert "page_set_space_key" not in errors  # a space may be chosen later (see the test below)
    assert errors["stage_guide_page_id"].startswith("Choose a page from the list")
    assert "1 to 28" in errors["summary_monthly_day"]
    assert get_settings(admin_tenant).summary_weekly_time == "07:00"  # nothing saved


def test_stage_deadlines_are_edited_one_box_per_stage_and_checked(client, forge, admin_tenant):
    page = client.post("/forge/admin", json={"view": "configuration"}, headers=forge()).get_json()["html"]
    assert 'data-name="stage_deadline_weeks.Proofs"' in page and 'placeholder="14"' in page
    assert "every new title Consonance adds gets its page set" in page  # what no acquired stage means
    form = {**GOOD_FORM, "stage_deadline_weeks.Proofs": "16", "stage_deadline_weeks.Production": ""}
    response = client.post("/forge/admin/settings", json={"form": form}, headers=forge())
    assert response.status_code == 200, response.get_json()
    assert get_settings(admin_tenant).stage_deadline_weeks == {"Proofs": 16}  # blank: the documented default
    assert 'value="16"' in response.get_json()["html"]
    bad = client.post(
        "/forge/admin/settings", json={"form": {**GOOD_FORM, "stage_deadline_weeks.Proofs": "soon"}}, headers=forge()
    )
    assert bad.status_code == 422
    [(field, message)] = [(k, v) for k, v in bad.get_json()["errors"].items() if k.startswith("stage_deadline")]
    assert "whole" in message.lower() or "weeks" in message.lower()
    too_long = client.post(
        "/forge/admin/settings", json={"form": {**GOOD_FORM, "stage_deadline_weeks.Proofs": "500"}}, headers=forge()
    )
    assert too_long.status_code == 422
    assert get_settings(admin_tenant).stage_deadline_weeks == {"Proofs": 16}  # nothing lost, nothing half-saved


@pytest.mark.parametrize(
    "odd",
    [
        {"consonance_host": ["https://x.example"]},
        {"consonance_host": 5},
        {"stage_deadline_weeks.Proofs": "\u00b2"},  # a superscript two: a digit to str.isdigit, not to int()
        {"stage_deadline_weeks.Proofs": "9" * 4301},  # past Python's limit on digits in int()
    ],
)
def test_a_save_with_odd_values_says_what_is_wrong_and_saves_nothing(client, forge, admin_tenant, odd):
    before = dict(get_settings(admin_tenant).values)
    response = client.post("/forge/admin/settings", json={"form": {**GOOD_FORM, **odd}}, headers=forge())
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    [field] = odd
    assert any(key.startswith(field.split(".")[0]) for key in response.get_json()["errors"])
    assert dict(get_settings(admin_tenant).values) == before


def test_forge_save_refuses_pages_confluence_does_not_have(client, forge, admin_tenant):
    response = client.post(
        "/forge/admin/settings", json={"form": {**GOOD_FORM, "standards_page_id": "999999"}}, headers=forge()
    )
    assert response.status_code == 422
    assert "no longer exists" in response.get_json()["errors"]["standards_page_id"]


def test_forge_save_stores_settings_and_audits_who(client, forge, admin_tenant):
    response = client.post("/forge/admin/settings", json={"form": GOOD_FORM}, headers=forge())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ok"] and "summary_weekly_time" in body["changed"]
    settings = get_settings(admin_tenant)
    assert (settings.summary_weekly_time, settings.summary_timezone, settings.macro_freshness_seconds) == (
        "08:30",
        "Europe/Paris",
        600,
    )
    assert settings.playbook_page_ids == ["1003", "1004"]
    assert "Print playbook" in body["html"]  # chosen pages are shown by title
    audit = client.post("/forge/admin", json={"view": "audit"}, headers=forge()).get_json()["html"]
    assert "User dmin changed the configuration." in audit and ADMIN not in audit  # by name, not account id


def test_a_rights_mapping_is_labelled_with_its_pages_title(client, forge, admin_tenant):
    form = {**GOOD_FORM, "rights_mappings": [{"territory": "US", "page_id": "1003"}]}
    response = client.post("/forge/admin/settings", json={"form": form}, headers=forge())
    assert response.status_code == 200, response.get_json()
    [mapping] = get_settings(admin_tenant).rights_mappings
    assert mapping["label"] == "Print playbook"  # links to it read "Print playbook", not "Guidance page 1003"


def test_the_space_can_be_chosen_later_and_titles_acquired_meanwhile_then_get_pages(client, forge, admin_tenant):
    from addon.flows import page_sets
    from addon.flows.sync_models import TitleSnapshot
    from addon.jobs.models import OutboxEntry

    first = client.post(
        "/forge/admin/settings", json={"form": {**GOOD_FORM, "page_set_space_key": ""}}, headers=forge()
    )
    assert first.status_code == 200 and first.get_json()["ok"]
    assert "once you choose a space" in first.get_json()["message"]
    assert 'id="c4c-no-space-hint"' in first.get_json()["html"]
    # 11, 12: acquired since install; 13: seen, never acquired; 14: forthcoming at the first sync (no pages owed)
    for work_id, tracked, owed in (("11", True, True), ("12", True, True), ("13", False, False), ("14", True, False)):
        db.session.add(
            TitleSnapshot(tenant_id=admin_tenant.id, work_id=work_id, digest="d", tracked=tracked, pages_owed=owed)
        )
    db.session.commit()

    def page_set_entries():
        return sorted(
            e.payload["work_id"]
            for e in db.session.query(OutboxEntry).filter_by(tenant_id=admin_tenant.id, kind=page_sets.KIND)
        )

    chosen = client.post("/forge/admin/settings", json={"form": GOOD_FORM}, headers=forge()).get_json()
    assert chosen["ok"] and "Pages for the 2 titles already acquired are being made." in chosen["message"]
    assert 'id="c4c-no-space-hint"' not in chosen["html"]
    assert page_set_entries() == ["11", "12"]
    again = client.post("/forge/admin/settings", json={"form": GOOD_FORM}, headers=forge()).get_json()
    assert again["ok"] and "already acquired" not in again["message"] and page_set_entries() == ["11", "12"]


def test_forge_pickers_search_confluence(client, forge, admin_tenant):
    pages = client.post("/forge/admin/pages", json={"q": "playbook"}, headers=forge()).get_json()["results"]
    assert {p["title"] for p in pages} == {"Print playbook", "Audio playbook"}
    in_space = client.post("/forge/admin/pages", json={"q": "playbook", "space": "MKT"}, headers=forge())
    assert [p["id"] for p in in_space.get_json()["results"]] == ["1004"]
    spaces = client.post("/forge/admin/spaces", json={"q": "mark"}, headers=forge()).get_json()["results"]
    assert spaces == [{"key": "MKT", "name": "Marketing", "id": "99"}]


# --- Consonance connection -----------------------------------------------------------------------


def test_test_connection_with_a_good_key_says_what_worked(client, forge, admin_tenant, consonance):
    response = client.post(
        "/forge/admin/test-connection",
        json={"form": {"consonance_host": consonance.url, "consonance_api_key": consonance.api_key}},
        headers=forge(),
    )
    body = response.get_json()
    assert response.status_code == 200 and body["ok"]
    assert [c["name"] for c in body["checks"]] == [
        "Reach Consonance and authenticate",
        "Read project stages",
        "Read a title with its formats",
    ]
    assert all(c["ok"] for c in body["checks"]) and "20 works" in body["checks"][0]["detail"]


def test_test_connection_with_a_bad_key_says_the_key_was_refused(client, forge, admin_tenant, consonance):
    body = client.post(
        "/forge/admin/test-connection",
        json={"form": {"consonance_host": consonance.url, "consonance_api_key": "not-the-key"}},
        headers=forge(),
    ).get_json()
    assert body["ok"] is False
    assert body["headline"].startswith("Consonance refused this API key")
    assert body["checks"][0]["ok"] is False and len(body["checks"]) == 1


def test_test_connection_to_an_unreachable_host_says_so(client, forge, admin_tenant):
    body = client.post(
        "/forge/admin/test-connection",
        json={"form": {"consonance_host": "http://127.0.0.1:9", "consonance_api_key": "k"}},
        headers=forge(),
    ).get_json()
    assert body["ok"] is False
    assert body["headline"].startswith("Consonance did not answer at http://127.0.0.1:9")


def test_saving_a_refused_key_keeps_nothing_and_a_good_key_is_stored_never_shown(
    client, forge, admin_tenant, consonance
):
    form = {**GOOD_FORM, "consonance_host": consonance.url, "consonance_api_key": "wrong-key"}
    refused = client.post("/forge/admin/settings", json={"form": form}, headers=forge())
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["consonance_api_key"].startswith("Consonance refused this API key")
    assert tenants.get_secret(admin_tenant, tenants.CONSONANCE_API_KEY) is None
    assert get_settings(admin_tenant).consonance_host == ""

    saved = client.post(
        "/forge/admin/settings", json={"form": {**form, "consonance_api_key": consonance.api_key}}, headers=forge()
    )
    assert saved.status_code == 200, saved.get_json()
    assert tenants.get_secret(admin_tenant, tenants.CONSONANCE_API_KEY) == consonance.api_key
    page = client.post("/forge/admin", json={}, headers=forge()).get_json()["html"]
    assert consonance.api_key not in page and "A key is saved" in page
    # leaving the key empty keeps the saved one
    again = client.post("/forge/admin/settings", json={"form": {"macro_freshness_seconds": "120"}}, headers=forge())
    assert again.status_code == 200
    assert tenants.get_secret(admin_tenant, tenants.CONSONANCE_API_KEY) == consonance.api_key


# --- Connect -------------------------------------------------------------------------------------


def _admin_token(html: str) -> str:
    return re.search(r'data-admin-token="([^"]+)"', html).group(1)


def test_connect_configure_page_loads_for_a_site_admin_with_an_admin_token(client, connect_token, stub):
    response = client.get(f"/connect/admin?jwt={connect_token()}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Consonance connection" in html and _admin_token(html)
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert any(
        path.startswith(f"/wiki/rest/api/user?accountId={ADMIN.replace(':', '%3A')}") and auth.startswith("JWT ")
        for _m, path, auth in stub.calls
    )


def test_connect_non_admin_gets_a_refusal_page(client, connect_token):
    response = client.get(f"/connect/admin?jwt={connect_token(EDITOR)}")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Only Confluence site admins can open" in html and "connect.js" not in html


def test_connect_save_needs_the_admin_token_with_a_context_token(client, connect_token, connect_site):
    page = client.get(f"/connect/admin?jwt={connect_token()}").get_data(as_text=True)
    headers = {"Authorization": f"JWT {connect_token(method='POST')}"}
    missing = client.post("/connect/admin/settings", json={"form": GOOD_FORM}, headers=headers)
    assert missing.status_code == 403 and missing.get_json()["error"] == "bad_admin_token"
    tenant = tenants.find_tenant(tenants.CONNECT, connect_site["clientKey"])
    other_user = csrf.issue(tenant.id, EDITOR)
    forged = client.post(
        "/connect/admin/settings", json={"form": GOOD_FORM}, headers={**headers, csrf.HEADER: other_user}
    )
    assert forged.status_code == 403
    saved = client.post(
        "/connect/admin/settings", json={"form": GOOD_FORM}, headers={**headers, csrf.HEADER: _admin_token(page)}
    )
    assert saved.status_code == 200, saved.get_json()
    assert get_settings(tenant).summary_weekly_time == "08:30"


def test_connect_expired_admin_token_asks_for_a_reload(client, connect_token, connect_site, monkeypatch):
    page = client.get(f"/connect/admin?jwt={connect_token()}").get_data(as_text=True)
    monkeypatch.setattr(csrf.verify, "__kwdefaults__", {"max_age": -1})  # the page has been open too long
    response = client.post(
        "/connect/admin/settings",
        json={"form": GOOD_FORM},
        headers={"Authorization": f"JWT {connect_token(method='POST')}", csrf.HEADER: _admin_token(page)},
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "form_expired" and "Reload" in response.get_json()["message"]


def test_connect_request_bound_token_saves_without_an_admin_token(client, connect_token):
    token = connect_token(method="POST", path="/connect/admin/settings", context=False)
    response = client.post(
        "/connect/admin/settings", json={"form": GOOD_FORM}, headers={"Authorization": f"JWT {token}"}
    )
    assert response.status_code == 200, response.get_json()


def test_connect_non_admin_cannot_save_even_with_a_valid_admin_token(client, connect_token, connect_site):
    tenant = tenants.find_tenant(tenants.CONNECT, connect_site["clientKey"])
    response = client.post(
        "/connect/admin/settings",
        json={"form": GOOD_FORM},
        headers={
            "Authorization": f"JWT {connect_token(EDITOR, method='POST')}",
            csrf.HEADER: csrf.issue(tenant.id, EDITOR),
        },
    )
    assert response.status_code == 403 and response.get_json()["error"] == "not_site_admin"


def test_connect_views_and_pickers_with_a_context_token(client, connect_token):
    headers = {"Authorization": f"JWT {connect_token()}"}
    activity = client.get("/connect/admin/view/activity", headers=headers)
    assert activity.status_code == 200 and "Writes owed" in activity.get_json()["html"]
    pages = client.get("/connect/admin/pages?q=standards", headers=headers).get_json()["results"]
    assert pages == [{"id": "1002", "title": "Metadata standards", "space": "PUB"}]
    assert client.get("/connect/admin/view/nope", headers=headers).status_code == 404


# --- onboarding: Sync now, Create pages for existing titles ----------------------------------------


def _connect_to(tenant, consonance):
    from addon.settings.service import update_settings

    update_settings(tenant, {"consonance_host": consonance.url}, actor="admin")
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, consonance.api_key)
    db.session.commit()


def test_forge_onboarding_counts_then_creates_for_site_admins_only(client, forge, admin_tenant, consonance):
    from addon.flows import page_sets
    from addon.jobs.models import OutboxEntry

    nothing = client.post("/forge/admin/onboarding/count", json={"form": {}}, headers=forge())
    assert nothing.status_code == 409 and "Connect Consonance first" in nothing.get_json()["message"]
    _connect_to(admin_tenant, consonance)
    bad = client.post("/forge/admin/onboarding/count", json={"form": {"stage": ["x"]}}, headers=forge())
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"stage"}
    assert client.post("/forge/admin/onboarding/count", json={"form": {}}, headers=forge(EDITOR)).status_code == 403
    stage = max((n, name) for name, n in consonance.control.state()["stages"].items())[1]
    counted = client.post("/forge/admin/onboarding/count", json={"form": {"stage": stage}}, headers=forge())
    body = counted.get_json()
    assert counted.status_code == 200 and body["ok"] and body["count"] > 0
    assert body["message"].endswith(f"(stage {stage}).")
    assert (
        client.post("/forge/admin/onboarding/create-pages", json={"form": {}}, headers=forge(EDITOR)).status_code == 403
    )

    def owed():
        return db.session.query(OutboxEntry).filter_by(tenant_id=admin_tenant.id, kind=page_sets.KIND).count()

    assert owed() == 0
    created = client.post("/forge/admin/onboarding/create-pages", json={"form": {"stage": stage}}, headers=forge())
    assert created.status_code == 200 and created.get_json()["queued"] == body["count"] == owed()
    progress = client.post("/forge/admin/onboarding/progress", json={}, headers=forge()).get_json()
    assert progress["total"] == body["count"] and f"Page sets for stage {stage}" in progress["message"]
    page = client.post("/forge/admin", json={"view": "activity"}, headers=forge()).get_json()["html"]
    assert 'data-action="sync-now"' in page and 'data-action="count-titles"' in page
    assert f"Page sets for stage {stage}" in page


def test_connect_onboarding_changes_need_the_admin_token(client, connect_token, connect_site, consonance):
    tenant = tenants.find_tenant(tenants.CONNECT, connect_site["clientKey"])
    _connect_to(tenant, consonance)
    page = client.get(f"/connect/admin?jwt={connect_token()}").get_data(as_text=True)
    headers = {"Authorization": f"JWT {connect_token(method='POST')}"}
    refused = client.post("/connect/admin/onboarding/sync-now", json={}, headers=headers)
    assert refused.status_code == 403 and refused.get_json()["error"] == "bad_admin_token"
    synced = client.post(
        "/connect/admin/onboarding/sync-now", json={}, headers={**headers, csrf.HEADER: _admin_token(page)}
    )
    assert synced.status_code == 200 and synced.get_json()["message"].startswith("Sync started")
