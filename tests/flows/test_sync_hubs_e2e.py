"""F4 rights links, F6 launch hubs and F7 pipeline summaries end to end over HTTP."""

from __future__ import annotations

import html
from datetime import date, timedelta

from addon.confluence.owned_regions import find_region, read_region
from addon.extensions import db
from addon.flows import hub_calendar
from addon.flows import page_templates as templates
from addon.flows.change_detection import poll
from addon.flows.pipeline_summaries import local_today, owe_summary, regenerate_summary
from addon.flows.rights_links import ROLE, SUPERSEDED_ROLE, guidance_url
from addon.gateways import gateways
from addon.publishing.pipeline import period_for
from addon.publishing.wording import long_date
from addon.settings.service import update_settings
from tests.flows.sync_harness import CATALOGUE, drain, pages_titled

CONSONANCE_CATALOGUE = CATALOGUE
CONSONANCE_RESET_EACH_TEST = True


def _outside(body: str, region: str) -> str:
    found = find_region(body, region)
    return body[: found.inner_start] + "<region/>" + body[found.inner_end :]


def _acquire(consonance, tenant, title):
    poll(tenant)
    work_id = str(consonance.control.acquire_title(title)["id"])
    assert poll(tenant)["title_acquired"] == 1
    return work_id


def _link_writes(consonance) -> int:
    return consonance.control.counters()["byOperation"].get("UpdateWorkWebLinks", 0)


def test_rights_link_written_once_and_kept_current(tenant, consonance, emulator):
    poll(tenant)
    work_id = str(consonance.control.acquire_title("Borderlands")["id"])
    gateway = gateways().consonance(tenant)
    rights = gateway.rights_for(work_id)
    right = rights.licensed_right_types[0]
    update_settings(
        tenant,
        {
            "rights_mappings": [
                {"right_type": right, "page_id": "501", "label": "Licensing guide"},
                {"territory": "ZZ", "page_id": "502", "label": "Never matches"},
            ]
        },
        actor="admin",
    )
    managed = poll(tenant)["rights_changed"]  # every managed title (the forthcoming list too) is owed its links
    assert managed > 1
    consonance.control.clear_requests()
    drain(tenant)
    links = gateway.web_links(work_id)
    url = guidance_url(emulator.url, "501")
    assert [(link.url, link.role) for link in links if link.role == ROLE] == [(url, ROLE)]
    written = _link_writes(consonance)
    assert 1 <= written <= managed  # one write per title the rule fits, none for the rest

    # same mapping again (reconciliation-style rerun): nothing written
    from addon.flows.reconciliation import reconcile_tenant

    reconcile_tenant(tenant, gateway.iter_fingerprints(), "2026-11-29")
    drain(tenant)
    assert _link_writes(consonance) == written

    # the admin points the rule at another page: the new link is added, the old one marked superseded
    update_settings(
        tenant, {"rights_mappings": [{"right_type": right, "page_id": "503", "label": "New guide"}]}, actor="admin"
    )
    assert poll(tenant)["rights_changed"] == managed
    drain(tenant)
    roles = {link.url: link.role for link in gateway.web_links(work_id)}
    assert roles[guidance_url(emulator.url, "503")] == ROLE and roles[url] == SUPERSEDED_ROLE

    # the rights change in Consonance itself (a contract licenses a new territory): the next poll sees it
    with consonance.state.lock:
        contract = consonance.state.works[int(work_id)].contracts[0]
        first = contract.rights[0]
        contract.rights = (first[:2] + (tuple(first[2]) + ("NZ",),),) + tuple(contract.rights[1:])
    assert poll(tenant)["rights_changed"] == 1
    assert poll(tenant)["rights_changed"] == 0


