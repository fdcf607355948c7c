"""The standards-table compiler: forgiving syntax, row problems, the default rule set, and properties."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.publishing.domain import Contributor, FormatKind
from addon.publishing.rules import RuleKind, Severity, evaluate
from addon.publishing.standards import BISAC_SECTIONS, DEFAULT_RULE_SET, DEFAULT_STANDARDS_TABLE, compile_standards
from tests.publishing.factories import make_title, with_format
from tests.publishing.strategies import HEADER, INVALID_ROWS, VALID_ROWS


def one_rule(rule_cell, field="Description", applies="", severity="", message=""):
    rule_set = compile_standards([HEADER, (field, rule_cell, applies, severity, message)])
    assert not rule_set.problems, rule_set.problems
    assert len(rule_set.rules) == 1
    return rule_set.rules[0]


@pytest.mark.parametrize(
    "cell, kind, params",
    [
        ("required", RuleKind.REQUIRED, {}),
        ("Mandatory", RuleKind.REQUIRED, {}),
        ("must be present.", RuleKind.REQUIRED, {}),
        ("max length 4000", RuleKind.MAX_LENGTH, {"limit": 4000}),
        ("Maximum length: 4,000 characters", RuleKind.MAX_LENGTH, {"limit": 4000}),
        ("at most 350 chars", RuleKind.MAX_LENGTH, {"limit": 350}),
        ("≤ 200", RuleKind.MAX_LENGTH, {"limit": 200}),
        ("min length 10", RuleKind.MIN_LENGTH, {"limit": 10}),
        ("at least 30 characters", RuleKind.MIN_LENGTH, {"limit": 30}),
        ("pattern: ^[A-Z].*$", RuleKind.PATTERN, {"pattern": "^[A-Z].*$"}),
        ("regex: /^\\S/", RuleKind.PATTERN, {"pattern": "^\\S"}),
    ],
)
def test_rule_cell_syntax(cell, kind, params):
    rule = one_rule(cell)
    assert rule.kind is kind
    assert dict(rule.params) == params


def test_one_of_accepts_commas_newlines_and_spaces_for_bisac_codes():
    rule = one_rule("one of: FIC000000, FIC009000\nJUV000000 fic022000", field="BISAC main subject")
    assert rule.param("values") == ("FIC000000", "FIC009000", "FIC022000", "JUV000000")
    tiers = one_rule("one of: Lead, Key title", field="Imprint")
    assert tiers.param("values") == ("Key title", "Lead")


@pytest.mark.parametrize(
    "cell, relation",
    [
        ("after: contract delivery date", "after"),
        ("must be after the manuscript delivery date", "after"),
        ("on or after: delivery date", "on_or_after"),
        ("no earlier than delivery date", "on_or_after"),
    ],
)
def test_date_order_syntax(cell, relation):
    rule = one_rule(cell, field="Publication date")
    assert (rule.kind, rule.param("relation"), rule.param("other")) == (RuleKind.DATE_ORDER, relation, "delivery_date")


def test_name_form_series_and_retailer_syntax():
    assert one_rule("name form: Surname, Forenames", field="Contributor name").param("form") == "inverted"
    assert one_rule("Surname, Forenames", field="Author").param("form") == "inverted"
    assert one_rule("series: <Series> #<n>", field="Series").param("template") == "<Series> #<n>"
    assert one_rule("series pattern: /^The .+$/", field="Series").param("pattern") == "^The .+$"
    amazon = one_rule("retailer Amazon: max length 4000")
    assert (amazon.kind, amazon.retailers, amazon.param("requirement"), amazon.param("limit")) == (
        RuleKind.RETAILER_REQUIREMENT,
        ("Amazon",),
        "max_length",
        4000,
    )
    assert one_rule("Kobo: required").retailers == ("Kobo",)


def test_applies_to_severity_and_message_columns():
    rule = one_rule(
        "required", field="Cover", applies="Print, Ebook, Amazon", severity="Warning", message="Upload the cover."
    )
    assert rule.formats == ("ebook", "print") and rule.retailers == ("Amazon",)
    assert rule.severity is Severity.WARNING and rule.message == "Upload the cover."
    custom = one_rule("required", field="Price (EUR)", applies="retailer: Fnac")
    assert custom.retailers == ("Fnac",)


def test_header_is_found_by_its_words_in_any_order_and_with_separate_retailer_column():
    table = [
        ("", ""),
        ("Severity", "Metadata field", "Requirement", "Retailer", "Applies to (format, retailer)"),
        ("should", "Subtitle", "max length 200", "Kobo", "ebook"),
    ]
    rule_set = compile_standards(table)
    assert not rule_set.problems
    rule = rule_set.rules[0]
    assert (rule.field, rule.severity, rule.retailers, rule.formats) == (
        "subtitle",
        Severity.WARNING,
        ("Kobo",),
        ("ebook",),
    )


def test_several_rules_in_one_cell_compile_separately_and_a_bad_one_is_reported():
    rule_set = compile_standards([HEADER, ("ISBN", "required; valid ISBN; sparkly", "", "", "")])
    assert [r.kind for r in rule_set.rules] == [RuleKind.REQUIRED, RuleKind.VALID_ISBN]
    assert [(p.row_number, "sparkly" in p.what_is_wrong) for p in rule_set.problems] == [(2, True)]


def test_three_good_rows_and_two_broken_rows_give_three_rules_and_two_messages():
    table = [HEADER, VALID_ROWS[0], INVALID_ROWS[0], VALID_ROWS[3], INVALID_ROWS[1], VALID_ROWS[6]]
    rule_set = compile_standards(table)
    assert len(rule_set.rules) == 3
    assert [(p.row_number, p.cells[0]) for p in rule_set.problems] == [(3, "Colour"), (5, "ISBN")]
    assert "Colour" in rule_set.problems[0].what_is_wrong
    assert "not a rule this app understands" in rule_set.problems[1].what_is_wrong


def test_table_without_field_and_rule_columns_is_one_problem():
    rule_set = compile_standards([("Name", "Notes"), ("ISBN", "required")])
    assert rule_set.rules == () and rule_set.problems[0].row_number == 1
    assert compile_standards([]).rules == ()


def test_duplicate_rows_are_reported_against_the_first():
    rule_set = compile_standards([HEADER, VALID_ROWS[0], VALID_ROWS[0]])
    assert len(rule_set.rules) == 1
    assert rule_set.problems[0].what_is_wrong == "repeats the rule in row 2"


def test_huge_cells_are_reported_not_parsed():
    rule_set = compile_standards([HEADER, ("Description", "one of: " + "x," * 20_000, "", "", "")])
    assert rule_set.rules == () and "longer than" in rule_set.problems[0].what_is_wrong


def test_version_changes_with_rules_but_not_with_row_order_of_problems():
    a = compile_standards([HEADER, VALID_ROWS[0], INVALID_ROWS[0]])
    b = compile_standards([HEADER, INVALID_ROWS[0], VALID_ROWS[0]])
    assert a.version == b.version
    assert a.version != compile_standards([HEADER, VALID_ROWS[1]]).version


def test_default_rule_set_compiles_cleanly_and_matches_its_documented_content():
    assert DEFAULT_RULE_SET.problems == ()
    described = {r.describe() for r in DEFAULT_RULE_SET.rules}
    assert described == {
        "ISBN: required",
        "ISBN: a valid ISBN-13",
        "BISAC main subject: required",
        rf"BISAC main subject: matches ^({BISAC_SECTIONS})\d{{6}}$",
        "Contributor name: key names are the surname, so it reads “Surname, Forenames”",
        "Description: required",
        "Description: Amazon needs it at most 4000 characters",
        "Price (GBP): required",
        "Price (USD): required",
        "Publication date: required",
    }
    assert len(DEFAULT_STANDARDS_TABLE) == len(DEFAULT_RULE_SET.rules) + 1


def test_default_rule_set_passes_a_complete_title_and_catches_common_mistakes():
    assert evaluate(make_title(), DEFAULT_RULE_SET).completion == 100.0
    title = replace(make_title(), contributors=(Contributor("Amelia Okafor"),))  # no key names recorded
    title = with_format(title, FormatKind.EBOOK, prices=(), description="d" * 4001)
    failed = {(c.rule.describe(), c.product_id) for c in evaluate(title, DEFAULT_RULE_SET).failed}
    assert failed == {
        ("Contributor name: key names are the surname, so it reads “Surname, Forenames”", None),
        ("Price (GBP): required", "p-ebook"),
        ("Price (USD): required", "p-ebook"),
        ("Description: Amazon needs it at most 4000 characters", "p-ebook"),
    }


cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "required",
            "max length 40",
            "ISBN",
            "Description",
            "print",
            "Amazon",
            "one of:",
            "pattern: (",
            "after:",
            "series: <x>",
            "error",
            "warning",
            "retailer : ",
            "\u202eevil",
            "\U0001f600",
            "<b>bold</b>",
        ]
    ),
)
tables = st.lists(st.lists(cells, max_size=6), max_size=8)


@settings(max_examples=200, deadline=None)
@given(tables)
def test_any_table_of_strings_compiles(table):
    rule_set = compile_standards(table)
    assert isinstance(rule_set.version, str) and len(rule_set.version) == 16


@settings(max_examples=200, deadline=None)
@given(body=st.lists(st.lists(cells, min_size=0, max_size=5).map(tuple), max_size=8))
def test_every_non_blank_row_becomes_a_rule_or_a_problem(body):
    rule_set = compile_standards([HEADER, *body])
    explained = {p.row_number for p in rule_set.problems}
    compiled = compile_standards
    for number, row in enumerate(body, start=2):
        if not any(c.strip() for c in row):
            assert number not in explained
            continue
        alone = compiled([HEADER, row])
        assert alone.rules or alone.problems
        assert number in explained or alone.rules


@settings(max_examples=150, deadline=None)
@given(
    valid=st.lists(st.sampled_from(VALID_ROWS), max_size=6),
    invalid=st.lists(st.sampled_from(INVALID_ROWS), max_size=6),
    data=st.data(),
)
def test_valid_rows_are_unaffected_by_invalid_rows(valid, invalid, data):
    mixed = data.draw(st.permutations(valid + invalid))
    order = [row for row in mixed if row in valid]  # the valid rows in the order they appear
    assert compile_standards([HEADER, *mixed]).rules == compile_standards([HEADER, *order]).rules
    assert len(compile_standards([HEADER, *mixed]).problems) >= len(invalid)


def test_hostile_cells_give_problems_not_crashes():
    table = [
        HEADER,
        ("Description", "x" * 5_000_000, "", "", ""),
        ("<script>alert(1)</script>", "required", "", "", ""),
        ("\u05ea\u05d9\u05d0\u05d5\u05e8", "required", "", "", ""),
        ("Description", "one of: \U0001f4da, \u202eevil", "", "", ""),
        ("Title", "pattern: " + "(" * 200 + "a" + ")" * 200, "", "", ""),
    ]
    rule_set = compile_standards(table)
    assert [p.row_number for p in rule_set.problems] == [2, 3, 4, 6]
    assert rule_set.rules[0].param("values") == ("\u202eevil", "\U0001f4da")
    long_name = make_title(contributors=(Contributor("a" * 100_000),))
    assert evaluate(long_name, DEFAULT_RULE_SET).failed
