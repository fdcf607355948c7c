"""End to end over HTTP against both sandboxes: acquire a title in Consonance → poll → drain the
outbox → its page set, status region, rights link and launch hub appear in the Confluence emulator."""

from __future__ import annotations

import sqlalchemy as sa

from addon.confluence import storage_parse
from addon.confluence.owned_regions import find_region, read_region
from addon.extensions import db
from addon.flows import page_templates as templates
from addon.flows.change_detection import poll
from addon.flows.sync_models import PollState
from addon.jobs.models import OutboxEntry
from addon.settings.service import update_settings
from addon.titles.models import TitlePage
from tests.flows.sync_harness import CATALOGUE, consonance_web_links, drain, pages_titled, versions

CONSONANCE_CATALOGUE = CATALOGUE
CONSONANCE_RESET_EACH_TEST = True


def _outside(body: str, region: str) -> str:
    found = find_region(body, region)
    return body[: found.inner_start] + "<region/>" + body[found.inner_end :]


def _acquire(consonance, tenant, title):
    assert poll(tenant)["baseline"] == 1  # the first poll records the catalogue and manages the forthcoming list
    work = consonance.control.acquire_title(title)
    counts = poll(tenant)
    assert counts["title_acquired"] == 1 and counts["new"] == 1
    return str(work["id"])


def _kinds():
    return [k for (k,) in db.session.execute(sa.select(OutboxEntry.kind).order_by(OutboxEntry.id)).all()]


def test_first_poll_covers_the_forthcoming_list_without_making_pages(tenant, consonance, emulator):
    stages = consonance.control.state()["stages"]
    forthcoming = sum(n for stage, n in stages.items() if stage not in ("Published", "Cancelled"))
    counts = poll(tenant)
    assert counts["works"] == 40 and counts["baseline"] == 1
    assert 0 < counts["managed"] <= forthcoming < 40
    assert sum(counts[k] for k in ("title_acquired", "stage_changed", "dates_changed", "readiness_changed")) == 0
    # Hubs (and summaries, which read the managed list) cover it; page sets wait for the admin.
    kinds = set(_kinds())
    assert counts["hub_refreshes"] > 0 and "confluence.launch_hub" in kinds
    assert kinds <= {"confluence.launch_hub", "confluence.pipeline_summary"}  # summaries due this period, too
    assert counts["consonance_requests"] == 1  # 40 works fit in one page
    state = db.session.execute(sa.select(PollState)).scalar_one()
    assert state.first_sync["managed"] == counts["managed"] and state.first_sync["with_pages"] == 0
    drain(tenant)
    assert db.session.execute(sa.select(sa.func.count(TitlePage.id))).scalar() == 0
    assert len(pages_titled(emulator, "Launch hub — ")) == counts["hub_refreshes"]
    assert poll(tenant)["baseline"] == 0 and _kinds().count("confluence.launch_hub") == counts["hub_refreshes"]


def test_acquisition_puts_the_rights_link_on_the_consonance_record(tenant, consonance):
    """F4: the page set and the rights link are two writes of one acquisition; both are owed and made."""
    mappings = [
        {"right_type": right, "page_id": "900", "label": "Rights guidance"}
        for right in ("Translation", "Audio", "Serial", "US", "Film & TV", "Large print", "Book club", "Ebook")
    ]
    update_settings(tenant, {"rights_mappings": mappings}, actor="admin")
    work_id = _acquire(consonance, tenant, "The Rights Test")
    assert {"confluence.page_set", "consonance.rights_link"} <= set(_kinds())
    drain(tenant)
    links = consonance_web_links(consonance, work_id)
    assert [(link["link"], link["role"]) for link in links] == [
        (f"{tenant.site_url}/wiki/pages/viewpage.action?pageId=900", "rights-guidance")
    ]


