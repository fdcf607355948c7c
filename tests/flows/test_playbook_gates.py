"""F3 over HTTP: playbook gates → one Consonance task per title; ticks flow both ways without a loop."""

from __future__ import annotations

from addon.confluence.owned_regions import read_region
from addon.extensions import db
from addon.flows import playbook_gates
from addon.flows.editor_page_models import EditorFlowPage, GateLink
from addon.flows.page_layout import checklist_ticks
from addon.settings.service import update_settings

CONSONANCE_RESET_EACH_TEST = True

WORK = "2"  # hardback, ebook, paperback; no audio
PLAYBOOK = """
<h2>Print</h2>
<ac:task-list>
<ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>GATE: Approve print-ready PDF</ac:task-body></ac:task>
<ac:task><ac:task-id>2</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Check the spine width</ac:task-body></ac:task>
</ac:task-list>
<h2>Audio</h2>
<ac:task-list>
<ac:task><ac:task-id>3</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>GATE: Approve the narrator</ac:task-body></ac:task>
</ac:task-list>
<h2>All formats</h2>
<ac:task-list>
<ac:task><ac:task-id>4</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body><ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Red</ac:parameter><ac:parameter ac:name="title">GATE</ac:parameter></ac:structured-macro> Sign off the cover</ac:task-body></ac:task>
</ac:task-list>
"""


def _gate_tasks(world):
    return {
        t.external_ref: t for t in world.gateway().list_tasks(WORK) if (t.external_ref or "").startswith("c4c-gate")
    }


def _checklist(world):
    row = (
        db.session.query(EditorFlowPage)
        .filter_by(tenant_id=world.tenant.id, work_id=WORK, kind="launch-checklist")
        .one()
    )
    return world.person.get_page(row.page_id)


def _ticks(world):
    page = _checklist(world)
    return checklist_ticks(read_region(page.body, playbook_gates.REGION))


def _setup(world):
    world.title_pages(WORK, "A Distant Orchard")
    playbook = world.page("Production playbook", "<p>draft</p>")
    update_settings(world.tenant, {"playbook_page_ids": [playbook.id]}, actor="admin")
    db.session.commit()
    world.edit(playbook.id, PLAYBOOK)
    world.settle()
    return playbook


def test_gates_become_one_task_each_for_the_title_they_apply_to(world):
    playbook = _setup(world)
    tasks = _gate_tasks(world)
    assert sorted(t.title for t in tasks.values()) == [
        "Approve print-ready PDF (Hardback, Paperback)",
        "Sign off the cover",
    ]  # no audio edition: no narrator gate
    world.edit(playbook.id, PLAYBOOK + "<p>A note that changes nothing about gates.</p>")
    world.settle()
    playbook_gates.sync_gates_for_title(world.tenant, WORK)  # as change detection does on a stage change
    world.settle()
    assert len(_gate_tasks(world)) == 2
    assert sorted(_ticks(world).values()) == [False, False]


def test_a_tick_in_confluence_completes_the_task_and_polls_do_not_bounce_it(world):
    _setup(world)
    link = db.session.query(GateLink).filter_by(tenant_id=world.tenant.id, work_id=WORK).order_by(GateLink.id).first()
    checklist = _checklist(world)
    task = next(
        t for t in world.person.iter_tasks(page_ids=[checklist.id]) if t.local_id == playbook_gates.task_id_for(link)
    )
    world.person.update_task(task, "complete")  # a person ticks the box
    world.settle()

    assert _gate_tasks(world)[link.external_ref].is_done
    version = world.versions(checklist.id)
    for _ in range(2):
        playbook_gates.gates_sync(world.tenant)
        world.settle()
    assert world.versions(checklist.id) == version  # no write back and forth
    assert _ticks(world)[playbook_gates.task_id_for(link)] is True
    assert _gate_tasks(world)[link.external_ref].is_done


def test_completing_in_consonance_ticks_the_checklist_once(world):
    _setup(world)
    link = (
        db.session.query(GateLink)
        .filter_by(tenant_id=world.tenant.id, work_id=WORK)
        .order_by(GateLink.id.desc())
        .first()
    )
    task = _gate_tasks(world)[link.external_ref]
    world.consonance.control.complete_task(int(task.id))
    playbook_gates.gates_sync(world.tenant)
    world.settle()
    assert _ticks(world)[playbook_gates.task_id_for(link)] is True
    version = world.versions(_checklist(world).id)
    playbook_gates.gates_sync(world.tenant)
    world.settle()
    assert world.versions(_checklist(world).id) == version


