"""Every macro against Consonance servers the app was not written for (consonance profiles), over HTTP.

Against the documented-only server (and the one refusing introspection) the four macros show a title's
documented facts and say plainly what that Consonance cannot tell; the decision button says why the
decision will not be sent, and a decision pushed from it is kept, marked not sent. Against the variants
everything shows and the decision lands as a note. No answer is an error, and no request the server
refused (other than discovery's own probes) is ever sent.
"""

from __future__ import annotations

import pytest
from flask import render_template

from addon.admin import activity
from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection
from addon.decisions.models import Decision
from addon.extensions import db
from addon.flows import capability_discovery
from addon.jobs import outbox
from addon.jobs.models import OutboxEntry
from sandbox.consonance.testing import running_sandbox
from tests.fixtures.macros import INSTALLATION, SITE
from tests.platform.signing import fit_claims, sign_rs256

MACROS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")
LIMITED = ("documented-only", "introspection-refused")
KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.fixture(scope="module", params=["documented-only", "introspection-refused", "cursor", "other-names"])
def consonance_server(request):
    with running_sandbox(SEED=7, SIZE=30, ANCHOR="2026-11-01", PROFILE=request.param) as running:
        yield running


@pytest.fixture
def app_config(app_config):
    app_config["OUTBOX_DELIVER_ON_COMMIT"] = "0"  # the test drains the outbox itself
    return app_config


@pytest.fixture
def panel_fit(forge_key, site):
    """Forge headers from a title-status panel on the emulator's page (decisions are bound to the page)."""
    claims = fit_claims(INSTALLATION, principal="557058:user-1", site_url=SITE, api_base_url=site.api_base_url)
    claims["context"]["extension"]["content"] = {"id": site.main_page}
    claims["app"]["module"]["key"] = claims["context"]["moduleKey"] = "title-status"
    return {
        "Authorization": f"Bearer {sign_rs256(claims, forge_key, 'forge-1')}",
        "x-forge-oauth-system": site.system_token,
        "x-forge-oauth-user": site.user_token("557058:user-1"),
    }


def test_every_macro_shows_what_the_server_has_and_says_what_it_lacks(
    app, client, fit, panel_fit, forge_tenant, consonance
):
    profile_name = consonance.sandbox.profile
    capability_discovery.check_capabilities(forge_tenant)
    work = consonance.control.work(3)
    for macro in MACROS:
        response = client.post(f"/forge/macro/{macro}", json={}, headers=fit(config={"title": "3"}, module=macro))
        assert response.status_code == 200, (macro, response.get_data(as_text=True)[:500])
        answer = response.get_json()
        assert answer["kind"] != "message", (macro, answer["viewModel"])
        html = answer["html"]
        assert work["title"].replace("'", "&#39;") in html, macro
        formats = answer["viewModel"].get("formats")
        if formats is not None:
            assert formats, macro  # the documented product facts are there
        if profile_name in LIMITED:
            assert "Imprint: not available from your Consonance" in html, macro
            assert "Stage: not available from your Consonance" in html, macro
            assert "Contracts: not available from your Consonance" in html, macro
            if macro == "rights-link":
                assert "none recorded" not in html  # unknown, not empty
        else:
            assert "not available from your Consonance" not in html, macro
            assert answer["viewModel"]["title"]["stage"]["name"] == work["projectStage"]

    title_status = client.post(
        "/forge/macro/title-status", json={}, headers=fit(config={"title": "3"}, module="title-status")
    ).get_json()["html"]
    decision = client.post(
        "/forge/actions/decision",
        json={"workId": "3", "decisionType": "note", "text": "Blurb approved", "idempotencyKey": KEY},
        headers=panel_fit,
    )
    assert decision.status_code == 201, decision.get_json()
    assert outbox.drain()["delivered"] == 1 and outbox.drain()["delivered"] == 0  # settled once, never retried
    recorded = db.session.query(Decision).one()
    entry = db.session.query(OutboxEntry).one()
    notes = ConsonanceGateway(
        ConsonanceConnection(consonance.url, consonance.api_key),
        profile=capability_discovery.stored_profile(forge_tenant),
    )
    if profile_name in LIMITED:
        assert "Record the decision (not sent)" in title_status
        assert "Not sent to Consonance: your Consonance does not accept the `createWorkNote` mutation" in title_status
        assert recorded.delivery_state == "not_sent" and "createWorkNote" in entry.result["not_sent"]
        assert not consonance.state.works[3].notes
        with app.test_request_context():
            html = render_template("admin/activity.html", view=activity.activity_view(forge_tenant), active="activity")
        assert "not sent: your Consonance does not accept the `createWorkNote` mutation" in html.replace("&#96;", "`")
    else:
        assert "Send to Consonance" in title_status and "(not sent)" not in title_status
        assert recorded.delivery_state == "delivered"
        assert [n for n in notes.list_notes("3") if n.external_ref == KEY]
    refused = [r for r in consonance.control.requests() if r.get("refused")]
    assert {r["operationName"] for r in refused} <= {"CapabilityIntrospection", "CapabilityProbe"}, refused
