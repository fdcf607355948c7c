"""Owned regions: rewriting ours changes those bytes only, whatever people wrote around them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.confluence import storage as s
from addon.confluence.owned_regions import (
    OwnedRegionError,
    OwnedRegionMissing,
    insert_region_if_missing,
    list_regions,
    marker,
    read_region,
    region_storage,
    replace_region,
)
from addon.confluence.storage_parse import StorageParseError, find_macros, find_tables, paragraph_texts

# What people (and Confluence's editor) put on pages: nested macros, tables, CDATA, entities,
# RTL and astral-plane text, script-looking text, odd whitespace, a look-alike anchor.
HOSTILE_BEFORE = (
    '<h1 style="text-align: right;">\u05e9\u05dc\u05d5\u05dd &mdash; \u0645\u0631\u062d\u0628\u0627 \U0001f4da\U00020bb7</h1>\n'
    '<p>&lt;script&gt;alert("x")&lt;/script&gt; caf&eacute;&nbsp;&rsquo;  \t spaced   </p>'
    '<ac:structured-macro ac:name="expand" ac:schema-version="1" ac:macro-id="aa-1">'
    '<ac:parameter ac:name="title">Details &amp; more</ac:parameter><ac:rich-text-body>'
    '<ac:structured-macro ac:name="info" ac:macro-id="aa-2"><ac:rich-text-body><p>nested</p>'
    '<table><tbody><tr><th>k</th><th>v</th></tr><tr><td>a<br/>b</td><td><ac:structured-macro ac:name="status">'
    '<ac:parameter ac:name="title">LATE</ac:parameter></ac:structured-macro></td></tr></tbody></table>'
    "</ac:rich-text-body></ac:structured-macro></ac:rich-text-body></ac:structured-macro>"
    '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[if (a < b && c) { x = "]]]]><![CDATA[>"; } '
    "<p>consonance-for-confluence:begin:summary</p>]]></ac:plain-text-body></ac:structured-macro>"
    '<p><ac:structured-macro ac:name="anchor"><ac:parameter ac:name="">someone-elses-anchor</ac:parameter>'
    "</ac:structured-macro></p><!-- a comment with <p> and &nbsp; -->\n"
)
HOSTILE_AFTER = (
    "\n<ac:task-list><ac:task><ac:task-id>3</ac:task-id><ac:task-status>incomplete</ac:task-status>"
    '<ac:task-body>Check \u202eRTL override\u202c &amp; <ac:link><ri:page ri:content-title="Q&amp;A" /></ac:link>'
    "</ac:task-body></ac:task></ac:task-list>"
    '<p class="x">tail &#x1F600; &#169; <em>emph</em></p>   '
)


def hostile_page(inner: str = "<p>old summary</p>") -> str:
    return HOSTILE_BEFORE + region_storage("summary", s.trusted(inner)) + HOSTILE_AFTER


def test_replace_changes_only_the_region_on_a_hostile_page():
    page = hostile_page()
    new_inner = s.document(s.heading(2, "Pipeline \u2014 week 19"), s.table(["Stage", "Titles"], [["Copyedit", "4"]]))
    updated = replace_region(page, "summary", new_inner)
    region = list_regions(updated)[0]
    assert updated[: region.inner_start] == page[: list_regions(page)[0].inner_start]
    assert updated[: region.inner_start].startswith(HOSTILE_BEFORE)
    assert updated[region.inner_end :] == page[list_regions(page)[0].inner_end :]
    assert updated.endswith(HOSTILE_AFTER)
    assert read_region(updated, "summary") == new_inner
    assert find_tables(updated)[-1] == [["Stage", "Titles"], ["Copyedit", "4"]]


def test_replacing_with_the_same_content_returns_the_identical_string():
    page = hostile_page()
    once = replace_region(page, "summary", "<p>new</p>")
    assert replace_region(once, "summary", "<p>new</p>") is once
    assert replace_region(page, "summary", "<p>old summary</p>") == page


def test_look_alike_text_in_cdata_and_foreign_anchors_are_not_markers():
    page = hostile_page()
    assert [r.name for r in list_regions(page)] == ["summary"]
    assert read_region(page, "summary") == "<p>old summary</p>"


def test_markers_are_invisible_anchors_confluence_keeps():
    macros = find_macros(marker("begin", "summary"))
    assert [(m.name, m.parameters) for m in macros] == [("anchor", {"": "consonance-for-confluence:begin:summary"})]
    assert (
        macros[0].macro_id == find_macros(marker("begin", "summary"))[0].macro_id
    )  # stable: regeneration is idempotent


def test_insert_if_missing_adds_once():
    page = "<p>people wrote this</p>"
    once = insert_region_if_missing(page, "actions", s.paragraph("todo"))
    assert once.startswith(page) and read_region(once, "actions") == "<p>todo</p>"
    assert insert_region_if_missing(once, "actions", s.paragraph("other")) is once
    first = insert_region_if_missing(page, "top", "<p>x</p>", at="start")
    assert first.endswith(page)


def test_editor_moving_markers_into_shared_paragraphs_still_works_when_siblings():
    # The editor may add attributes and whitespace around our anchors; they still stand for the marker.
    begin = marker("begin", "r").replace("<p>", '<p class="auto-cursor-target">\n', 1)
    page = "<p>a</p>" + begin + "<p>x</p>" + marker("end", "r") + "<p>b</p>"
    assert read_region(page, "r") == "<p>x</p>"
    assert replace_region(page, "r", "<p>y</p>") == "<p>a</p>" + begin + "<p>y</p>" + marker("end", "r") + "<p>b</p>"


@pytest.mark.parametrize(
    "page,problem",
    [
        (marker("begin", "r") + "<p>x</p>", "1 begin and 0 end"),
        (marker("begin", "r") + marker("begin", "r") + marker("end", "r"), "2 begin"),
        ("<div>" + marker("begin", "r") + "</div><p>x</p>" + marker("end", "r"), "no longer siblings"),
        (marker("end", "r") + marker("begin", "r"), "before begin"),
        (marker("begin", "r") + marker("begin", "q") + marker("end", "q") + marker("end", "r"), "cannot nest"),
    ],
)
def test_broken_markers_are_refused_not_guessed(page, problem):
    with pytest.raises(OwnedRegionError) as caught:
        replace_region(page, "r", "<p>new</p>")
    assert problem in str(caught.value)


def test_missing_region_and_bad_content_are_errors():
    with pytest.raises(OwnedRegionMissing):
        replace_region("<p>x</p>", "summary", "<p>y</p>")
    page = hostile_page()
    with pytest.raises(StorageParseError):
        replace_region(page, "summary", "<p>unclosed")
    with pytest.raises(OwnedRegionError):
        replace_region(page, "summary", marker("begin", "other"))
    with pytest.raises(ValueError):
        read_region(page, "bad name!")


# ---------------------------------------------------------------- properties
xml_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff").filter(
        lambda c: c in "\t\n\r" or ord(c) >= 0x20
    ),
    max_size=40,
)
surrounding_piece = st.one_of(
    xml_text.map(lambda t: s.document(s.paragraph(t))),
    xml_text.map(lambda t: s.document(s.macro("code", plain_body=t))),
    xml_text.map(lambda t: s.document(s.info_panel(s.paragraph(t), s.status_lozenge(t or "x", "Red")))),
    xml_text.map(lambda t: s.document(s.table([t], [[t]]))),
    st.sampled_from(["&nbsp;", "<p>&rsquo;&eacute;</p>", "\n", "  ", "<!-- <p> -->", "<br/>"]),
)
surroundings = st.lists(surrounding_piece, max_size=5).map("".join)
inner_content = st.lists(xml_text, max_size=3).map(lambda ts: s.document([s.paragraph(t) for t in ts]))


@settings(max_examples=150, deadline=None)
@given(surroundings, surroundings, inner_content, inner_content)
def test_region_replacement_touches_only_the_region(before, after, old, new):
    page = before + region_storage("r", old) + after
    updated = replace_region(page, "r", new)
    prefix = before + marker("begin", "r")
    suffix = marker("end", "r") + after
    assert updated == prefix + new + suffix
    assert read_region(updated, "r") == new
    assert replace_region(updated, "r", new) == updated
    assert paragraph_texts(updated) is not None  # still well-formed storage


@settings(max_examples=100, deadline=None)
@given(surroundings, inner_content)
def test_insert_then_read_round_trips(page, inner):
    with_region = insert_region_if_missing(page, "r", inner)
    assert with_region.startswith(page)
    assert read_region(with_region, "r") == inner
    assert insert_region_if_missing(with_region, "r", "<p>other</p>") == with_region
