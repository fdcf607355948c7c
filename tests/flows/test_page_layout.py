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
    identities,
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
    assert [r.decision_type for r in rows] == [APPROVE_STAGE, REQUEST_CHANGES, APPROVE_STAGE, HOLD, NOTE]
    assert problems == []
    assert rows[0].to_stage == "Typesetting" and rows[0].decided_by_name == "Jane Smith"
    assert rows[2].to_stage is None and rows[2].text == "jacket brief — the blue version"


def test_decision_table_rows_read_each_column_and_say_what_is_wrong():
    page = (
        "<table><tbody><tr><th>Date</th><th>Decision</th><th>Decided by</th><th>Details</th></tr>"
        '<tr><td><time datetime="2026-11-03" /></td><td>Hold</td>'
        '<td><ac:link><ri:user ri:account-id="557058:abc-def" /></ac:link></td><td>waiting for the author</td></tr>'
        "<tr><td>next Tuesday</td><td>Note: reprint</td><td>Sam</td><td></td></tr>"
        "<tr><td></td><td></td><td>Sam</td><td>forgot the decision</td></tr>"
        "<tr><td></td><td></td><td></td><td></td></tr>"
        "</tbody></table>"
        "<table><tbody><tr><th>Format</th><th>Owner</th></tr><tr><td>Decision: note — in a plain table</td><td/></tr></tbody></table>"
    )
    rows, problems = parse_decision_log(page)
    assert [(r.decision_type, r.text, r.decided_by) for r in rows] == [
        (HOLD, "waiting for the author", "557058:abc-def"),
        (NOTE, "in a plain table", None),  # a "Decision:" line in any other table still counts
    ]
    assert rows[0].decided_on.isoformat() == "2026-11-03"
    assert [p.what_is_wrong.split(":")[0] for p in problems] == [
        "“next Tuesday” is not a date",
        "the Decision cell is empty",
    ]


NOTE_PANEL = (
    '<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note</ac:adf-attribute>'
    "<ac:adf-content>{0}</ac:adf-content></ac:adf-node>"
    '<ac:adf-fallback><div class="panel"><div class="panelContent">{0}</div></div></ac:adf-fallback>'
    "</ac:adf-extension>"
)


def test_a_decision_or_lesson_in_a_new_editor_panel_is_sent_once():
    """Confluence stores the panel's content twice (ADF and an XHTML copy): each decision and lesson is one note."""
    rows, problems = parse_decision_log(NOTE_PANEL.format("<p>Decision: hold — waiting for the author</p>"))
    assert [(r.decision_type, r.text) for r in rows] == [(HOLD, "waiting for the author")] and problems == []
    table = (
        "<table><tbody><tr><th>Decision</th><th>Detail</th></tr><tr><td>Hold</td><td>author ill</td></tr>"
        "</tbody></table>"
    )
    assert [r.text for r in parse_decision_log(NOTE_PANEL.format(table))[0]] == ["author ill"]
    lessons = parse_lessons(
        "<h2>Lessons learned</h2>" + NOTE_PANEL.format("<ul><li><p>Production: book the printer early</p></li></ul>")
    )
    assert [(lesson.stage, lesson.text) for lesson in lessons] == [("Production", "book the printer early")]


def test_a_new_editor_decision_item_is_read_as_its_line():
    item = (
        '<ac:adf-extension><ac:adf-node type="decision-list"><ac:adf-attribute key="local-id">d1</ac:adf-attribute>'
        '<ac:adf-node type="decision-item"><ac:adf-attribute key="state">DECIDED</ac:adf-attribute>'
        "<ac:adf-content>Decision: approve — cover signed off</ac:adf-content></ac:adf-node></ac:adf-node>"
        '<ac:adf-fallback><div class="decision-list"><ul><li>Decision: approve — cover signed off</li></ul></div>'
        "</ac:adf-fallback></ac:adf-extension>"
    )
    rows, _ = parse_decision_log(item)
    assert [(r.decision_type, r.text) for r in rows] == [(APPROVE_STAGE, "cover signed off")]


