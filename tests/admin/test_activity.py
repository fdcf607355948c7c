"""The activity page: a write Consonance refused shows with its reason, and Retry delivers it once the
fault is cleared (the Consonance sandbox's fault injection, real HTTP); the audit log says who did what."""

from __future__ import annotations

import pytest

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection
from addon.decisions import service as decisions
from addon.extensions import db
from addon.jobs import outbox
from addon.jobs.models import DELIVERED, FAILED, OutboxEntry
from addon.platform import tenants
from addon.settings.service import update_settings
from tests.fixtures.admin import ADMIN

CONSONANCE_CATALOGUE = {"SIZE": 20}

WORK = "3"


@pytest.fixture
def app_config(app_config):
    app_config["OUTBOX_MAX_ATTEMPTS"] = 1  # one refused attempt marks the write failed
    return app_config


@pytest.fixture
def connected(admin_tenant, consonance):
    update_settings(admin_tenant, {"consonance_host": consonance.url}, actor=ADMIN)
    tenants.set_secret(admin_tenant, tenants.CONSONANCE_API_KEY, consonance.api_key)
    db.session.commit()
    return admin_tenant


def _notes(consonance, key):
    gateway = ConsonanceGateway(ConsonanceConnection(consonance.url, consonance.api_key))
    try:
        return [n for n in gateway.list_notes(WORK) if key in (n.text or "") or getattr(n, "external_ref", None) == key]
    finally:
        gateway.close()


def test_failed_write_shows_its_reason_and_retry_delivers_it_once_the_fault_is_cleared(
    client, forge, connected, consonance
):
    # Consonance throttles with a wait longer than the app's retry budget: the write fails at once.
    consonance.control.add_fault(operation="AddWorkNote", rateLimitCount=50, retryAfter=120)
    recorded = decisions.record_decision(
        connected,
        idempotency_key="k" * 24,
        work_id=WORK,
        decision_type="note",
        text="Cover approved at the launch meeting",
        actor=ADMIN,
        source="macro",
    )
    entry = db.session.execute(
        db.select(OutboxEntry).where(OutboxEntry.dedupe_key == f"decision:{recorded.decision.id}")
    ).scalar_one()
    db.session.refresh(entry)
    assert entry.status == FAILED

    html = client.post("/forge/admin", json={"view": "activity"}, headers=forge()).get_json()["html"]
    assert "Push a decision to Consonance" in html
    assert "HTTP 429" in html and "ConsonanceUnavailable" in html  # the reason, in the row
    assert f'data-action="retry" data-entry="{entry.id}"' in html
    # the decision's delivery state says so too, in words, with the recorded error beside them
    assert "could not reach Consonance: Consonance asked the app to slow down" in html
    assert ADMIN not in html and "User dmin" in html  # the decider by the name Confluence gives, not the account id
    assert "for “a title with no pages in Confluence yet”" in html and "decision id" not in html

    # Retry while the fault persists: attempted again, failed again, reason still shown.
    again = client.post(f"/forge/admin/outbox/{entry.id}/retry", json={}, headers=forge())
    assert again.status_code == 200
    db.session.refresh(entry)
    assert entry.status == FAILED and "429" in entry.last_error

    consonance.control.clear_faults()
    retried = client.post(f"/forge/admin/outbox/{entry.id}/retry", json={}, headers=forge())
    assert retried.status_code == 200 and retried.get_json()["ok"]
    db.session.refresh(entry)
    assert entry.status == DELIVERED
    assert "No failed writes." in retried.get_json()["html"]
    assert len(_notes(consonance, "Cover approved at the launch meeting")) == 1

    # a second Retry of a delivered write changes nothing
    stale = client.post(f"/forge/admin/outbox/{entry.id}/retry", json={}, headers=forge())
    assert stale.status_code == 409
    assert len(_notes(consonance, "Cover approved at the launch meeting")) == 1

    audit = client.post("/forge/admin", json={"view": "audit"}, headers=forge()).get_json()["html"]
    assert "User dmin retried a failed write." in audit
    assert "User dmin recorded a note on “a title with no pages in Confluence yet”." in audit
    assert ADMIN not in audit and f"work {WORK}" not in audit


def test_retry_is_scoped_to_the_site(client, forge, connected, connect_install, consonance):
    other = connect_install(client_key="another-site")
    other_tenant = tenants.find_tenant(tenants.CONNECT, other["clientKey"])
    consonance.control.add_fault(operation="AddWorkNote", rateLimitCount=5, retryAfter=120)
    update_settings(other_tenant, {"consonance_host": consonance.url}, actor="x")
    tenants.set_secret(other_tenant, tenants.CONSONANCE_API_KEY, consonance.api_key)
    db.session.commit()
    recorded = decisions.record_decision(
        other_tenant,
        idempotency_key="z" * 24,
        work_id=WORK,
        decision_type="note",
        text="other site's note",
        actor="x",
        source="macro",
    )
    entry_id = outbox.entries(other_tenant, status=FAILED)[0].id
    assert recorded.created
    response = client.post(f"/forge/admin/outbox/{entry_id}/retry", json={}, headers=forge())
    assert response.status_code == 409  # not this site's write
    assert db.session.get(OutboxEntry, entry_id).status == FAILED


def test_activity_names_the_rule_set_and_shows_outbox_depth(client, forge, admin_tenant):
    from addon.publishing.standards import DEFAULT_RULE_SET

    html = client.post("/forge/admin", json={"view": "activity"}, headers=forge()).get_json()["html"]
    assert "the default rule set" in html and f"{len(DEFAULT_RULE_SET.rules)} rules" in html
    assert DEFAULT_RULE_SET.version not in html  # a hash means nothing to an admin
    assert 'data-outbox="pending">0<' in html
    assert "No failed writes." in html


