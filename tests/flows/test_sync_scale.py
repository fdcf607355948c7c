"""Sync at scale: what a launch hub refresh and a first sync cost in Consonance requests, counted by the sandbox's
own request log (issue #19: a hub refresh once read each of its titles one by one)."""

from __future__ import annotations

import math

import sqlalchemy as sa

from addon.confluence.owned_regions import read_region
from addon.consonance.capabilities import CapabilityProfile
from addon.consonance.gateway import ConsonanceGateway
from addon.extensions import db
from addon.flows import launch_hubs, rights_links
from addon.flows import page_templates as templates
from addon.flows.change_detection import poll
from addon.gateways import gateways
from addon.jobs.models import PENDING, OutboxEntry
from tests.flows.sync_harness import drain, pages_titled

CONSONANCE_CATALOGUE = {"SEED": 7, "SIZE": 300}
CONSONANCE_RESET_EACH_TEST = True


def _forthcoming_by_season(consonance) -> dict[str, list[str]]:
    with consonance.state.lock:
        works = [w for w in consonance.state.works.values() if w.stage != "Published"]
        by_season: dict[str, list[str]] = {}
        for work in works:
            by_season.setdefault(work.season or launch_hubs.NO_SEASON, []).append(str(work.id))
    return by_season


def _pending_hub_refreshes(tenant) -> list[str]:
    rows = db.session.execute(
        sa.select(OutboxEntry.payload).where(
            OutboxEntry.tenant_id == tenant.id, OutboxEntry.kind == launch_hubs.KIND, OutboxEntry.status == PENDING
        )
    ).scalars()
    return sorted(row["hub"] for row in rows)


def test_first_sync_refreshes_each_hub_with_one_request_per_page_of_titles(tenant, consonance, emulator, confluence):
    by_season = _forthcoming_by_season(consonance)
    biggest = max(by_season, key=lambda s: len(by_season[s]))
    assert len(by_season[biggest]) >= 20  # a season worth batching
    poll(tenant)  # the first sync owes a hub per season of the forthcoming list
    hubs = _pending_hub_refreshes(tenant)
    assert set(by_season) <= set(hubs)
    consonance.control.clear_requests()

    drain(tenant)

    by_operation = consonance.control.counters()["byOperation"]
    assert by_operation.get("TitleByWorkId", 0) == 0  # never one read per title
    assert by_operation["TitlesByWorkIds"] == len(hubs)  # every hub holds fewer titles than a page (500)
    [hub] = pages_titled(emulator, f"Launch hub — {biggest}")
    table = read_region(confluence.get_page(hub.id).body, templates.LAUNCH_TABLE_REGION)
    assert table.count("<tr>") - 1 == len(by_season[biggest])  # and every title is on it


def test_titles_read_in_pages_of_ids_match_titles_read_one_by_one(tenant, consonance):
    shared = gateways().consonance(tenant)
    gateway = ConsonanceGateway(shared.connection, page_size=7, profile=shared.profile)
    work_ids = [w for ids in _forthcoming_by_season(consonance).values() for w in ids][:30] + ["999999"]
    consonance.control.clear_requests()

    titles = gateway.titles(work_ids)

    assert consonance.control.counters()["byOperation"] == {"TitlesByWorkIds": math.ceil(len(work_ids) / 7)}
    assert "999999" not in titles  # a work Consonance does not have is absent, not an error
    assert titles == {work_id: gateway.title(work_id) for work_id in work_ids[:30]}
    consonance.control.clear_requests()
    rights = gateway.rights_and_links(work_ids)
    assert consonance.control.counters()["byOperation"] == {"RightsByWorkIds": math.ceil(len(work_ids) / 7)}
    assert rights == {w: (gateway.rights_for(w), gateway.web_links(w)) for w in work_ids[:30]}
    gateway.close()


def test_a_server_that_cannot_search_by_ids_gets_one_read_per_title(tenant, consonance):
    shared = gateways().consonance(tenant)
    profile = CapabilityProfile(shared.profile.present - {"WorkSearch.idIn"})
    gateway = ConsonanceGateway(shared.connection, profile=profile)
    work_ids = [w for ids in _forthcoming_by_season(consonance).values() for w in ids][:5]
    consonance.control.clear_requests()

    titles = gateway.titles(work_ids)

    assert consonance.control.counters()["byOperation"] == {"TitleByWorkId": 5}  # never the refused document
    assert sorted(titles) == sorted(work_ids)
    consonance.control.clear_requests()
    rights = gateway.rights_and_links([*work_ids, "999999"])
    assert consonance.control.counters()["byOperation"] == {"TitleRights": 6, "WorkWebLinks": 5}
    assert rights == {w: (shared.rights_for(w), shared.web_links(w)) for w in work_ids}
    gateway.close()


def test_a_hub_still_waiting_is_refreshed_once_for_every_change_before_it_runs(
    tenant, consonance, emulator, confluence
):
    poll(tenant)  # first sync: one refresh owed per hub, not yet delivered
    hubs = _pending_hub_refreshes(tenant)
    by_season = _forthcoming_by_season(consonance)
    season = max(by_season, key=lambda s: len(by_season[s]))
    moved = [by_season[season][0], by_season[season][1]]
    for work_id in moved:
        consonance.control.move_to_stage(int(work_id), "Proofs")
    counts = poll(tenant)
    assert counts["stage_changed"] == 2 and counts["hub_refreshes"] >= 1
    assert _pending_hub_refreshes(tenant) == hubs  # the waiting refreshes cover the moves: none added
    consonance.control.clear_requests()

    drain(tenant)

    assert consonance.control.counters()["byOperation"].get("TitlesByWorkIds", 0) == len(hubs)
    [hub] = pages_titled(emulator, f"Launch hub — {season}")
    assert confluence.get_page(hub.id).version == 1 + 1  # created, then its calendar added: one refresh
    table = read_region(confluence.get_page(hub.id).body, templates.LAUNCH_TABLE_REGION)
    assert table.count("<td>Proofs</td>") >= 2


def test_first_sync_with_rights_mappings_reads_rights_a_page_of_titles_at_a_time(tenant, consonance, emulator):
    from addon.flows.rights_links import ROLE, guidance_url
    from addon.settings.service import update_settings

    gateway = gateways().consonance(tenant)
    forthcoming = [w for ids in _forthcoming_by_season(consonance).values() for w in ids]
    work_id = next(w for w in forthcoming if gateway.rights_for(w).licensed_right_types)
    right = gateway.rights_for(work_id).licensed_right_types[0]
    update_settings(
        tenant, {"rights_mappings": [{"right_type": right, "page_id": "501", "label": "Licensing guide"}]}, actor="a"
    )
    managed = poll(tenant)["rights_changed"]  # mappings saved before the first sync: every managed title
    assert managed >= len(forthcoming) > 100
    consonance.control.clear_requests()

    drain(tenant)

    by_operation = consonance.control.counters()["byOperation"]
    assert by_operation["RightsByWorkIds"] == math.ceil(managed / rights_links.BATCH)  # not two reads per title
    assert "TitleRights" not in by_operation
    written = by_operation["UpdateWorkWebLinks"]
    assert 1 <= written < managed and by_operation.get("WorkWebLinks", 0) == written  # reads only where it writes
    url = guidance_url(emulator.url, "501")
    assert (url, ROLE) in [(link.url, link.role) for link in gateway.web_links(work_id)]
