"""The golden catalogue through the pages the app writes: the first sync's launch hubs list exactly the
forthcoming titles with the verdict and reasons docs/golden-catalogue.md expects, linked to the titles,
and the pipeline summary counts, lists and charts what the table says."""

from __future__ import annotations

import html
import re

import pytest

from addon.confluence.owned_regions import read_region
from addon.extensions import db
from addon.flows import page_templates as templates
from addon.flows.change_detection import poll
from addon.flows.launch_hubs import enqueue_forthcoming_hubs
from addon.flows.pipeline_summaries import local_today, owe_summary
from addon.publishing.pipeline import period_for
from tests.flows.sync_harness import CATALOGUE, drain, pages_titled
from tests.golden.table import expectations, summary_facts

CONSONANCE_CATALOGUE = CATALOGUE
CONSONANCE_RESET_EACH_TEST = True

EXPECTED = expectations()


@pytest.fixture(scope="module")
def consonance_server():
    """The golden catalogue (overrides the flows harness's generated one; a reset rebuilds it)."""
    from sandbox.consonance.testing import running_sandbox

    with running_sandbox(CATALOGUE="golden") as running:
        yield running


def _rows(table: str) -> dict[str, str]:
    """{title: its row's text} from a hub's launch table."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        title = html.unescape(re.sub(r"<[^>]+>", "", cells[0]))
        rows[title] = html.unescape(row)
    return rows


def _table(region: str, first_header: str) -> list[list[str]]:
    """The rows (cells as text) of the region's table whose first header cell is `first_header`."""
    for table in re.findall(r"<table>(.*?)</table>", region, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        header = re.findall(r"<th>(.*?)</th>", rows[0], re.S)
        if header and header[0] == first_header:
            return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows[1:]]
    return []


def test_first_sync_hubs_say_what_the_publisher_expects(tenant, consonance, emulator, confluence):
    poll(tenant)
    enqueue_forthcoming_hubs(tenant, "first-sync")
    db.session.commit()
    drain(tenant)
    with consonance.state.lock:
        seasons = {w.full_title: w.season for w in consonance.state.works.values()}
    shown: dict[str, str] = {}
    for hub in pages_titled(emulator, "Launch hub — "):
        table = read_region(confluence.get_page(hub.id).body, templates.LAUNCH_TABLE_REGION)
        for title, row in _rows(table).items():
            assert hub.title == f"Launch hub — {seasons[title]}"
            shown[title] = row
    assert set(shown) == {e.title for e in EXPECTED if e.hub}  # the whole forthcoming list, no backlist
    for expected in EXPECTED:
        if not expected.hub:
            continue
        row = shown[expected.title]
        assert f'<ac:parameter ac:name="title">{expected.hub}</ac:parameter>' in row, expected.title
        assert expected.why in row, expected.title  # Why gives the reason, not the verdict again
        assert f'/works/{expected.work_id}">' in row  # the title links to its record


def test_the_summary_counts_lists_and_charts_what_the_publisher_expects(tenant, consonance, emulator, confluence):
    poll(tenant)  # the first sync owes this period's summaries itself
    today = local_today(tenant)
    owe_summary(tenant, "weekly", today)  # already owed by the first sync, or owed now
    db.session.commit()
    drain(tenant)
    [page] = pages_titled(emulator, period_for(today, "weekly").title)
    region = html.unescape(read_region(confluence.get_page(page.id).body, templates.SUMMARY_REGION))
    facts = summary_facts()
    assert f"{facts['pipeline']} titles in the pipeline (not yet published)" in region
    assert f"Published backlist, counted apart: {facts['backlist']}." in region
    assert f"{facts['overdue']} overdue:" in region
    overdue_rows = _table(region, "Title")  # Title | What | Since | Days overdue | Owner
    assert len(overdue_rows) == facts["overdue"]
    for expected in EXPECTED:
        for item in expected.overdue:
            what, _, owner = item.partition(" (")
            assert any(
                r[0] == expected.title and r[1].startswith(what) and (not owner or r[4] == owner.rstrip(")"))
                for r in overdue_rows
            ), (expected.title, item)
    risk_rows = _table(region.split("<h3>Release risks</h3>")[1], "Title")  # Title | Severity | Reason
    for expected in EXPECTED:
        for phrase in expected.risks:
            assert any(r[0] == expected.title and phrase in r[2] for r in risk_rows), (expected.title, phrase)
        if expected.backlist:
            assert not any(r[0] == expected.title for r in risk_rows)
    counts = {r[0]: int(r[1]) for r in _table(region, "Stage")}
    assert "Published" not in counts and sum(counts.values()) == facts["pipeline"]
    assert counts["Production"] == 10 and counts["Manuscript delivered"] == 0
    [chart] = emulator.store.attachments_of(page.id)
    assert chart.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_admins_stage_guide_sets_what_must_be_in_place_when(tenant, consonance, emulator, confluence):
    from addon.confluence import storage as s
    from addon.settings.service import update_settings

    space = confluence.get_space_by_key("PUB")
    guide = s.document(
        s.table(
            ["Stage", "Reviewers", "Next step", "Weeks before publication", "Must be in place"],
            [["Typesetting", "Ana", "Send first pages", "20", "cover, description"]],
        )
    )
    page = confluence.create_page(space.id, "Stage guide", guide)
    update_settings(tenant, {"stage_guide_page_id": page.id}, actor="admin")
    poll(tenant)
    enqueue_forthcoming_hubs(tenant, "first-sync")
    db.session.commit()
    drain(tenant)
    quiet = next(e for e in EXPECTED if e.title == "Quiet Hours")  # 100 days out, no cover yet
    assert quiet.hub == "GO"  # by the documented defaults (covers due 12 weeks out) ...
    rows = {}
    for hub in pages_titled(emulator, "Launch hub — "):
        rows.update(_rows(read_region(confluence.get_page(hub.id).body, templates.LAUNCH_TABLE_REGION)))
    row = rows["Quiet Hours"]
    assert '<ac:parameter ac:name="title">NO-GO</ac:parameter>' in row  # ... but this house wants it 20 weeks out
    assert "no cover image yet" in row
