"""The admin page against Consonance servers the app was not written for (consonance profiles): Test
connection and save find what the server offers, and the capability table (after Test connection, on the
configuration page and on the Activity page) says each feature, on or off, and what decides it, in words."""

from __future__ import annotations

import pytest

from addon.flows import capability_discovery
from sandbox.consonance.testing import running_sandbox

CONSONANCE_CATALOGUE = {"SIZE": 20}  # the admin tests' catalogue

FORM = {"page_set_mode": "pages_in_space", "page_set_space_key": "PUB"}


@pytest.fixture(scope="module", params=["documented-only", "introspection-refused", "cursor", "other-names"])
def consonance_server(request):
    with running_sandbox(SEED=7, SIZE=20, ANCHOR="2026-11-01", PROFILE=request.param) as running:
        yield running


def _rows(rows: list[dict]) -> dict[str, dict]:
    return {row["feature"]: row for row in rows}


def test_test_connection_and_save_show_what_is_off_and_why(client, forge, admin_tenant, consonance):
    limited = consonance.sandbox.profile in ("documented-only", "introspection-refused")
    form = {"consonance_host": consonance.url, "consonance_api_key": consonance.api_key}
    tested = client.post("/forge/admin/test-connection", json={"form": form}, headers=forge())
    assert tested.status_code == 200
    body = tested.get_json()
    assert body["ok"] and all(check["ok"] for check in body["checks"])
    rows = _rows(body["capabilities"])
    notes = rows["Decisions sent to Consonance as notes"]
    tasks = rows["Approval gates become Consonance tasks"]
    listing = rows["Catalogue listing (change detection, summaries)"]
    if limited:
        assert "feature(s) are off" in body["headline"]
        assert notes["available"] is False and "lacks the `createWorkNote` mutation" in notes["decidedBy"]
        assert "decision log" in notes["without"]
        assert tasks["available"] is False and "`createWorkTask`" in tasks["decidedBy"]
        assert rows["Imprint"]["available"] is False and "`imprint` field on works" in rows["Imprint"]["decidedBy"]
        assert "without pagination" in listing["decidedBy"]
        assert "<td>No</td>" in body["capabilitiesHtml"] and "lacks the `createWorkNote` mutation" in body[
            "capabilitiesHtml"
        ].replace("&#96;", "`")
    else:
        assert all(row["available"] for row in rows.values())
        assert body["headline"].endswith("every check passed.")
    if consonance.sandbox.profile == "other-names":
        assert "`addWorkNote` mutation" in notes["decidedBy"] and "`createWorkTodo` mutation" in tasks["decidedBy"]
    if consonance.sandbox.profile == "cursor":
        assert "by a cursor (`first` and `after`" in listing["decidedBy"]
    assert capability_discovery.stored_profile(admin_tenant) is None  # an unsaved host is only tried

    saved = client.post("/forge/admin/settings", json={"form": {**FORM, **form}}, headers=forge())
    assert saved.status_code == 200, saved.get_json()
    stored = capability_discovery.stored_profile(admin_tenant)
    assert stored is not None and stored.host == consonance.url
    assert stored.supports("notes") is not limited
    page = client.post("/forge/admin", json={}, headers=forge()).get_json()["html"]
    assert "What your Consonance offers" in page and "Decisions sent to Consonance as notes" in page
    activity = client.post("/forge/admin", json={"view": "activity"}, headers=forge())
    assert activity.status_code == 200
    html = activity.get_json()["html"]
    assert "What your Consonance offers" in html and "First check" in html

    # A second check finding the same server records no change; a Test connection of the saved one keeps it fresh.
    assert capability_discovery.check_capabilities(admin_tenant)["changed"] == 0
    refused = [r for r in consonance.control.requests() if r.get("refused")]
    assert {r["operationName"] for r in refused} <= {"CapabilityIntrospection", "CapabilityProbe"}, refused