def test_a_changed_rights_mapping_reaches_every_managed_title_within_one_poll(tenant, consonance):
    work_id = _acquire(consonance, tenant, "The Mapping Test")
    drain(tenant)
    assert consonance_web_links(consonance, work_id) == []  # no mapping yet: nothing to link
    mappings = [
        {"right_type": right, "page_id": "901", "label": "Escalation"}
        for right in ("Translation", "Audio", "Serial", "US", "Film & TV", "Large print", "Book club", "Ebook")
    ]
    update_settings(tenant, {"rights_mappings": mappings}, actor="admin")
    poll(tenant)
    drain(tenant)
    assert [link["role"] for link in consonance_web_links(consonance, work_id)] == ["rights-guidance"]


def test_acquired_title_gets_its_page_set(tenant, consonance, emulator, confluence):
    work_id = _acquire(consonance, tenant, "The Orchard Keeper")
    drain(tenant)
    rows = {r.role: r for r in db.session.execute(sa.select(TitlePage).where(TitlePage.work_id == work_id)).scalars()}
    assert set(rows) == {"home", "manuscript-brief", "schedule", "key-contacts", "meeting-notes", "decision-log"}
    home = confluence.get_page(rows["home"].page_id)
    assert home.title == "The Orchard Keeper"
    children = {p.title for p in confluence.iter_children(home.id)}
    assert children == {f"The Orchard Keeper — {n}" for n in templates.CHILD_ROLES}
    macros = {(m.name, m.parameters.get("title")) for m in storage_parse.find_macros(home.body)}
    assert {("title-status", work_id), ("launch-readiness", work_id), ("rights-link", work_id)} <= macros
    brief = confluence.get_page(rows["manuscript-brief"].page_id)
    assert ("metadata-checklist", work_id) in {
        (m.name, m.parameters.get("title")) for m in storage_parse.find_macros(brief.body)
    }
    assert "Synopsis" in brief.body
    assert "Acquisition" in read_region(home.body, templates.STATUS_REGION)
    labels = {label.name for label in confluence.get_labels(home.id)}
    assert {"consonance-title", f"consonance-work-{work_id}", "consonance-stage-acquisition"} <= labels
    prop = confluence.get_page_property(home.id, "consonance-title")
    assert prop.value == {"workId": work_id, "role": "home"}
    hubs = [p for p in pages_titled(emulator, "Launch hub — ") if "The Orchard Keeper" in p.current.body]
    assert len(hubs) == 1


def _home(work_id):
    return db.session.execute(
        sa.select(TitlePage).where(TitlePage.work_id == work_id, TitlePage.role == "home")
    ).scalar_one()


def test_stage_move_changes_only_the_status_region(tenant, consonance, emulator, confluence):
    work_id = _acquire(consonance, tenant, "Salt and Iron")
    drain(tenant)
    home = confluence.get_page(_home(work_id).page_id)
    people = home.body.replace(
        "<em>One paragraph: what it is, who it is for, why now.</em>",
        "A novel about a foundry town &amp; its <strong>river</strong>.",
    )
    people = "<p>Editor's note, top of page.</p>" + people + "<p>Written below everything.</p>"
    confluence.update_page(home, people)
    before = confluence.get_page(home.id)

    consonance.control.move_to_stage(int(work_id), "Editorial")
    counts = poll(tenant)
    assert counts["stage_changed"] == 1 and counts["title_acquired"] == 0
    drain(tenant)
    after = confluence.get_page(home.id)
    assert after.version == before.version + 1
    region = read_region(after.body, templates.STATUS_REGION)
    assert "Editorial" in region and "Acquisition" not in region
    assert "Read the manuscript" not in region and "Agree structural edits" in region  # the default next step
    assert _outside(after.body, templates.STATUS_REGION) == _outside(before.body, templates.STATUS_REGION)
    labels = {label.name for label in confluence.get_labels(home.id)}
    assert "consonance-stage-editorial" in labels and "consonance-stage-acquisition" not in labels


