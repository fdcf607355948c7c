"""The golden catalogue through the macro routes: each title's launch-readiness and metadata-checklist
panels say exactly what docs/golden-catalogue.md says a publisher expects."""

from __future__ import annotations

import html

import pytest

from tests.golden.table import expectations

EXPECTED = expectations()


@pytest.fixture(scope="module")
def consonance_server():
    """The golden catalogue served over HTTP (overrides the macro tests' generated one)."""
    from sandbox.consonance.testing import running_sandbox

    with running_sandbox(CATALOGUE="golden") as running:
        yield running


def panel(client, fit, macro: str, work_id: str) -> dict:
    response = client.post(f"/forge/macro/{macro}", json={}, headers=fit(config={"title": work_id}, module=macro))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_table_covers_every_golden_title_and_every_situation(consonance_server):
    assert [e.work_id for e in EXPECTED] == [str(i) for i in range(1, 26)]
    assert {e.verdict for e in EXPECTED} == {
        "Published",
        "Ready to announce",
        "Don't announce yet",
        "Too early to judge",
    }
    with consonance_server.state.lock:
        assert [w.full_title for w in consonance_server.state.works.values()] == [e.title for e in EXPECTED]


@pytest.mark.parametrize("expected", EXPECTED, ids=[e.title for e in EXPECTED])
def test_launch_readiness_panel(client, fit, forge_tenant, expected):
    answer = panel(client, fit, "launch-readiness", expected.work_id)
    model, shown = answer["viewModel"], html.unescape(answer["html"])
    assert model["title"]["title"] == expected.title
    assert model["verdict"]["headline"] == expected.verdict
    assert expected.verdict in shown
    told = " ".join([model["verdict"]["why"], *model["reasons"]])
    assert expected.why in told and expected.why in shown
    assert model["completionRounded"] == expected.completion and f"{expected.completion}%" in shown
    if expected.verdict != "Don't announce yet":
        assert all(check["state"] != "late" for f in model["formats"] if not f["published"] for check in f["checks"])


@pytest.mark.parametrize("expected", EXPECTED, ids=[e.title for e in EXPECTED])
def test_metadata_checklist_panel_has_the_same_figure(client, fit, forge_tenant, expected):
    model = panel(client, fit, "metadata-checklist", expected.work_id)["viewModel"]
    assert model["completionRounded"] == expected.completion  # one figure, the same as launch readiness
    failing = {check["rule"] for check in model["checks"] if not check["passed"]}
    assert {rule for rule in failing for fix in expected.to_fix if rule.startswith(fix)} == failing
    assert all(any(rule.startswith(fix) for rule in failing) for fix in expected.to_fix)
    assert model["ruleSet"] == "Built-in default standards"
