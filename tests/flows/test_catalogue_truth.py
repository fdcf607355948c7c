"""What a publisher reads about the default seeded catalogue is true, read over HTTP through the gateway:
no published title is told not to announce, each built-in rule flags exactly the records the generator
made wrong on purpose (the table in docs/consonance-sandbox.md), and the summary's overdue count is
Consonance's open past-due to-dos plus slipped delivery dates."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection
from addon.publishing.formats import PUBLISHED_STATUS_CODES
from addon.publishing.pipeline import summarise_pipeline
from addon.publishing.readiness import NO_GO, V_PUBLISHED, assess_title
from addon.publishing.rules import Outcome, evaluate
from addon.publishing.standards import DEFAULT_RULE_SET

DOC = Path(__file__).resolve().parents[2] / "docs" / "consonance-sandbox.md"


@pytest.fixture(scope="module")
def seeded():
    """The default catalogue (seed 42, 500 works) served over HTTP, and every title read back from it."""
    from sandbox.consonance.testing import running_sandbox

    with running_sandbox() as running:
        gateway = ConsonanceGateway(ConsonanceConnection(running.url, running.api_key))
        read = list(gateway.iter_pipeline())
        gateway.close()
        yield running, read


def _documented_defects() -> dict[str, tuple[int, tuple[str, ...]]]:
    """{defect kind: (works in the default catalogue, rule-description prefixes that flag it)}."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| kind | what the data shows | works"))
    table = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        kind = cells[0].strip("`")
        table[kind] = (int(cells[2]), tuple(re.findall(r"`([^`]+)`", cells[3])))
    return table


def _published_in_sandbox(work) -> bool:
    return work.stage == "Published" or any(p.status in PUBLISHED_STATUS_CODES for p in work.products)


def test_no_published_title_is_told_not_to_announce(seeded):
    running, read = seeded
    today = date.today()
    verdicts = {title.work_id: assess_title(title, today).decision for title, _ in read}
    published = {str(w.id) for w in running.state.works.values() if _published_in_sandbox(w)}
    assert len(published) == 310
    assert {work_id for work_id, d in verdicts.items() if d.verdict == V_PUBLISHED} == published
    assert not [work_id for work_id in published if verdicts[work_id].headline == NO_GO]
    forthcoming = [d for work_id, d in verdicts.items() if work_id not in published]
    assert forthcoming and all(d.why and d.why != d.headline for d in forthcoming)


def test_each_built_in_rule_flags_exactly_the_records_made_wrong_for_it(seeded):
    running, read = seeded
    documented = _documented_defects()
    works = running.state.works.values()
    assert {kind: sum(kind in w.defects for w in works) for kind in documented} == {
        kind: count for kind, (count, _) in documented.items()
    }
    failing: dict[str, set[str]] = {rule.describe(): set() for rule in DEFAULT_RULE_SET.rules}
    for title, _ in read:
        for check in evaluate(title, DEFAULT_RULE_SET).failed:
            failing[check.rule.describe()].add(title.work_id)
    for rule, failed in failing.items():
        kinds = {kind for kind, (_, prefixes) in documented.items() if any(rule.startswith(p) for p in prefixes)}
        made_wrong = {str(w.id) for w in works if kinds & set(w.defects)}
        assert failed == made_wrong, rule
        assert len(failed) / len(read) == len(made_wrong) / len(works)  # the share equals the share made wrong
    assert any(failing.values())


def test_the_contributor_name_rule_flags_exactly_the_records_whose_key_names_are_wrong(seeded):
    running, read = seeded
    wrong = {
        str(w.id)
        for w in running.state.works.values()
        if any(c.person.key_names != c.person.name.split()[-1] for c in w.contributions)
    }
    rule = next(r for r in DEFAULT_RULE_SET.rules if r.field == "contributor_name")
    flagged = set()
    for title, _ in read:
        [check] = [c for c in evaluate(title, DEFAULT_RULE_SET).checks if c.rule == rule]
        if check.outcome is Outcome.FAIL:
            flagged.add(title.work_id)
            assert "key names" in check.problem
    assert flagged == wrong and len(wrong) == 10


def test_the_overdue_count_is_open_past_due_todos_plus_slipped_delivery_dates(seeded):
    running, read = seeded
    today = date.today()
    titles = [title for title, _ in read]
    tasks = [task for _, open_tasks in read for task in open_tasks]
    summary = summarise_pipeline(titles, today, tasks=tasks)
    cat = running.state
    past_due = [t for t in cat.tasks.values() if t.status == "OPEN" and t.due_date and t.due_date < today]
    slipped = [
        d
        for w in cat.works.values()
        if not _published_in_sandbox(w)
        for c in w.contracts
        for d in c.delivery_dates
        if d.slipped_date and d.slipped_date != d.date_due
    ]
    assert past_due and slipped
    assert len(summary.overdue) == len(past_due) + len(slipped)
    owners = {t.assignee for t in past_due}
    assert {o.owner for o in summary.overdue if o.kind == "task"} == owners
    assert summary.total_titles + summary.backlist == len(cat.works) and summary.backlist == 310
