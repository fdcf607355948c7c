"""A decision is bound to the title its panel shows and to someone allowed to make it (issue #13, hole 3).

Real requests through the app, on both transports, against the Confluence emulator (pages with title-status
panels, a read-only user, page edit restrictions, the content permission check) and the Consonance sandbox;
each refusal asserts that nothing was recorded and that Consonance did not move.
"""

from __future__ import annotations

import jwt
import pytest
import requests
import sqlalchemy as sa

from addon.decisions.models import Decision
from addon.extensions import db
from addon.jobs import outbox
from addon.jobs.models import OutboxEntry
from addon.platform import tenants
from addon.settings.service import update_settings
from sandbox.confluence.users import EDITOR_ACCOUNT_ID, VIEWER_ACCOUNT_ID
from tests.fixtures.macros import INSTALLATION, SITE, connect_tenant_to
from tests.platform.signing import connect_claims, fit_claims, sign_rs256

ADMIN_ACCOUNT_ID = "557058:00000000-0000-4000-8000-00000000cafe"  # the emulator's site admin
KEY = "b1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture
def app_config(app_config):
    app_config["OUTBOX_DELIVER_ON_COMMIT"] = "0"
    return app_config


@pytest.fixture
def fit(forge_key, site):
    def make(*, principal=EDITOR_ACCOUNT_ID, content_id="main", user_token=True):
        claims = fit_claims(INSTALLATION, principal=principal, site_url=SITE, api_base_url=site.api_base_url)
        page = {"main": site.main_page, "four": site.page_four}.get(content_id, content_id)
        claims["context"]["extension"]["content"] = {"id": page} if page else {}
        headers = {
            "Authorization": f"Bearer {sign_rs256(claims, forge_key, 'forge-1')}",
            "x-forge-oauth-system": site.system_token,
        }
        if user_token and principal:
            headers["x-forge-oauth-user"] = site.user_token(principal)
        return headers

    return make


def decide(client, headers, path="/forge/actions/decision", **fields):
    body = {"workId": "3", "decisionType": "note", "text": "Cover approved", "idempotencyKey": KEY, **fields}
    return client.post(path, json=body, headers=headers)


def nothing_recorded():
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) == 0


def emulator_requests(site) -> list[dict]:
    log = requests.get(f"{site.emulator.url}/_emulator/requests", timeout=5).json()
    return log.get("requests", log) if isinstance(log, dict) else log


# --- the title is the page's, not the browser's ------------------------------------------------------


def test_forge_a_panel_that_does_not_show_a_title_cannot_move_it(client, fit, forge_tenant, consonance):
    stage = consonance.control.work(4)["projectStage"]
    answer = decide(client, fit(), workId="4", decisionType="approve_stage", text="")
    assert answer.status_code == 403
    body = answer.get_json()
    assert body["error"] == "title_not_on_page"
    assert body["message"].startswith("This page does not show that title")
    nothing_recorded()
    outbox.drain()
    assert consonance.control.work(4)["projectStage"] == stage


def test_forge_the_page_is_the_one_in_the_token_not_the_body(client, fit, forge_tenant, site):
    """Naming the page that does show title 4 in the body changes nothing: Forge signed the page into the token."""
    answer = decide(client, fit(content_id="main"), workId="4", pageId=site.page_four)
    assert answer.status_code == 403 and answer.get_json()["error"] == "title_not_on_page"
    nothing_recorded()


def test_forge_the_panel_showing_the_title_may_decide_on_it(client, fit, forge_tenant):
    assert decide(client, fit(content_id="four"), workId="4").status_code == 201


def test_forge_a_panel_outside_a_page_cannot_decide(client, fit, forge_tenant):
    answer = decide(client, fit(content_id=""))
    assert answer.status_code == 403 and answer.get_json()["error"] == "no_page"
    nothing_recorded()


def test_forge_the_page_is_read_as_the_user_and_the_binding_is_kept_briefly(client, fit, forge_tenant, site):
    requests.delete(f"{site.emulator.url}/_emulator/requests", timeout=5)
    assert decide(client, fit()).status_code == 201
    assert decide(client, fit(), idempotencyKey="c" * 32, text="Second").status_code == 201
    log = emulator_requests(site)
    reads = [e for e in log if e["path"] == f"/wiki/api/v2/pages/{site.main_page}"]
    checks = [e for e in log if e["path"] == f"/wiki/rest/api/content/{site.main_page}/permission/check"]
    assert len(reads) == 1  # the second click used the kept binding
    assert reads[0]["principal"] == EDITOR_ACCOUNT_ID  # read as the viewing user
    assert len(checks) == 2 and all(c["principal"] == EDITOR_ACCOUNT_ID for c in checks)  # asked every time


# --- only people who may edit the page ---------------------------------------------------------------


def test_a_viewer_who_cannot_edit_the_page_cannot_decide(client, fit, forge_tenant):
    answer = decide(client, fit(principal=VIEWER_ACCOUNT_ID))
    assert answer.status_code == 403
    body = answer.get_json()
    assert body["error"] == "cannot_edit_page"
    assert body["message"].startswith("Only people who can edit this page can record decisions")
    nothing_recorded()


def test_an_edit_restriction_on_the_page_is_respected(client, fit, forge_tenant, site):
    site.restrict_editing(site.main_page, [ADMIN_ACCOUNT_ID])
    assert decide(client, fit()).status_code == 403
    nothing_recorded()
    assert decide(client, fit(principal=ADMIN_ACCOUNT_ID)).status_code == 201


