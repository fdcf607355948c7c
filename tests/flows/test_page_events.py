"""Page events: acknowledged without calling out, deduplicated by page + version, handled in order of content."""

from __future__ import annotations

import jwt
import pytest

from addon.decisions.models import Decision
from addon.extensions import db
from addon.flows import page_events
from addon.flows.editor_page_models import EditorPageState
from addon.jobs.models import JobRun
from addon.jobs.runner import set_runner
from tests.platform.signing import connect_claims, sign_rs256, system_fit_claims

CONSONANCE_RESET_EACH_TEST = True


class RecordingRunner:
    """Stands in for the job runner: remembers what the request queued, runs nothing."""

    def __init__(self):
        self.jobs = []

    def submit(self, func_path, args=(), kwargs=None, **options):
        self.jobs.append((func_path, tuple(args)))
        return "job"


@pytest.fixture
def runner(app):
    recorder = RecordingRunner()
    set_runner(app, recorder)
    return recorder


def _forge_headers(forge_key):
    claims = system_fit_claims("page-events", "ari:cloud:ecosystem::installation/events-1")
    return {"Authorization": f"Bearer {sign_rs256(claims, forge_key, 'forge-1')}", "x-forge-oauth-system": "sys-1"}


def _forge_body(page_id, version):
    return {
        "eventType": "avi:confluence:updated:page",
        "atlassianId": "557058:editor",
        "content": {
            "id": str(page_id),
            "type": "page",
            "status": "current",
            "title": "T",
            "space": {"key": "PUB", "id": "1"},
            "version": {"number": version},
        },
    }


def test_forge_events_are_recorded_and_queued_once_per_page_version(client, runner, forge_key):
    headers = _forge_headers(forge_key)
    answers = [client.post("/forge/events/page", json=_forge_body(77, v), headers=headers) for v in (3, 3, 2)]

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.get_json()["status"] for a in answers] == ["accepted", "duplicate", "accepted"]
    assert runner.jobs == [
        (page_events.HANDLE_JOB, (runner.jobs[0][1][0], "77", 3, "557058:editor")),
        (page_events.HANDLE_JOB, (runner.jobs[0][1][0], "77", 2, "557058:editor")),
    ]
    state = db.session.query(EditorPageState).filter_by(page_id="77").one()
    assert (state.pending_version, state.handled_version) == (3, 0)


def test_malformed_events_are_acknowledged_and_ignored(client, runner, forge_key):
    answer = client.post("/forge/events/page", json={"content": {"id": "x"}}, headers=_forge_headers(forge_key))
    assert answer.status_code == 202 and answer.get_json()["status"] == "ignored"
    assert runner.jobs == []


def test_connect_webhooks_use_the_same_path(client, runner, connect_install):
    payload = connect_install()
    path = "/connect/webhooks/page_updated"
    token = jwt.encode(connect_claims(payload["clientKey"], "POST", path), payload["sharedSecret"], algorithm="HS256")
    body = {"userAccountId": "557058:editor", "page": {"id": 4242, "version": 5, "title": "T"}}
    for _ in range(2):
        assert client.post(path, json=body, headers={"Authorization": f"JWT {token}"}).status_code == 202
    assert [job[1][1:] for job in runner.jobs] == [("4242", 5, "557058:editor")]


def test_duplicate_and_reordered_deliveries_record_each_decision_once(world):
    pages = world.title_pages("2", "A Distant Orchard")
    page_id = pages["decision-log"].id
    world.events({"duplicates": 1, "out_of_order": True, "reorder_window_seconds": 0.3})
    lines = []
    for text in ("first", "second", "third"):
        lines.append(f"<p>Decision: note — {text}</p>")
        world.edit(page_id, "".join(lines))  # three saves in quick succession, delivered newest first, twice
    world.settle()

    decisions = db.session.query(Decision).filter_by(tenant_id=world.tenant.id).all()
    assert sorted(d.text for d in decisions) == ["first", "second", "third"]
    notes = [n for n in world.gateway().list_notes("2") if (n.external_ref or "").startswith("dlog:")]
    assert len(notes) == 3
    state = db.session.query(EditorPageState).filter_by(tenant_id=world.tenant.id, page_id=page_id).one()
    assert state.handled_version == world.versions(page_id)
    assert page_events.accept(world.tenant, page_events.PageEvent(page_id, 2))["status"] in (
        "duplicate",
        "already handled",
    )
    deliveries = [
        e
        for e in world.emulator.emulator.events.log
        if str(((e.get("body") or {}).get("content") or {}).get("id")) == page_id and e.get("delivered")
    ]
    handled = db.session.query(JobRun).filter_by(tenant_id=world.tenant.id, kind="page_event").count()
    assert len(deliveries) >= 6 and handled < len(deliveries)  # repeats and late older versions never ran a job