def test_stage_guide_page_supplies_reviewers_and_next_step(tenant, consonance, confluence):
    from addon.settings.service import update_settings

    space = confluence.get_space_by_key("PUB")
    guide = confluence.create_page(
        space.id,
        "Stage guide",
        "<p>How we work.</p><table><tbody>"
        "<tr><th>Stage</th><th>Reviewers</th><th>Next step</th></tr>"
        "<tr><td>Editorial</td><td>Ana Ruiz, Tom Hale</td><td>Send the editorial letter by Friday.</td></tr>"
        "</tbody></table>",
    )
    update_settings(tenant, {"stage_guide_page_id": guide.id}, actor="admin")
    work_id = _acquire(consonance, tenant, "Guided Title")
    drain(tenant)
    consonance.control.move_to_stage(int(work_id), "Editorial")
    poll(tenant)
    drain(tenant)
    region = read_region(confluence.get_page(_home(work_id).page_id).body, templates.STATUS_REGION)
    assert "Ana Ruiz, Tom Hale" in region and "Send the editorial letter by Friday." in region


def test_repeated_polls_and_reconciliation_make_no_new_versions(tenant, consonance, emulator):
    from addon.flows.launch_hubs import enqueue_forthcoming_hubs
    from addon.flows.reconciliation import reconcile_tenant
    from addon.gateways import gateways

    work_id = _acquire(consonance, tenant, "Quiet Waters")
    enqueue_forthcoming_hubs(tenant, "first-sync")  # what the first sync does: hubs for the forthcoming list
    db.session.commit()
    drain(tenant)
    consonance.control.move_to_stage(int(work_id), "Contracted")
    poll(tenant)
    drain(tenant)
    entries = db.session.execute(sa.select(sa.func.count(OutboxEntry.id))).scalar()
    seen = versions(emulator)
    for _ in range(2):
        counts = poll(tenant)
        assert counts["changed"] == 0 and counts["new"] == 0
    drain(tenant)
    assert db.session.execute(sa.select(sa.func.count(OutboxEntry.id))).scalar() == entries
    assert versions(emulator) == seen
    # the nightly pass re-runs every flow for the title: all find their work done
    reconcile_tenant(tenant, gateways().consonance(tenant).iter_fingerprints(), "2026-11-29")
    assert drain(tenant)["delivered"] >= 4
    assert versions(emulator) == seen


def test_reconciliation_recreates_a_page_deleted_by_hand(tenant, consonance, emulator, confluence):
    from addon.flows.reconciliation import reconcile_tenant
    from addon.gateways import gateways

    work_id = _acquire(consonance, tenant, "Lost Pages")
    drain(tenant)
    brief = db.session.execute(
        sa.select(TitlePage).where(TitlePage.work_id == work_id, TitlePage.role == "manuscript-brief")
    ).scalar_one()
    old_id = brief.page_id
    confluence.request("DELETE", f"/wiki/api/v2/pages/{old_id}")
    reconcile_tenant(tenant, gateways().consonance(tenant).iter_fingerprints(), "2026-11-29")
    drain(tenant)
    db.session.expire_all()
    brief = db.session.get(TitlePage, brief.id)
    assert brief.page_id != old_id
    assert [p.title for p in pages_titled(emulator, "Lost Pages — Manuscript brief")] == [
        "Lost Pages — Manuscript brief"
    ]


def test_schedule_tick_runs_the_poll_and_records_its_counts(tenant, consonance):
    from addon.jobs.models import JobRun
    from addon.jobs.schedule import tick
    from addon.platform.models import utcnow

    now = utcnow()  # both ticks in one period, whatever the clock: run at a period's edge, two would straddle it
    tick(now)
    runs = {run.kind: run for run in db.session.execute(sa.select(JobRun)).scalars()}
    assert {"poll", "reconcile", "pipeline_summary"} <= set(runs)
    assert runs["poll"].outcome == "ok" and runs["poll"].counts["works"] == 40
    assert runs["poll"].counts["consonance_requests"] == 1
    tick(now)  # same period: nothing runs twice
    assert db.session.execute(sa.select(sa.func.count(JobRun.id)).where(JobRun.kind == "poll")).scalar() == 1


