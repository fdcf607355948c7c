"""F2 to Consonance over HTTP: Decision log lines → one note each in Consonance, shown back with delivery state."""

from __future__ import annotations

from addon.confluence.owned_regions import read_region
from addon.decisions.models import Decision
from addon.extensions import db
from addon.flows import decision_log

CONSONANCE_RESET_EACH_TEST = True

WORK = "2"  # "A Distant Orchard", Copy-editing in the seeded catalogue


def _log_notes(world, work_id=WORK):
    return [n for n in world.gateway().list_notes(work_id) if (n.external_ref or "").startswith("dlog:")]


def test_a_decision_delivered_twice_and_saved_again_gives_one_note(world):
    pages = world.title_pages(WORK, "A Distant Orchard")
    world.events({"duplicates": 2})  # every event arrives three times
    page_id = pages["decision-log"].id
    world.edit(page_id, "<p>Decisions for this title.</p><p>Decision: note — Sales want the blurb shortened.</p>")
    world.settle()
    world.edit(
        page_id, "<p>Decisions for this title, tidied.</p><p>Decision: note — Sales want the blurb shortened.</p>"
    )  # saved again: same line
    world.settle()

    notes = _log_notes(world)
    assert len(notes) == 1
    assert "Sales want the blurb shortened." in notes[0].text
    decisions = db.session.query(Decision).filter_by(tenant_id=world.tenant.id, source="decision-log").all()
    assert len(decisions) == 1 and decisions[0].delivery_state == "delivered"
    region = read_region(world.person.get_page(page_id).body, decision_log.REGION)
    assert "Sales want the blurb shortened." in region and "In Consonance" in region


def test_stage_approval_moves_the_work_and_bad_lines_are_reported(world):
    pages = world.title_pages(WORK, "A Distant Orchard")
    page_id = pages["decision-log"].id
    world.edit(
        page_id,
        "<ul><li>Decision: approve to Typesetting — copy-edit signed off</li>"
        "<li>Decision: perhaps — not sure yet</li></ul>",
    )
    world.settle()

    assert world.gateway().title(WORK).stage.name == "Typesetting"
    region = read_region(world.person.get_page(page_id).body, decision_log.REGION)
    assert "Stage approved → Typesetting" in region
    assert "Decision: perhaps" in region and "start with approve" in region
    assert len(_log_notes(world)) == 1


def test_the_apps_own_region_write_is_not_read_back(world):
    pages = world.title_pages(WORK, "A Distant Orchard")
    page_id = pages["decision-log"].id
    world.edit(page_id, "<p>Decision: hold — waiting for the author's reply</p>")
    world.settle()
    version = world.versions(page_id)
    world.settle()

    assert world.versions(page_id) == version  # nothing echoed into a further version
    from addon.flows.editor_page_models import EditorPageState

    state = db.session.query(EditorPageState).filter_by(tenant_id=world.tenant.id, page_id=page_id).one()
    assert version in state.own_versions and state.handled_version == version
    assert len(_log_notes(world)) == 1
    assert db.session.query(Decision).filter_by(tenant_id=world.tenant.id).count() == 1


DECISION_TABLE = (
    "<table><tbody>"
    "<tr><th>Decision</th><th>Detail</th><th>Decided by</th><th>Date</th></tr>"
    "<tr><td>Approved: jacket brief</td><td>the blue version</td>"
    '<td><ac:link><ri:user ri:account-id="{editor}" /></ac:link></td><td><time datetime="2026-11-03" /></td></tr>'
    "<tr><td>Use Garamond for the text</td><td></td><td>Jane Smith</td><td>4 Nov 2026</td></tr>"
    "<tr><td></td><td>the print run</td><td></td><td>soon</td></tr>"
    "</tbody></table>"
)


def test_table_rows_are_sent_by_name_and_each_row_says_what_happened(world):
    from sandbox.confluence.users import EDITOR_ACCOUNT_ID

    pages = world.title_pages(WORK, "A Distant Orchard")
    page_id = pages["decision-log"].id
    world.edit(page_id, DECISION_TABLE.format(editor=EDITOR_ACCOUNT_ID))
    world.settle()

    notes = {n.text.split("\n\n", 1)[-1]: n for n in _log_notes(world)}
    assert len(notes) == 2
    jacket = next(text for text in notes if "jacket brief — the blue version" in text)
    assert "Decided by Eddie Editor on 3 November 2026." in jacket
    full = notes[jacket].text  # the header: who decided, by name, on which page, with its link
    assert "(“Decision log — A Distant Orchard” in Confluence by Eddie Editor)" in full
    assert f"pageId={page_id}" in full and EDITOR_ACCOUNT_ID not in full
    garamond = next(text for text in notes if "Use Garamond for the text" in text)
    assert "Decided by Jane Smith on 4 November 2026." in garamond

    region = read_region(world.person.get_page(page_id).body, decision_log.REGION)
    assert region.count("Sent") >= 2 and "In Consonance" in region
    assert "Not understood" in region and "the Decision cell is empty" in region
    assert f'ri:account-id="{EDITOR_ACCOUNT_ID}"' in region  # a mention: Confluence shows the name

    # saved again unchanged: nothing new reaches Consonance
    world.edit(page_id, "<p>Tidied.</p>" + DECISION_TABLE.format(editor=EDITOR_ACCOUNT_ID))
    world.settle()
    assert len(_log_notes(world)) == 2