def test_launch_hub_table_follows_dates_and_leaves_marketing_alone(tenant, consonance, emulator, confluence):
    work_id = _acquire(consonance, tenant, "Harvest Moon")
    season = gateways().consonance(tenant).title(work_id).season
    drain(tenant)
    [hub] = pages_titled(emulator, f"Launch hub — {season}")
    page = confluence.get_page(hub.id)
    table = read_region(page.body, templates.LAUNCH_TABLE_REGION)
    assert "Harvest Moon" in table and "TOO EARLY" in table  # acquired today, published in two years
    assert "judged from 26 weeks before publication" in table  # Why gives the reason, not the verdict again
    marketing = page.body.replace(
        "<em>Marketing: positioning, channels, budget.</em>", "Lead with the harvest festival tie-in; &pound;4k budget."
    )
    confluence.update_page(page, marketing)
    before = confluence.get_page(hub.id)

    consonance.control.slip_publication(int(work_id), 35)
    counts = poll(tenant)
    assert counts["dates_changed"] == 1 and counts["hub_refreshes"] >= 1
    drain(tenant)
    after = confluence.get_page(hub.id)
    assert after.version == before.version + 2  # the table, then the campaign calendar
    new_table = read_region(after.body, templates.LAUNCH_TABLE_REGION)
    new_date = gateways().consonance(tenant).title(work_id).earliest_publication_date
    assert new_table != table and f"{new_date.day} " in new_table
    assert _outside(_outside(after.body, templates.LAUNCH_TABLE_REGION), hub_calendar.REGION) == _outside(
        _outside(before.body, templates.LAUNCH_TABLE_REGION), hub_calendar.REGION
    )
    assert "harvest festival tie-in" in after.body
    assert long_date(new_date) in read_region(after.body, hub_calendar.REGION)
    poll(tenant)
    drain(tenant)
    assert confluence.get_page(hub.id).version == after.version  # nothing changed: no new version


def test_hub_calendar_lists_announce_publication_and_marketing_dates(tenant, consonance, emulator, confluence):
    work_id = _acquire(consonance, tenant, "Harvest Moon")
    title = gateways().consonance(tenant).title(work_id)
    drain(tenant)
    [hub] = pages_titled(emulator, f"Launch hub — {title.season}")
    page = confluence.get_page(hub.id)
    publication = title.earliest_publication_date
    plan = (
        "<table><tbody><tr><th>When</th><th>What</th></tr>"
        f'<tr><td><time datetime="{(publication - timedelta(days=20)).isoformat()}" /></td><td>Harvest Moon cover reveal on social</td></tr>'
        "</tbody></table>"
    )
    confluence.update_page(page, page.body.replace("<em>Marketing: positioning, channels, budget.</em>", plan))
    consonance.control.slip_publication(int(work_id), 7)
    poll(tenant)
    drain(tenant)

    calendar = read_region(confluence.get_page(hub.id).body, hub_calendar.REGION)
    publication = gateways().consonance(tenant).title(work_id).earliest_publication_date
    assert f"<td>{long_date(publication)}</td>" in calendar and "Publication" in calendar
    assert long_date(publication - timedelta(weeks=hub_calendar.ANNOUNCE_WEEKS)) in calendar
    assert "Harvest Moon cover reveal on social" in calendar
    assert '<ri:page ri:content-title="Harvest Moon"' in calendar  # the title links to its home page
    assert "<th>Mon</th>" in calendar  # the month view


def _attachment(emulator, page_id):
    return emulator.store.attachments_of(page_id)


