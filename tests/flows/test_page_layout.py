"""Page parsers: the documented formats read correctly; hostile pages give clear errors, never a crash or a hang."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.confluence.owned_regions import region_storage
from addon.confluence.storage import TaskItem, document, paragraph, table, task_list
from addon.decisions.models import APPROVE_STAGE, HOLD, NOTE, REQUEST_CHANGES
from addon.flows.page_layout import (
    MAX_DEPTH,
    PageFormatError,
    normalise,
    parse_decision_log,
    parse_lessons,
    parse_playbook,
    standards_table,
)

# Text people type: any printable character (RTL, astral plane, markup-looking) except those XML cannot carry.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda t: normalise(t) != "" and "\ufffe" not in t and "\uffff" not in t
)


def test_decision_lines_in_every_editor_shape():
    rows, problems = parse_decision_log(
        "<p>Decision: approve to Proofs — typesetting checked</p>"
        "<ul><li>Decision: request changes: tighten chapter 3</li><li><p>Decision: hold - author ill</p></li></ul>"
        "<table><tr><td>Decision: note — ترجمة عربية 𝔘𝔫𝔦𝔠𝔬𝔡𝔢</td></tr></table>"
        "<p>Decision: perhaps later</p><p>Not a decision: approve</p>"
    )
    assert [(r.decision_type, r.to_stage, r.text) for r in rows] == [
        (APPROVE_STAGE, "Proofs", "typesetting checked"),
        (REQUEST_CHANGES, None, "tighten chapter 3"),
        (HOLD, None, "author ill"),
        (NOTE, None, "ترجمة عربية 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"),
    ]
    assert [p.line for p in problems] == ["Decision: perhaps later"]


def test_the_apps_regions_are_never_read_as_decisions():
    page = "<p>Decision: note — mine</p>" + region_storage("decision-log", "<p>Decision: note — the app's copy</p>")
    rows, _ = parse_decision_log(page)
    assert [r.text for r in rows] == ["mine"]


def test_identical_lines_are_two_decisions_and_keep_their_identity_when_others_move():
    first, _ = parse_decision_log("<p>Decision: note — same</p><p>Decision: note — same</p>")
    moved, _ = parse_decision_log(
        "<p>Decision: hold — new one on top</p><p>Decision: note — same</p><p>Decision: note — same</p>"
    )
    assert len({r.identity for r in first}) == 2
    assert [r.identity for r in moved[1:]] == [r.identity for r in first]


def test_playbook_gates_by_prefix_or_lozenge_with_sections_and_stages():
    items, problems = parse_playbook(
        "<h2>Ebook requirements</h2>"
        + task_list([TaskItem("1", "GATE: EPUB passes validation (from Proofs)"), TaskItem("2", "Embed fonts")]).xml
        + "<h2>Team</h2>"
        + task_list([TaskItem("3", "GATE: lost gate")]).xml
    )
    assert [(i.scope, i.text, i.is_gate, i.stage) for i in items] == [
        ("digital", "EPUB passes validation", True, "Proofs"),
        ("digital", "Embed fonts", False, None),
    ]
    assert problems and "not under a Print, Digital, Audio or All formats heading" in problems[0].what_is_wrong


def test_standards_table_is_found_among_other_tables():
    page = document(
        table(["Date", "Who"], [["1 May", "Ann"]]),
        table(["Field", "Rule", "Message"], [["Title", "required", "Add a title"]]),
    )
    assert standards_table(page) == [["Field", "Rule", "Message"], ["Title", "required", "Add a title"]]
    assert standards_table(document(paragraph("no tables"))) is None


def test_lessons_only_under_the_lessons_heading():
    lessons = parse_lessons(
        "<h2>What went well</h2><ul><li>not a lesson</li></ul><h2>Lessons learned</h2>"
        "<p>Intro prose.</p><ul><li>Editorial: brief earlier</li><li>See https://x.test: ok</li>"
        "</ul><h2>Actions</h2><ul><li>no</li></ul>"
    )
    assert [(lesson.stage, lesson.text) for lesson in lessons] == [
        ("Editorial", "brief earlier"),
        ("General", "See https://x.test: ok"),
    ]


@pytest.mark.parametrize(
    "page, message",
    [
        ("<p>unclosed", "malformed storage format"),
        ("<p>&bogus;</p>", "unknown entity"),
        ("<ac:structured-macro>" * (MAX_DEPTH + 5) + "</ac:structured-macro>" * (MAX_DEPTH + 5), "levels deep"),
        ("<p>" + "x" * 6_000_001 + "</p>", "characters long"),
    ],
)
def test_hostile_pages_give_clear_errors(page, message):
    for parse in (parse_decision_log, parse_playbook, standards_table, parse_lessons):
        with pytest.raises(PageFormatError, match=message):
            parse(page)


def test_script_tags_and_a_five_megabyte_page_read_correctly():
    filler = "<p>" + "lorem ipsum " * 1000 + "</p>"
    page = filler * 400 + "<script>alert('x')</script><p>Decision: note — <script>evil()</script>kept</p>"
    assert len(page) > 4_800_000
    rows, _ = parse_decision_log(page)
    assert [r.text for r in rows] == ["evil()kept"]  # text only: markup never survives into a note


def test_deeply_nested_but_allowed_macros_read_fine():
    depth = MAX_DEPTH // 2 - 2
    page = (
        '<ac:structured-macro ac:name="expand"><ac:rich-text-body>' * depth
        + "<p>Decision: hold — deep</p>"
        + "</ac:rich-text-body></ac:structured-macro>" * depth
    )
    rows, _ = parse_decision_log(page)
    assert [r.text for r in rows] == ["deep"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["approve", "request changes", "hold", "note"]), TEXT), max_size=8))
def test_every_written_decision_line_is_read_back_in_order(entries):
    page = document(*[paragraph(f"Decision: {verb} — {text}") for verb, text in entries])
    rows, problems = parse_decision_log(page)
    assert problems == []
    assert [r.text for r in rows] == [normalise(text) for _, text in entries]
    assert len({r.identity for r in rows}) == len(rows)


ITEM_TEXT = TEXT.filter(lambda t: not normalise(t).lower().startswith("gate") and "(" not in t and "[" not in t)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ITEM_TEXT, st.booleans()), max_size=8), st.sampled_from(["Print", "Audio", "All formats"]))
def test_playbook_task_lists_become_items(entries, section):
    tasks = [TaskItem(str(i + 1), ("GATE: " if gate else "") + text) for i, (text, gate) in enumerate(entries)]
    items, problems = parse_playbook(document(paragraph("intro")) + f"<h2>{section}</h2>" + task_list(tasks).xml)
    assert problems == []
    assert [(i.text, i.is_gate) for i in items] == [(normalise(text), gate) for text, gate in entries]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(TEXT, min_size=2, max_size=2), max_size=6))
def test_standards_table_cells_read_back_exactly(rows):
    page = document(table(["Field", "Rule"], rows))
    assert standards_table(page) == [["Field", "Rule"]] + [[normalise(c) for c in row] for row in rows]


EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_the_documented_example_pages_read_as_docs_say():
    from addon.publishing.standards import compile_standards

    items, problems = parse_playbook((EXAMPLES / "playbook.xml").read_text(encoding="utf-8"))
    assert problems == []
    assert [(i.scope, i.text, i.stage) for i in items if i.is_gate] == [
        ("print", "Approve the print-ready PDF", "Proofs"),
        ("digital", "EPUB passes EPUBCheck", "Typesetting"),
        ("audio", "Approve the narrator", None),
        ("all", "Sign off the cover", None),
    ]
    rule_set = compile_standards(standards_table((EXAMPLES / "standards.xml").read_text(encoding="utf-8")))
    assert len(rule_set.rules) == 5 and rule_set.problems == ()
    lessons = parse_lessons((EXAMPLES / "retrospective.xml").read_text(encoding="utf-8"))
    assert [lesson.stage for lesson in lessons] == ["Production", "Editorial", "General"]
    rows, problems = parse_decision_log((EXAMPLES / "decision-log.xml").read_text(encoding="utf-8"))
    assert [r.decision_type for r in rows] == [APPROVE_STAGE, REQUEST_CHANGES, HOLD, NOTE] and problems == []
