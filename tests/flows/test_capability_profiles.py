"""Both sync directions against Consonance servers the app was not written for (sandbox profiles), over HTTP.

On each: the daily check finds what the server offers; change detection polls with what exists and
makes a new title's pages (Consonance → Confluence); a decision written on the title's Decision log page
goes to Consonance where the server takes notes, and elsewhere is kept on the page marked "not sent",
with the reason (Confluence → Consonance). Nothing is left owed or failed, and no request the server
refused (other than the discovery's own probes, each sent once) was ever sent.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from addon.confluence.owned_regions import read_region
from addon.decisions.models import Decision
from addon.extensions import db
from addon.flows import capability_discovery, decision_log
from addon.flows.change_detection import poll
from addon.jobs import outbox
from addon.jobs.models import FAILED, PENDING, OutboxEntry
from addon.platform.models import AuditEntry
from addon.titles.models import TitlePage
from sandbox.consonance.testing import running_sandbox

SEED, SIZE = 7, 30  # the editors'-page tests' catalogue
CONSONANCE_RESET_EACH_TEST = True
DISCOVERY = {"CapabilityIntrospection", "CapabilityProbe"}
# What each profile must switch off (and only that), and how it lists works.
EXPECTED = {
    "documented-only": (
        {"notes", "stage_changes", "tasks", "web_links", "stage", "stage_list", "contracts", "imprint"},
        "none",
    ),
    "introspection-refused": (
        {"notes", "stage_changes", "tasks", "web_links", "stage", "stage_list", "contracts", "imprint"},
        "none",
    ),
    "cursor": (set(), "cursor"),
    "other-names": (set(), "page"),
}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def consonance_server(request):
    with running_sandbox(SEED=SEED, SIZE=SIZE, ANCHOR="2026-11-01", PROFILE=request.param) as sandbox:
        yield sandbox


def _refused(consonance) -> list[dict]:
    return [r for r in consonance.control.requests() if r.get("refused")]


def _settled(tenant) -> None:
    for _ in range(10):
        if not any(outbox.drain(tenant=tenant, limit=500).values()):
            break
    db.session.expire_all()


def test_both_directions_work_or_say_why_not(world):
    consonance, tenant = world.consonance, world.tenant
    profile_name = consonance.sandbox.profile
    off_expected, pagination = EXPECTED[profile_name]

    # The daily check finds out what this server offers and keeps it for the tenant.
    assert capability_discovery.check_capabilities(tenant)["checked"] == 1
    profile = capability_discovery.stored_profile(tenant)
    off = {status.key for status in profile.features() if not status.available}
    assert off_expected <= off and (off_expected or not off), off
    assert profile.pagination == pagination
    assert profile.source == ("probing" if profile_name == "introspection-refused" else "introspection")
    assert db.session.query(AuditEntry).filter_by(action=capability_discovery.CHANGED).count() == 1

    # Consonance → Confluence: poll with what exists, and a newly acquired title gets its pages.
    assert poll(tenant)["baseline"] == 1
    acquired = consonance.control.acquire_title("The Orchard Keeper")
    counts = poll(tenant)
    assert counts["works"] == SIZE + 1 and counts["title_acquired"] == 1
    _settled(tenant)
    world.settle()
    work_id = str(acquired["id"])
    roles = set(db.session.execute(sa.select(TitlePage.role).where(TitlePage.work_id == work_id)).scalars())
    assert {"home", "decision-log"} <= roles

    # Confluence → Consonance: a decision written on the Decision log page.
    log_page_id = db.session.execute(
        sa.select(TitlePage.page_id).where(TitlePage.work_id == work_id, TitlePage.role == "decision-log")
    ).scalar_one()
    page = world.person.get_page(log_page_id)
    world.edit(log_page_id, page.body + "<p>Decision: note — Sales want the blurb shortened.</p>")
    world.settle()
    _settled(tenant)
    decision_log.refresh_decision_logs(tenant)
    _settled(tenant)
    world.settle()
    decision = db.session.query(Decision).filter_by(tenant_id=tenant.id, work_id=work_id).one()
    region = read_region(world.person.get_page(log_page_id).body, decision_log.REGION)
    notes = consonance.state.works[int(work_id)].notes
    if "notes" in off:
        assert decision.delivery_state == "not_sent"
        assert "Not sent" in region and "Not sent: your Consonance does not accept" in region
        assert "createWorkNote" in region and not notes
    else:
        assert decision.delivery_state == "delivered"
        assert "In Consonance" in region
        assert [n.text for n in notes if "Sales want the blurb shortened." in n.text]

    # Nothing owed for ever, nothing failed, and the server was never sent what it refuses.
    stuck = db.session.query(OutboxEntry).filter(OutboxEntry.status.in_([PENDING, FAILED])).all()
    assert not stuck, [(e.kind, e.last_error) for e in stuck]
    refused = _refused(consonance)
    assert {r["operationName"] for r in refused} <= DISCOVERY, refused
    assert len(refused) <= 3  # introspection once, and where refused the query probe and the mutation probe once


def test_the_pipeline_summary_says_what_this_consonance_does_not_report(world):
    """A server without stages, to-dos or contracts: the summary says those are not reported, instead of
    grouping every title under "No stage" and counting nothing overdue as if nothing were."""
    from datetime import date

    from addon.flows.pipeline_summaries import summary_content
    from addon.gateways import gateways
    from addon.publishing.pipeline import WEEKLY

    tenant = world.tenant
    capability_discovery.check_capabilities(tenant)
    off = {status.key for status in capability_discovery.stored_profile(tenant).features() if not status.available}
    region = summary_content(tenant, gateways().consonance(tenant), WEEKLY, date(2026, 11, 2))["region"]
    if "stage" in off:
        assert "does not report titles' workflow stages" in region and "Not reported by Consonance" in region
        assert "No stage" not in region
    else:
        assert "workflow stages" not in region and "Not reported by Consonance" not in region
    if {"tasks", "contracts"} <= off:
        assert "reports neither to-dos nor contract delivery dates" in region
    else:
        assert "overdue: open Consonance to-dos past their due date" in region