def test_pipeline_summary_keeps_commentary_and_attaches_a_chart(tenant, consonance, emulator, confluence):
    poll(tenant)  # the first sync owes this period's summaries already (today's week may be this one)
    today = date(2026, 11, 30)
    period = period_for(today, "weekly")
    owe_summary(tenant, "weekly", today)
    db.session.commit()
    assert not owe_summary(tenant, "weekly", today)  # once per period
    drain(tenant)
    [summary] = pages_titled(emulator, period.title)
    page = confluence.get_page(summary.id)
    generated = read_region(page.body, templates.SUMMARY_REGION)
    published = {"04", "06", "07", "08", "10", "11", "12", "13", "15", "16", "17"}
    with consonance.state.lock:
        backlist = sum(
            1
            for w in consonance.state.works.values()
            if w.stage == "Published" or any(p.status in published for p in w.products)
        )
        pipeline = len(consonance.state.works) - backlist
        made = local_today(tenant)  # the first sync's summary is this period's, made today
        past_due = sum(1 for t in consonance.state.tasks.values() if t.status == "OPEN" and t.due_date < made)
        slipped = sum(
            1
            for w in consonance.state.works.values()
            if not (w.stage == "Published" or any(p.status in published for p in w.products))
            for c in w.contracts
            for d in c.delivery_dates
            if d.slipped_date and d.slipped_date != d.date_due
        )
    assert past_due and slipped
    assert f"{past_due + slipped} overdue: open Consonance to-dos past their due date and slipped" in generated
    assert backlist and pipeline
    assert f"{pipeline} titles in the pipeline (not yet published)" in generated
    assert f"Published backlist, counted apart: {backlist}." in generated
    assert "Pipeline by stage" in generated and "Release risks" in generated
    [chart] = _attachment(emulator, summary.id)
    assert chart.title == f"pipeline-{period.key}.png" and chart.data[:8] == b"\x89PNG\r\n\x1a\n"
    first_chart = chart.data
    people = page.body.replace("<em>Leadership commentary on the period.</em>", "Spring list looks thin.")
    people = people.replace(
        "<em>Who does what by when.</em>",
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>Ana: chase late deliveries</ac:task-body></ac:task></ac:task-list>",
    )
    confluence.update_page(page, people)
    before = confluence.get_page(summary.id)

    consonance.control.clear_requests()
    assert not owe_summary(tenant, "weekly", today)  # same period again: already owed, nothing read or new
    db.session.commit()
    assert consonance.control.counters()["total"] == 0
    assert drain(tenant).get("delivered", 0) == 0

    for work_id in (1, 2, 3):
        consonance.control.move_to_stage(work_id, "Published")
    assert regenerate_summary(tenant, "weekly", today)
    db.session.commit()
    drain(tenant)
    after = confluence.get_page(summary.id)
    assert after.version == before.version + 1
    assert read_region(after.body, templates.SUMMARY_REGION) != read_region(before.body, templates.SUMMARY_REGION)
    assert _outside(after.body, templates.SUMMARY_REGION) == _outside(before.body, templates.SUMMARY_REGION)
    assert "Spring list looks thin." in after.body and "chase late deliveries" in after.body
    [chart] = _attachment(emulator, summary.id)
    assert chart.data != first_chart  # the stage counts moved, so the bars did


def test_hubs_cover_the_whole_forthcoming_list_with_reasons_and_links(tenant, consonance, emulator, confluence):
    from addon.flows.launch_hubs import enqueue_forthcoming_hubs
    from addon.settings.service import get_settings

    poll(tenant)  # the first sync: no title is "acquired since install", yet marketing needs every season
    with consonance.state.lock:
        forthcoming = {
            w.id: (w.full_title, w.title, w.season) for w in consonance.state.works.values() if w.stage != "Published"
        }
    seasons = {season for _, _, season in forthcoming.values()}
    assert len(seasons) >= 3
    assert enqueue_forthcoming_hubs(tenant, "first-sync") == len(seasons)
    db.session.commit()
    drain(tenant)
    host = get_settings(tenant).consonance_host
    for season in seasons:
        [hub] = pages_titled(emulator, f"Launch hub — {season}")
        table = read_region(confluence.get_page(hub.id).body, templates.LAUNCH_TABLE_REGION)
        rows = table.count("<tr>") - 1
        members = [(work_id, full) for work_id, (full, _, s) in forthcoming.items() if s == season]
        assert rows == len(members), season
        for work_id, title in members:
            assert f'<a href="{host.rstrip("/")}/works/{work_id}">{html.escape(title, quote=False)}</a>' in table
        assert "Don&#x27;t announce yet</td>" not in table and "Ready to announce</td>" not in table  # Why ≠ verdict
    assert not pages_titled(emulator, "Launch hub — No season")
