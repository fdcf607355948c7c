"""F8 over HTTP: a retrospective under a published title's home; lessons → one note each, and the index."""

from __future__ import annotations

from addon.confluence.owned_regions import read_region
from addon.extensions import db
from addon.flows import retrospectives
from addon.flows.editor_page_models import EditorFlowPage
from addon.settings.service import update_settings
from addon.titles.service import pages_of

CONSONANCE_RESET_EACH_TEST = True

WORK = "1"  # published in the seeded catalogue


def _lesson_notes(world):
    return [n for n in world.gateway().list_notes(WORK) if (n.external_ref or "").startswith("c4c-lesson:")]


def test_lessons_reach_consonance_once_and_the_stage_index(world):
    world.title_pages(WORK, "A Distant Island")
    parent = world.page("Titles", "<p>All titles.</p>")
    guide = world.page("Stage guide", "<p>What each stage needs.</p>")
    update_settings(world.tenant, {"page_set_parent_id": parent.id, "stage_guide_page_id": guide.id}, actor="admin")
    db.session.commit()
    delivery = world.consonance.control.work(int(WORK))["deliveryDates"][0]
    world.consonance.control.slip_delivery(delivery["id"], 14)  # the manuscript came two weeks late
    assert retrospectives.ensure_retrospective(world.tenant, WORK) is None
    world.settle()
    retro = pages_of(world.tenant, WORK)["retrospective"]
    page = world.person.get_page(retro.page_id)
    facts = read_region(page.body, retrospectives.FACTS_REGION)
    assert "Planned and actual dates" in facts and "Publication — " in facts
    assert "Manuscript delivery 1" in facts and "Slipped 2 weeks (planned" in facts
    assert "Decisions" in facts and "Gates" in facts
    assert page.parent_id == pages_of(world.tenant, WORK)["home"].page_id
    assert retrospectives.ensure_retrospective(world.tenant, WORK) == page.id  # made once

    body = page.body.replace(
        "<h2>Lessons learned</h2><ul><li></li></ul>",
        "<h2>Lessons learned</h2><ul><li>Production: the printer needed files two weeks earlier</li>"
        "<li>Keep the blurb under 120 words</li></ul>",
    )
    assert body != page.body
    world.edit(page.id, body)
    world.settle()
    world.edit(page.id, body + "<p>Thanks all.</p>")  # saved again: no new notes
    world.settle()

    notes = _lesson_notes(world)
    assert len(notes) == 2
    production = next(n for n in notes if "printer" in n.text)
    assert "Lesson learned (Production)" in production.text and f"pageId={page.id}" in production.text
    index_row = db.session.query(EditorFlowPage).filter_by(tenant_id=world.tenant.id, kind="lessons-index").one()
    index = world.person.get_page(index_row.page_id)
    assert index.parent_id == parent.id
    production_region = read_region(index.body, retrospectives.region_name("Production"))
    assert "the printer needed files two weeks earlier" in production_region
    assert 'Change the workflow: </strong><ac:link><ri:page ri:content-title="Stage guide"' in production_region
    assert "<h2>Production</h2>" in index.body  # the stage heading templates link to
    assert "blurb" in read_region(index.body, retrospectives.region_name("General"))