def test_plain_reasons_lead_with_what_to_do():
    from addon.admin.activity import plain_reason

    assert plain_reason(None, "consonance") == ""
    assert plain_reason("something nobody anticipated", "consonance") == ""
    throttled = plain_reason("ConsonanceUnavailable: gave up after 2 attempts: HTTP 429", "consonance")
    assert throttled.startswith("Consonance asked the app to slow down") and "Retry" in throttled
    refused = plain_reason("Consonance at https://c.test refused the API key (HTTP 401)", "consonance")
    assert "save a new API key" in refused


def failed_poll(tenant, at, error: str):
    """A poll run that failed at `at`, as the job runner records one."""
    from addon.jobs.models import JobRun

    return JobRun(
        tenant_id=tenant.id, kind="poll", started_at=at, finished_at=at, outcome="failed", error=error, counts={}
    )


def test_a_failed_job_run_stays_listed_behind_many_newer_runs(admin_tenant):
    """Found by `make chaos`: with the outbox drain running every minute, a lost or failed run used to
    scroll off the 25 latest runs within half an hour, leaving half-done work invisible."""
    from datetime import timedelta

    from addon.admin.activity import activity_view
    from addon.jobs.models import JobRun
    from addon.platform.models import utcnow

    start = utcnow() - timedelta(hours=1)
    db.session.add(failed_poll(admin_tenant, start, "worker lost (killed or restarted) mid-run"))
    db.session.add(JobRun(tenant_id=admin_tenant.id, kind="pipeline_summary", started_at=start, counts={}))
    for minute in range(1, 31):
        at = start + timedelta(minutes=minute)
        db.session.add(
            JobRun(
                tenant_id=admin_tenant.id, kind="outbox.drain", started_at=at, finished_at=at, outcome="ok", counts={}
            )
        )
    db.session.commit()
    runs = activity_view(admin_tenant)["job_runs"]
    assert [r["outcome"] for r in runs].count("ok") == 25
    assert any(r["outcome"] == "failed" and "worker lost" in r["error"] for r in runs)
    assert any(r["outcome"] == "running" for r in runs)


def test_regenerate_owes_a_fresh_summary_for_this_period_and_only_admins_may(client, forge, connected, consonance):
    from tests.fixtures.admin import EDITOR

    html = client.post("/forge/admin", json={"view": "activity"}, headers=forge()).get_json()["html"]
    assert 'data-action="regenerate" data-cadence="weekly"' in html
    assert 'data-action="regenerate" data-cadence="monthly"' in html
    refused = client.post("/forge/admin/summaries/weekly/regenerate", json={}, headers=forge(EDITOR))
    assert refused.status_code == 403
    assert not db.session.execute(db.select(OutboxEntry)).scalars().all()

    consonance.control.clear_requests()
    answer = client.post("/forge/admin/summaries/weekly/regenerate", json={}, headers=forge())
    assert answer.status_code == 200 and "commentary and action items are kept" in answer.get_json()["message"]
    [entry] = db.session.execute(db.select(OutboxEntry)).scalars().all()
    assert entry.kind == "confluence.pipeline_summary" and entry.dedupe_key.startswith("summary:weekly:")
    assert "titles in the pipeline (not yet published)" in entry.payload["region"]
    assert consonance.control.counters()["byOperation"].get("CataloguePipeline", 0) >= 1  # read afresh
    assert client.post("/forge/admin/summaries/daily/regenerate", json={}, headers=forge()).status_code == 404


def test_standards_rows_that_failed_read_as_sentences():
    from addon.admin.activity import _problem_text

    assert _problem_text([3, "ISBN | maybe", "“maybe” is not a rule the app knows"]) == (
        "Row 3 (ISBN | maybe): “maybe” is not a rule the app knows"
    )
    assert _problem_text([0, "", "the page could not be read"]) == "The page: the page could not be read"


def test_the_headline_says_when_the_polls_since_the_last_good_one_failed(admin_tenant):
    """Consonance stopped answering: "Last poll … ok" must not stand while every poll since has failed."""
    from datetime import timedelta

    from addon.admin.activity import last_poll
    from addon.flows.sync_models import PollState
    from addon.platform.models import utcnow

    good = utcnow() - timedelta(minutes=10)
    db.session.add(PollState(tenant_id=admin_tenant.id, last_poll_at=good, works_seen=26))
    db.session.commit()
    assert last_poll(admin_tenant)["outcome"] == "ok"
    db.session.add(failed_poll(admin_tenant, utcnow() - timedelta(minutes=1), "Consonance is not answering"))
    db.session.commit()
    shown = last_poll(admin_tenant)
    assert shown["outcome"] == "failed"
    assert "Consonance is not answering" in shown["detail"] and "last poll that read Consonance" in shown["detail"]


def test_a_decision_waiting_on_consonance_is_explained_in_words():
    from addon.admin.activity import _delivery_advice

    raw = (
        "ConsonanceUnavailable: Consonance at https://c.example unavailable for AddWorkNote: HTTP 503 (gave up after 5)"
    )
    assert _delivery_advice("retrying", raw) == "Consonance did not answer. The app tries again by itself."
    assert _delivery_advice("failed", raw) == "Consonance did not answer. Press Retry once it is back."
    assert _delivery_advice("delivered", None) == ""


def test_times_kept_as_text_read_as_the_admin_reads_every_other_time():
    from addon.admin.activity import when_written

    assert when_written("2026-12-06T18:57:02+00:00") == "2026-12-06 18:57:02 UTC"
    assert when_written(None) is None and when_written("soon") == "soon"