def test_when_confluence_cannot_say_the_decision_waits_with_a_sentence(client, fit, forge_tenant, site):
    fault = {"path": f"/wiki/rest/api/content/{site.main_page}/permission/check", "status": 500}
    requests.post(f"{site.emulator.url}/_emulator/faults", json=fault, timeout=5)
    try:
        answer = decide(client, fit())
    finally:
        requests.delete(f"{site.emulator.url}/_emulator/faults", timeout=5)
    assert answer.status_code == 503
    assert "Your text is kept" in answer.get_json()["message"]
    nothing_recorded()


# --- approving a stage move is open to the roles the admin chose ----------------------------------------


def test_by_default_a_page_editor_may_approve_a_stage_move(client, fit, forge_tenant, consonance):
    answer = decide(client, fit(), decisionType="approve_stage", text="")
    assert answer.status_code == 201 and answer.get_json()["toStage"]


def test_site_admins_only_when_the_admin_chose_so(client, fit, forge_tenant):
    update_settings(forge_tenant, {"stage_approvers": "site_admins"}, actor="admin")
    db.session.commit()
    refused = decide(client, fit(), decisionType="approve_stage", text="")
    assert refused.status_code == 403 and refused.get_json()["error"] == "approver_role"
    assert "only Confluence site admins may approve a stage move" in refused.get_json()["message"]
    nothing_recorded()
    assert decide(client, fit(), idempotencyKey="d" * 32).status_code == 201  # a note is still open to editors
    admin = decide(
        client, fit(principal=ADMIN_ACCOUNT_ID), decisionType="approve_stage", text="", idempotencyKey="e" * 32
    )
    assert admin.status_code == 201


def test_the_approver_setting_is_validated(client, forge_tenant):
    saved, errors = update_settings(forge_tenant, {"stage_approvers": "everyone"}, actor="admin")
    assert saved is None and "page editors or site admins" in " ".join(errors["stage_approvers"])


# --- Connect -------------------------------------------------------------------------------------------


@pytest.fixture
def connect_site(client, connect_install, consonance, site):
    payload = connect_install(base_url=site.wiki_url)
    site.connect_as(payload)
    connect_tenant_to(tenants.find_tenant(tenants.CONNECT, payload["clientKey"]), consonance)
    return payload


def context_token(payload, sub=EDITOR_ACCOUNT_ID):
    claims = connect_claims(payload["clientKey"], "GET", "/", qsh="context-qsh", sub=sub)
    return jwt.encode(claims, payload["sharedSecret"], algorithm="HS256")


def bound_token(payload, path, sub=EDITOR_ACCOUNT_ID):
    return jwt.encode(connect_claims(payload["clientKey"], "POST", path, sub=sub), payload["sharedSecret"], "HS256")


def test_connect_no_action_token_for_a_title_the_page_does_not_show(client, connect_site, site):
    url = "/connect/macro/title-status/action-token"
    other = client.get(f"{url}?workId=5&pageId={site.page_four}&jwt={context_token(connect_site)}")
    assert other.status_code == 403 and other.get_json()["error"] == "title_not_on_page"
    no_page = client.get(f"{url}?workId=5&jwt={context_token(connect_site)}")
    assert no_page.status_code == 403
    shown = client.get(f"{url}?workId=4&pageId={site.page_four}&jwt={context_token(connect_site)}")
    assert shown.status_code == 200 and shown.get_json()["actionToken"]


def test_connect_nobody_learns_what_a_page_they_cannot_open_shows(client, connect_site, site):
    """The action token and the decision refuse someone who may not open (or edit) the page the same way,
    whichever title they name: no yes/no about the titles a restricted page shows."""
    site.restrict_viewing(site.page_four, [ADMIN_ACCOUNT_ID])
    url = "/connect/macro/title-status/action-token"
    answers = [
        client.get(f"{url}?workId={work}&pageId={site.page_four}&jwt={context_token(connect_site)}")
        for work in ("4", "5")
    ]
    assert [(a.status_code, a.get_json()["error"]) for a in answers] == [(403, "title_not_on_page")] * 2
    site.restrict_viewing(site.page_four, None)
    path = "/connect/actions/decision"
    viewer = bound_token(connect_site, path, sub=VIEWER_ACCOUNT_ID)
    refusals = [
        decide(client, {"Authorization": f"JWT {viewer}"}, path=path, pageId=site.page_four, workId=work).get_json()
        for work in ("4", "5")
    ]
    assert [r["error"] for r in refusals] == ["cannot_edit_page"] * 2
    nothing_recorded()


def test_connect_a_decision_on_a_title_the_page_does_not_show_is_refused(client, connect_site, site, consonance):
    path = "/connect/actions/decision"
    stage = consonance.control.work(4)["projectStage"]
    token = bound_token(connect_site, path)
    answer = decide(
        client,
        {"Authorization": f"JWT {token}"},
        path=path,
        workId="4",
        pageId=site.main_page,
        decisionType="approve_stage",
        text="",
    )
    assert answer.status_code == 403 and answer.get_json()["error"] == "title_not_on_page"
    nothing_recorded()
    outbox.drain()
    assert consonance.control.work(4)["projectStage"] == stage


def test_connect_a_viewer_cannot_decide_and_an_editor_can(client, connect_site, site):
    path = "/connect/actions/decision"
    viewer = bound_token(connect_site, path, sub=VIEWER_ACCOUNT_ID)
    refused = decide(client, {"Authorization": f"JWT {viewer}"}, path=path, pageId=site.main_page)
    assert refused.status_code == 403 and refused.get_json()["error"] == "cannot_edit_page"
    nothing_recorded()
    editor = bound_token(connect_site, path)
    assert decide(client, {"Authorization": f"JWT {editor}"}, path=path, pageId=site.main_page).status_code == 201
