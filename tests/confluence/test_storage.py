"""Storage format: what the builder writes, the parser reads back; text can never become markup."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.confluence import storage as s
from addon.confluence.storage_parse import (
    StorageParseError,
    find_macros,
    find_tables,
    find_tasks,
    paragraph_texts,
    parse,
    text_of,
)

# Any text XML 1.0 can carry (the builder replaces the rest with U+FFFD; tested separately).
xml_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff").filter(
        lambda c: c in "\t\n\r" or ord(c) >= 0x20
    )
)


def test_page_with_every_building_block_reads_back():
    doc = s.document(
        s.heading(1, "Launch & schedule"),
        s.table_of_contents(max_level=3),
        s.paragraph("See ", s.page_link("Rights <territory>", space_key="PUB", link_text="rights guidance"), "."),
        s.table(["Format", "Status"], [["Print", s.status_lozenge("READY", "Green")], ["Audio", "blocked"]]),
        s.info_panel(s.paragraph("Announce after ", s.strong("15 May")), title="Heads up"),
        s.our_macro("title-status", {"workId": "W-1", "show": "stage"}, macro_id="m-1"),
        s.task_list(
            [s.TaskItem("1", "Cover approved"), s.TaskItem("2", ["ISBN ", s.emphasis("assigned")], complete=True)]
        ),
    )
    assert find_tables(doc) == [[["Format", "Status"], ["Print", "READY"], ["Audio", "blocked"]]]
    tasks = find_tasks(doc)
    assert [(t.task_id, t.status, t.body_text) for t in tasks] == [
        ("1", "incomplete", "Cover approved"),
        ("2", "complete", "ISBN assigned"),
    ]
    macros = {m.name: m for m in find_macros(doc)}
    assert set(macros) == {"toc", "status", "info", "title-status"}
    assert macros["title-status"].parameters == {"workId": "W-1", "show": "stage"}
    assert macros["title-status"].macro_id == "m-1"
    assert macros["status"].parameters == {"colour": "Green", "title": "READY"}
    assert macros["info"].body_text == "Announce after 15 May"
    assert macros["toc"].parameters == {"maxLevel": "3"}
    root = parse(doc)
    link = root.find(".//{http://atlassian.com/resource/identifier}page")
    assert link.get("{http://atlassian.com/resource/identifier}content-title") == "Rights <territory>"
    assert text_of(root.find("h1")) == "Launch & schedule"


def test_markup_in_text_stays_text():
    hostile = '<script>alert(1)</script></p><ac:structured-macro ac:name="html">&amp;'
    doc = s.document(s.paragraph(hostile), s.our_macro("rights-link", {"workId": hostile}), s.page_link(hostile))
    assert paragraph_texts(doc) == [hostile]
    assert [m.name for m in find_macros(doc)] == ["rights-link"]
    assert find_macros(doc)[0].parameters == {"workId": hostile}
    assert "<script>" not in doc


def test_only_trusted_fragments_pass_markup_through():
    assert s.document(s.trusted("<p>ours</p>"), "<p>theirs</p>") == "<p>ours</p>&lt;p&gt;theirs&lt;/p&gt;"


def test_plain_text_body_survives_cdata_terminator():
    doc = s.document(s.macro("code", plain_body="a ]]> b <c>"))
    assert find_macros(doc)[0].plain_body == "a ]]> b <c>"


def test_characters_xml_cannot_carry_become_replacement_characters():
    doc = s.document(s.paragraph("bell\x07 nul\x00 end"))
    assert paragraph_texts(doc) == ["bell\ufffd nul\ufffd end"]


@pytest.mark.parametrize(
    "bad",
    [
        lambda: s.heading(7, "x"),
        lambda: s.status_lozenge("x", "Pink"),
        lambda: s.our_macro("details", {}),
        lambda: s.macro('x" onload="y', {}),
        lambda: s.element("p><script", "x"),
    ],
)
def test_builder_refuses_bad_names(bad):
    with pytest.raises(ValueError):
        bad()


def test_parser_reads_confluence_entities_and_namespaces():
    storage = (
        "<p>Caf&eacute;&nbsp;&rsquo;s &amp; &#8212; &#x1F4D6;</p>"
        '<ac:structured-macro ac:name="expand" ac:macro-id="outer"><ac:parameter ac:name="title">More&hellip;</ac:parameter>'
        '<ac:rich-text-body><ac:structured-macro ac:name="status" ac:macro-id="inner">'
        '<ac:parameter ac:name="title">LATE</ac:parameter></ac:structured-macro>'
        "<ac:task-list><ac:task><ac:task-id>7</ac:task-id><ac:task-uuid>u-7</ac:task-uuid><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>Outer<ac:task-list><ac:task><ac:task-id>8</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        "<ac:task-body>Inner</ac:task-body></ac:task></ac:task-list></ac:task-body></ac:task></ac:task-list>"
        "</ac:rich-text-body></ac:structured-macro>"
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[&nbsp; <b>]]></ac:plain-text-body></ac:structured-macro>'
        "<!-- &bogus; -->"
    )
    assert paragraph_texts(storage) == ["Caf\u00e9\u00a0\u2019s & \u2014 \U0001f4d6"]
    macros = find_macros(storage)
    assert [(m.name, m.depth, m.parent_macro_id) for m in macros] == [
        ("expand", 0, None),
        ("status", 1, "outer"),
        ("code", 0, None),
    ]
    assert macros[0].parameters == {"title": "More\u2026"}
    assert macros[2].plain_body == "&nbsp; <b>"  # CDATA is literal: no entity expansion inside
    tasks = find_tasks(storage)
    assert [(t.task_id, t.status, t.body_text, t.parent_task_id, t.uuid) for t in tasks] == [
        ("7", "complete", "Outer", None, "u-7"),
        ("8", "incomplete", "Inner", "7", None),
    ]


@pytest.mark.parametrize(
    "bad,fragment",
    [
        ("<p>unclosed", "malformed"),
        ("<p>&nosuchentity;</p>", "nosuchentity"),
        ("<x:foo/>", "malformed"),
        ("<p></div>", "malformed"),
    ],
)
def test_malformed_storage_is_a_clear_error(bad, fragment):
    with pytest.raises(StorageParseError) as caught:
        parse(bad)
    assert fragment in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(xml_text)
def test_any_text_round_trips_through_build_and_parse(value):
    doc = s.document(
        s.paragraph(value),
        s.our_macro("title-status", {"workId": value}),
        s.table(["h"], [[value]]),
        s.task_list([s.TaskItem("1", value)]),
        s.macro("code", plain_body=value),
        s.page_link(value, link_text=value or None),
    )
    assert paragraph_texts(doc)[0] == value
    macros = {m.name: m for m in find_macros(doc)}
    assert macros["title-status"].parameters["workId"] == value
    assert macros["code"].plain_body == value
    assert find_tables(doc)[0][1] == [value.strip()]
    assert find_tasks(doc)[0].body_text == value.strip()
    page = parse(doc).find(".//{http://atlassian.com/resource/identifier}page")
    assert page.get("{http://atlassian.com/resource/identifier}content-title") == value


def test_table_cells_read_as_people_wrote_them():
    """Two paragraphs, a list or a line break in a cell are lines (not one word run into the next); a page
    link reads as its title, a /date as its date, a template's placeholder as nothing."""
    page = (
        "<table><tbody><tr><th><p>Stage</p></th><th><p>Reviewers</p></th><th><p>Next step</p></th></tr>"
        "<tr><td><p>Proofs</p></td><td><p>Anna Smith</p>\n  <p>Ben Jones</p></td>"
        '<td><p>Collect corrections.<br />Then see <ac:link><ri:page ri:content-title="Typesetting checklist" />'
        '</ac:link> by <time datetime="2026-12-01" /></p></td></tr>'
        "<tr><td><ul><li><p>ISBN</p></li><li><p>Price</p></li></ul></td><td><p>"
        "<ac:placeholder>Type the reviewers</ac:placeholder></p></td><td/></tr></tbody></table>"
    )
    assert find_tables(page) == [
        [
            ["Stage", "Reviewers", "Next step"],
            ["Proofs", "Anna Smith\nBen Jones", "Collect corrections.\nThen see Typesetting checklist by 2026-12-01"],
            ["ISBN\nPrice", "", ""],
        ]
    ]


