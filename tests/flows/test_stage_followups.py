"""A stage move seen by the poll brings that stage's playbook gates to Consonance (F3), and reaching
Published makes the title's retrospective page (F8) — through the same outbox as every other write."""

from __future__ import annotations

from addon.extensions import db
from addon.flows.change_detection import poll
from addon.settings.service import update_settings
from addon.titles.service import pages_of

CONSONANCE_RESET_EACH_TEST = True

WORK = "2"
PLAYBOOK = """
<h2>All formats</h2>
<ac:task-list>
<ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>GATE: Approve the proofs (from Proofs)</ac:task-body></ac:task>
</ac:task-list>
"""


def _gate_titles(world) -> list[str]:
    return sorted(t.title for t in world.gateway().list_tasks(WORK) if (t.external_ref or "").startswith("c4c-gate"))


def test_stage_moves_bring_gates_and_the_retrospective(world):
    world.consonance.control.move_to_stage(int(WORK), "Editorial")
    world.title_pages(WORK, "A Distant Orchard")
    playbook = world.page("Production playbook", "<p>draft</p>")
    update_settings(world.tenant, {"playbook_page_ids": [playbook.id]}, actor="admin")
    world.edit(playbook.id, PLAYBOOK)
    world.settle()
    assert _gate_titles(world) == []  # at Editorial the proofs gate does not apply yet
    poll(world.tenant)  # baseline

    world.consonance.control.move_to_stage(int(WORK), "Proofs")
    assert poll(world.tenant)["stage_changed"] == 1
    world.settle()
    assert _gate_titles(world) == ["Approve the proofs"]
    assert pages_of(world.tenant, WORK).get("retrospective") is None

    world.consonance.control.move_to_stage(int(WORK), "Published")
    poll(world.tenant)
    world.settle()
    db.session.expire_all()
    retrospective = pages_of(world.tenant, WORK).get("retrospective")
    assert retrospective is not None and retrospective.page_id
    assert _gate_titles(world) == ["Approve the proofs"]  # still exactly one task