def test_a_heading_row_across_the_decision_table_is_not_a_decision():
    page = (
        "<table><tbody><tr><th>Decision</th><th>Detail</th><th>Date</th></tr>"
        '<tr><td colspan="3"><p><strong>Autumn 2026 list meeting</strong></p></td></tr>'
        "<tr><td>Hold</td><td>author ill</td><td>2026-11-03</td></tr></tbody></table>"
    )
    rows, problems = parse_decision_log(page)
    assert [(r.decision_type, r.text) for r in rows] == [(HOLD, "author ill")] and problems == []


def test_standards_cells_with_several_rules_as_paragraphs_keep_each_rule():
    from addon.publishing.standards import compile_standards

    page = (
        "<table><tbody><tr><th>Field</th><th>Rule</th><th>Applies to</th></tr>"
        "<tr><td><p>Description</p></td><td><p>required</p><p>max length 4000</p></td>"
        "<td><ul><li><p>Print</p></li><li><p>Ebook</p></li></ul></td></tr></tbody></table>"
    )
    rows = standards_table(page)
    assert rows is not None and rows[1] == ["Description", "required\nmax length 4000", "Print\nEbook"]
    compiled = compile_standards(rows)
    assert compiled.problems == ()
    assert sorted((rule.kind.name, rule.formats) for rule in compiled.rules) == [
        ("MAX_LENGTH", ("ebook", "print")),
        ("REQUIRED", ("ebook", "print")),
    ]


def test_lessons_are_filed_by_a_stage_or_team_they_name_or_the_sub_heading_above_them():
    page = (
        "<h2>Lessons learned</h2><ul><li><p>Production: book the printer early</p>"
        "<ul><li><p>slots go by March</p></li></ul></li>"
        "<li><p>Note: the author prefers email</p></li><li><p>Amazon: listings lag a week</p></li></ul>"
        "<h3>Marketing</h3><ul><li><p>Proofs to booksellers by week 20</p></li></ul>"
        "<h2>Next</h2><ul><li><p>not a lesson</p></li></ul>"
    )
    lessons = parse_lessons(page)
    assert [(lesson.stage, lesson.text) for lesson in lessons] == [
        ("Production", "book the printer early"),
        ("General", "slots go by March"),  # a nested bullet is its own lesson, no longer lost
        ("General", "Note: the author prefers email"),
        ("General", "Amazon: listings lag a week"),
        ("Marketing", "Proofs to booksellers by week 20"),
    ]
    # filed differently or not, a lesson is known by its text: nothing already sent goes again
    assert lessons[2].identity == identities(["Note: the author prefers email"], prefix="lesson|")[0]


def test_a_template_row_of_placeholders_is_neither_a_decision_nor_a_problem():
    page = (
        "<table><tbody><tr><th>Decision</th><th>Detail</th><th>Decided by</th><th>Date</th></tr>"
        "<tr><td><p><ac:placeholder>Approve, Hold, Note…</ac:placeholder></p></td>"
        "<td><p><ac:placeholder>Why</ac:placeholder></p></td><td><p><ac:placeholder>@mention</ac:placeholder></p></td>"
        "<td><p><ac:placeholder>/date</ac:placeholder></p></td></tr>"
        "<tr><td>Hold</td><td>author ill</td><td></td><td>2026-11-03</td></tr></tbody></table>"
    )
    rows, problems = parse_decision_log(page)
    assert [(r.decision_type, r.text) for r in rows] == [(HOLD, "author ill")] and problems == []


def test_a_standards_table_with_a_title_row_and_a_two_word_rule_header_is_read():
    from addon.publishing.standards import compile_standards

    page = (
        '<table><tbody><tr><th colspan="3"><p><strong>Metadata standards — 2026</strong></p></th></tr>'
        "<tr><th>Metadata field</th><th>Rules / requirements</th><th>Applies to</th></tr>"
        "<tr><td>Description</td><td>required</td><td>all</td></tr></tbody></table>"
    )
    rows = standards_table(page)
    assert rows is not None
    compiled = compile_standards(rows)
    assert compiled.problems == () and [rule.field for rule in compiled.rules] == ["description"]