def test_merged_cells_keep_every_column_in_place():
    page = (
        "<table><tbody><tr><th>Stage</th><th>Reviewers</th><th>Next step</th></tr>"
        '<tr><td>Copy-editing</td><td rowspan="2">Managing editor</td><td>Send to the copy-editor</td></tr>'
        "<tr><td>Typesetting</td><td>Check first pages</td></tr>"
        '<tr><td colspan="2">Proofs and production</td><td>Ask Jo</td></tr></tbody></table>'
    )
    assert find_tables(page)[0][1:] == [
        ["Copy-editing", "Managing editor", "Send to the copy-editor"],
        ["Typesetting", "Managing editor", "Check first pages"],
        ["Proofs and production", "", "Ask Jo"],
    ]


def test_a_new_editor_panel_is_read_once_not_with_its_fallback_copy():
    """The new editor saves a panel as ADF plus an XHTML copy for older readers: readers see one of them."""
    panel = (
        '<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note</ac:adf-attribute>'
        "<ac:adf-content><p>Decision: hold — waiting for the author</p></ac:adf-content></ac:adf-node>"
        '<ac:adf-fallback><div class="panel"><p>Decision: hold — waiting for the author</p></div></ac:adf-fallback>'
        "</ac:adf-extension>"
    )
    assert paragraph_texts(panel) == ["Decision: hold — waiting for the author"]
    only_fallback = "<ac:adf-extension><ac:adf-fallback><p>kept</p></ac:adf-fallback></ac:adf-extension>"
    assert paragraph_texts(only_fallback) == ["kept"]  # nothing else to read: the copy is all there is