def test_a_tenant_not_connected_to_consonance_is_skipped_quietly(app):
    from addon.flows.reconciliation import reconcile
    from addon.platform.models import Tenant

    tenant = Tenant(transport="forge", external_id="ari:cloud:ecosystem::installation/unconnected", enabled=True)
    db.session.add(tenant)
    db.session.commit()
    assert poll(tenant) == {"skipped": 1} and reconcile(tenant) == {"skipped": 1}
    assert db.session.execute(sa.select(sa.func.count(OutboxEntry.id))).scalar() == 0


def test_space_per_title_and_a_launch_hub_per_title(tenant, consonance, emulator, confluence):
    from addon.settings.service import update_settings

    update_settings(
        tenant,
        {
            "page_set_mode": "space_per_title",
            "launch_hub_mode": "per_title",
            "page_set_children": ["Manuscript brief", "Decision log"],
        },
        actor="admin",
    )
    work_id = _acquire(consonance, tenant, "Own Space")
    drain(tenant)
    space = confluence.get_space_by_key(f"CT{work_id}")
    assert space is not None
    rows = {r.role: r for r in db.session.execute(sa.select(TitlePage).where(TitlePage.work_id == work_id)).scalars()}
    assert set(rows) == {"home", "manuscript-brief", "decision-log", "launch-hub"}
    assert {rows[r].space_id for r in ("home", "manuscript-brief", "decision-log")} == {space.id}
    assert confluence.get_page(rows["home"].page_id).parent_id == space.homepage_id
    hub = confluence.get_page(rows["launch-hub"].page_id)
    assert hub.title == "Launch hub — Own Space" and "Own Space" in read_region(hub.body, templates.LAUNCH_TABLE_REGION)


def test_a_key_names_fix_in_consonance_reaches_the_title_and_an_upgrade_raises_nothing(tenant, consonance):
    """Key names decide whether a contributor's name can be inverted (a metadata check), so fixing them is a
    change; snapshots stored before key names were watched are brought up to date without raising one."""
    from dataclasses import replace

    from addon.flows.change_detection import snapshot_values
    from addon.flows.sync_models import TitleSnapshot
    from addon.gateways import gateways
    from addon.publishing.domain import watches_key_names

    work_id = _acquire(consonance, tenant, "The Orchard Keeper")
    drain(tenant)

    # Snapshots as the previous release stored them: digests computed without the key names.
    fingerprints = {fp.work_id: fp for fp in gateways().consonance(tenant).iter_fingerprints()}
    for row in db.session.execute(sa.select(TitleSnapshot)).scalars():
        fp = fingerprints[row.work_id]
        row.digest = fp.digest_before_key_names
        row.readiness_digest = snapshot_values(replace(fp, contributors=tuple((c[0], c[1]) for c in fp.contributors)))[
            "readiness_digest"
        ]
    db.session.commit()
    owed = db.session.execute(sa.select(sa.func.count(OutboxEntry.id))).scalar()

    counts = poll(tenant)
    assert counts["changed"] == 0 and counts["restamped"] == len(fingerprints)
    assert db.session.execute(sa.select(sa.func.count(OutboxEntry.id))).scalar() == owed  # no page owed
    assert all(watches_key_names(d) for d in db.session.execute(sa.select(TitleSnapshot.digest)).scalars())
    assert poll(tenant)["changed"] == 0  # and the next poll sees nothing either

    # An editor fixes the author's key names in Consonance: the next poll sees it for that title.
    revision = db.session.execute(sa.select(TitleSnapshot.revision).where(TitleSnapshot.work_id == work_id)).scalar()
    author = consonance.state.works[int(work_id)].contributions[0].person
    author.key_names = (author.key_names or "") + " Jr"
    counts = poll(tenant)
    assert counts["changed"] >= 1 and counts["readiness_changed"] >= 1 and "restamped" not in counts
    db.session.expire_all()
    after = db.session.execute(sa.select(TitleSnapshot.revision).where(TitleSnapshot.work_id == work_id)).scalar()
    assert after == revision + 1