def test_unticking_a_completed_gate_reopens_its_task_once(world):
    _setup(world)
    link = db.session.query(GateLink).filter_by(tenant_id=world.tenant.id, work_id=WORK).order_by(GateLink.id).first()
    checklist = _checklist(world)

    def box():
        return next(
            t
            for t in world.person.iter_tasks(page_ids=[checklist.id])
            if t.local_id == playbook_gates.task_id_for(link)
        )

    world.person.update_task(box(), "complete")
    world.settle()
    assert _gate_tasks(world)[link.external_ref].is_done
    world.person.update_task(box(), "incomplete")  # a person changes their mind
    world.settle()
    assert not _gate_tasks(world)[link.external_ref].is_done
    version = world.versions(checklist.id)
    for _ in range(2):
        playbook_gates.gates_sync(world.tenant)
        world.settle()
    assert world.versions(checklist.id) == version  # nothing bounces back
    assert _ticks(world)[playbook_gates.task_id_for(link)] is False
    assert not _gate_tasks(world)[link.external_ref].is_done


def test_reopening_in_consonance_unticks_the_gate(world):
    _setup(world)
    link = db.session.query(GateLink).filter_by(tenant_id=world.tenant.id, work_id=WORK).order_by(GateLink.id).first()
    task = _gate_tasks(world)[link.external_ref]
    world.consonance.control.complete_task(int(task.id))
    playbook_gates.gates_sync(world.tenant)
    world.settle()
    assert _ticks(world)[playbook_gates.task_id_for(link)] is True
    world.gateway().reopen_task(task.id)  # someone reopens it in Consonance
    playbook_gates.gates_sync(world.tenant)
    world.settle()
    assert _ticks(world)[playbook_gates.task_id_for(link)] is False
    assert not _gate_tasks(world)[link.external_ref].is_done  # and it is not completed again from the page


DATED_PLAYBOOK = """
<h2>All formats</h2>
<ac:task-list>
<ac:task><ac:task-id>11</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>GATE: Sign off the cover — 6 weeks before publication — owner: Art director</ac:task-body></ac:task>
</ac:task-list>
<h2>Digital</h2>
<ac:task-list>
<ac:task><ac:task-id>12</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>QC: validate the EPUB with EpubCheck — 2 weeks before publication</ac:task-body></ac:task>
</ac:task-list>
<h2>Print</h2>
<ac:task-list>
<ac:task><ac:task-id>13</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>File naming: ISBN_interior.pdf and ISBN_cover.pdf</ac:task-body></ac:task>
</ac:task-list>
"""


def test_gates_carry_a_due_date_from_publication_and_their_owner_and_qc_items_become_tasks(world):
    from datetime import timedelta

    world.title_pages(WORK, "A Distant Orchard")
    playbook = world.page("Production playbook", "<p>draft</p>")
    update_settings(world.tenant, {"playbook_page_ids": [playbook.id]}, actor="admin")
    db.session.commit()
    world.edit(playbook.id, DATED_PLAYBOOK)
    world.settle()

    publication = world.gateway().title(WORK).earliest_publication_date
    tasks = {t.title: t for t in _gate_tasks(world).values()}
    cover = tasks["Sign off the cover — 6 weeks before publication — owner: Art director"]
    assert cover.due_date == publication - timedelta(weeks=6)
    epub = next(t for title, t in tasks.items() if title.startswith("QC: validate the EPUB"))
    assert epub.due_date == publication - timedelta(weeks=2)
    naming = next(t for title, t in tasks.items() if title.startswith("File naming: ISBN_interior.pdf"))
    assert naming.due_date is None  # the playbook gives no lead time: no date is made up


def test_gate_schedule_reads_lead_times_and_owners():
    from datetime import timedelta

    schedule = playbook_gates.gate_schedule("Press release out — 3 weeks before publication (owner: Publicist)")
    assert schedule.lead == timedelta(weeks=3) and schedule.anchor == "publication" and schedule.owner == "Publicist"
    assert playbook_gates.gate_schedule("Check files 10 days before delivery").anchor == "delivery"
    assert playbook_gates.gate_schedule("Sign off the cover").lead is None
