"""End to end over HTTP against both sandboxes: acquire a title in Consonance → poll → drain the
outbox → its page set, status region, rights link and launch hub appear in the Confluence emulator."""
from __future__ import annotations

import sqlalchemy as sa

from addon.confluence import storage_parse
from addon.confluence.owned_regions import find_region, read_region
from addon.extensions import db
from addon.flows import page_templates as templates
from addon.flows.change_detection import poll
from addon.jobs.models import OutboxEntry
from addon.titles.models import TitlePage
from tests.flows.sync_harness import (  # noqa: F401  (fixtures)
    confluence, consonance, consonance_server, drain, emulator, flows_config, pages_titled, tenant, versions,
)


def _outside(body: str, region: str) -> str:
    found = find_region(body, region)
    return body[:found.inner_start] + "<region/>" + body[found.inner_end:]


def _acquire(consonance, tenant, title):
    assert poll(tenant)["baseline"] == 1  # the first poll only records the catalogue
    work = consonance.control.acquire_title(title)
    counts = poll(tenant)
    assert counts["title_acquired"] == 1 and counts["new"] == 1
    return str(work["id"])


def test_first_poll_is_a_quiet_baseline(tenant, consonance):
    counts = poll(tenant)
    assert counts["works"] == 40 and counts["baseline"] == 1
    assert sum(counts[k] for k in ("title_acquired", "stage_changed", "dates_changed", "readiness_changed")) == 0
    assert db.session.execute(sa.select(sa.func.count(OutboxEntry.id))).scalar() == 0
    assert counts["consonance_requests"] == 1  # 40 works fit in one page


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
    assert ("metadata-checklist", work_id) in {(m.name, m.parameters.get("title"))
                                               for m in storage_parse.find_macros(brief.body)}
    assert "Synopsis" in brief.body
    assert "Acquisition" in read_region(home.body, templates.STATUS_REGION)
    labels = {label.name for label in confluence.get_labels(home.id)}
    assert {"consonance-title", f"consonance-work-{work_id}", "consonance-stage-acquisition"} <= labels
    prop = confluence.get_page_property(home.id, "consonance-title")
    assert prop.value == {"workId": work_id, "role": "home"}
    hub = pages_titled(emulator, "Launch hub — ")
    assert len(hub) == 1 and "The Orchard Keeper" in hub[0].current.body
