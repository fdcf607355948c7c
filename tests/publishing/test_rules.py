"""The rule engine: each rule kind's pass/fail/n-a, the offending value and fix, completion, and properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings

from addon.publishing.domain import Contributor, DeliveryDate, FormatKind, PublishingStatus, Subject
from addon.publishing.rules import (
    RULE_KINDS,
    Outcome,
    RuleError,
    RuleKind,
    RuleSet,
    Severity,
    evaluate,
    make_rule,
)
from addon.publishing.standards import compile_standards
from tests.publishing.factories import make_format, make_title, with_format
from tests.publishing.strategies import rule_sets, titles


def only(title, *rules, retailers=None):
    return evaluate(title, RuleSet.of(rules), retailers=retailers)


def outcomes(result):
    return [(c.product_id, c.outcome) for c in result.checks]


def test_required_is_checked_per_format_and_names_the_missing_field():
    title = with_format(make_title(), FormatKind.EBOOK, isbn13=None, isbn_raw=None)
    result = only(title, make_rule("ISBN", "required"))
    assert outcomes(result) == [("p-hardback", Outcome.PASS), ("p-ebook", Outcome.FAIL)]
    failure = result.failed[0]
    assert failure.format_label == "Ebook (no ISBN)"
    assert failure.problem == "ISBN is missing"
    assert "Add the ISBN" in failure.fix


def test_no_isbn_literal_counts_as_missing_and_a_bad_check_digit_is_reported_with_the_value():
    title = with_format(make_title(), FormatKind.EBOOK, isbn13=None, isbn_raw="No ISBN")
    assert only(title, make_rule("ISBN", "required")).failed[0].product_id == "p-ebook"
    bad = with_format(make_title(), FormatKind.EBOOK, isbn13=None, isbn_raw="9781402894627")
    result = only(bad, make_rule("ISBN", "valid_isbn"))
    assert [(c.value, c.problem) for c in result.failed] == [("9781402894627", "bad ISBN-13 check digit")]


def test_pattern_reports_the_offending_value():
    title = with_format(make_title(), FormatKind.HARDBACK, subjects=(Subject("BISAC", "FIC09", main=True),))
    result = only(title, make_rule("BISAC main subject", "pattern", {"pattern": r"^[A-Z]{3}\d{6}$"}))
    assert [(c.product_id, c.value) for c in result.failed] == [("p-hardback", "FIC09")]
    assert result.passed[0].product_id == "p-ebook"


def test_pattern_on_a_missing_value_is_not_applicable_so_required_rules_own_presence():
    title = with_format(make_title(), FormatKind.HARDBACK, subjects=())
    result = only(title, make_rule("BISAC main subject", "pattern", {"pattern": "^F"}))
    assert outcomes(result)[0] == ("p-hardback", Outcome.NOT_APPLICABLE)


def test_values_longer_than_the_bound_fail_rather_than_run_a_pattern():
    title = with_format(make_title(), FormatKind.HARDBACK, description="x" * 6000)
    result = only(title, make_rule("Description", "pattern", {"pattern": "^x+$"}))
    assert "too long" in result.failed[0].problem


def test_one_of_checks_bisac_format_then_membership():
    rule = make_rule("BISAC main subject", "one_of", {"values": ["fic000000", "FIC009000"]})
    assert rule.param("values") == ("FIC000000", "FIC009000")
    malformed = with_format(make_title(), FormatKind.HARDBACK, subjects=(Subject("BISAC", "FICTION", main=True),))
    assert "well-formed BISAC" in only(malformed, rule).failed[0].problem
    outside = with_format(make_title(), FormatKind.HARDBACK, subjects=(Subject("BISAC", "HIS000000", main=True),))
    failed = only(outside, rule).failed[0]
    assert (failed.value, failed.problem) == ("HIS000000", "not one of the allowed values")
    with pytest.raises(RuleError, match="FIC09"):
        make_rule("BISAC main subject", "one_of", {"values": ["FIC09"]})


@pytest.mark.parametrize(
    "kind, limit, length, expected",
    [
        ("max_length", 10, 10, Outcome.PASS),
        ("max_length", 10, 11, Outcome.FAIL),
        ("min_length", 10, 10, Outcome.PASS),
        ("min_length", 10, 9, Outcome.FAIL),
    ],
)
def test_length_limits_are_inclusive(kind, limit, length, expected):
    title = make_title(formats=(make_format(description="d" * length),))
    assert only(title, make_rule("Description", kind, {"limit": limit})).checks[0].outcome is expected


def test_date_order_compares_publication_with_the_expected_delivery_including_slips():
    rule = make_rule("Publication date", "date_order", {"relation": "after", "other": "contract delivery date"})
    on_time = make_title(delivery=DeliveryDate(date(2026, 5, 1)))
    assert only(on_time, rule).checks[0].outcome is Outcome.PASS
    slipped = make_title(delivery=DeliveryDate(date(2026, 5, 1), slipped_date=date(2027, 4, 1)))
    failure = only(slipped, rule).failed[0]
    assert failure.value == "2027-03-04" and "2027-04-01" in failure.problem
    no_contract = replace(make_title(), contracts=())
    assert {c.outcome for c in only(no_contract, rule).checks} == {Outcome.NOT_APPLICABLE}


def test_contributor_name_form_is_title_level_and_reads_the_structured_fields():
    rule = make_rule("Contributor name", "contributor_name_form", {"form": "Surname, Forenames"})
    good = only(make_title(), rule)
    assert [(c.product_id, c.outcome) for c in good.checks] == [(None, Outcome.PASS)]
    whole = Contributor("Tomasz Lindqvist", "E07", key_names="Tomasz Lindqvist")
    title = replace(make_title(), contributors=(Contributor("Amelia Okafor", key_names="Okafor"), whole))
    failed = only(title, rule).failed[0]
    assert failed.value == "Tomasz Lindqvist (key names “Tomasz Lindqvist”)"
    assert failed.problem == "the key names hold the whole name, not just the surname"
    assert "Key names" in failed.fix
    natural = make_rule("author", "contributor_name_form", {"form": "Forenames Surname"})
    assert only(title, natural).failed[0].value == failed.value  # the form shown never changes what is stored


@pytest.mark.parametrize(
    "name, key_names, ok, inverted",
    [
        ("Arthur Marchetti", "Marchetti", True, "Marchetti, Arthur"),  # the way Consonance stores names
        ("Siobhan O'Sullivan", "O'Sullivan", True, "O'Sullivan, Siobhan"),
        ("Ursula K. Le Guin", "Le Guin", True, "Le Guin, Ursula K."),
        ("Okafor, Amelia", "Okafor", True, "Okafor, Amelia"),  # display form already inverted
        ("Homer", "Homer", True, "Homer"),  # one name only
        ("Arthur Marchetti", "Arthur Marchetti", False, "Arthur Marchetti"),  # key names = whole name
        ("Arthur Marchetti", None, False, None),  # no key names at all
        ("Arthur Marchetti", "Okafor", False, None),  # key names not in the name
        ("Arthur Marchetti", "Arthur", False, None),  # forename given as key names
    ],
)
def test_name_judged_on_key_names(name, key_names, ok, inverted):
    contributor = Contributor(name, "A01", key_names=key_names)
    title = replace(make_title(), contributors=(contributor,))
    rule = make_rule("Contributor name", "contributor_name_form")
    assert only(title, rule).checks[0].outcome is (Outcome.PASS if ok else Outcome.FAIL)
    if ok:
        assert contributor.inverted_name == inverted


def test_series_naming_template_and_pattern():
    template = make_rule("Series", "series_naming", {"template": "<Series> #<n>"})
    assert only(make_title(), template).checks[0].outcome is Outcome.PASS
    unnumbered = replace(make_title(), series=("The Saltmarsh Chronicles",))
    assert only(unnumbered, template).failed[0].value == "The Saltmarsh Chronicles"
    pattern = make_rule("Series", "series_naming", {"pattern": r"^The .+ Chronicles"})
    assert only(unnumbered, pattern).checks[0].outcome is Outcome.PASS


def test_retailer_requirement_is_scoped_to_the_retailers_a_title_is_sent_to():
    rule = make_rule(
        "Description", "retailer_requirement", {"retailer": "Amazon", "requirement": "max_length", "limit": 50}
    )
    assert rule.retailers == ("Amazon",)
    assert "Amazon" in rule.describe()
    assert len(only(make_title(), rule).failed) == 2  # no retailer list: every retailer rule applies
    assert {c.outcome for c in only(make_title(), rule, retailers=["Kobo"]).checks} == {Outcome.NOT_APPLICABLE}
    assert len(only(make_title(), rule, retailers=["amazon"]).failed) == 2


def test_format_scope_marks_other_formats_not_applicable():
    rule = make_rule("Cover", "required", formats=["print"])
    title = with_format(make_title(), FormatKind.EBOOK, has_cover=False)
    assert outcomes(only(title, rule)) == [("p-hardback", Outcome.PASS), ("p-ebook", Outcome.NOT_APPLICABLE)]
    audio_only = make_rule("Contributor name", "required", formats=["audio"])
    assert only(make_title(), audio_only).checks[0].outcome is Outcome.NOT_APPLICABLE


def test_cancelled_formats_are_not_checked():
    title = with_format(make_title(), FormatKind.EBOOK, isbn13=None, publishing_status=PublishingStatus("01"))
    assert [c.product_id for c in only(title, make_rule("ISBN", "required")).checks] == ["p-hardback"]


def test_completion_counts_errors_and_warnings_but_not_info_or_not_applicable():
    title = with_format(make_title(), FormatKind.EBOOK, isbn13=None, isbn_raw=None, has_cover=False)
    result = only(
        title,
        make_rule("ISBN", "required"),  # 1 pass, 1 fail
        make_rule("Cover", "required", severity="warning", formats=["ebook"]),  # 1 fail, 1 n/a
        make_rule("Subtitle", "required", severity="info"),
    )  # info: ignored
    assert result.completion == pytest.approx(100 * 1 / 3, abs=0.1)
    assert result.completion_for("p-hardback") == 100.0
    assert result.completion_for("p-ebook") == 0.0
    assert [c.rule.field for c in result.failures(Severity.ERROR)] == ["isbn"]
    assert only(title).completion == 100.0


def test_custom_message_replaces_the_default_fix():
    rule = make_rule("Subtitle", "required", message="Ask the editor for the subtitle.")
    title = replace(make_title(), subtitle=None)
    assert only(title, rule).failed[0].fix == "Ask the editor for the subtitle."


def test_rule_ids_and_set_versions_are_content_hashes():
    a = make_rule("Description", "max_length", {"limit": 4000})
    assert a.id == make_rule("description", RuleKind.MAX_LENGTH, {"limit": "4,000"}).id
    assert a.id != make_rule("Description", "max_length", {"limit": 3999}).id
    assert RuleSet.of([a]).version == RuleSet.of([a]).version
    assert RuleSet.of([a]).version != RuleSet.of([]).version


@pytest.mark.parametrize(
    "field, kind, params, words",
    [
        ("Colour", "required", {}, "unknown field"),
        ("Page count", "required", {}, "not in the Consonance record"),
        ("Title", "valid_isbn", {}, "only applies to the ISBN"),
        ("Title", "pattern", {"pattern": "(a+)+$"}, "nested repeats"),
        ("Title", "max_length", {"limit": "lots"}, "whole number"),
        ("Title", "date_order", {"relation": "after", "other": "publication date"}, "not a date"),
        ("Publication date", "date_order", {"relation": "after", "other": "title"}, "not a date field"),
        ("Series", "series_naming", {}, "template"),
        ("Description", "retailer_requirement", {"retailer": "Amazon", "requirement": "date_order"}, "cannot be"),
    ],
)
def test_bad_rules_are_refused_in_plain_words(field, kind, params, words):
    with pytest.raises(RuleError, match=words):
        make_rule(field, kind, params)


def test_every_kind_of_rule_is_one_entry_of_the_table():
    """make_rule accepts exactly the RuleKind names; each must have its entry, or it could not be judged."""
    assert set(RULE_KINDS) == set(RuleKind)
    assert all(kind is entry.kind for kind, entry in RULE_KINDS.items())


@pytest.mark.parametrize("kind", list(RuleKind), ids=lambda k: k.value)
def test_each_kind_is_read_from_a_standards_table_and_keeps_only_the_parameters_its_entry_names(kind):
    """The entry's example compiles through the standards-table reader into that kind, and every parameter
    the made rule carries is one the entry documents (a retailer requirement adds its inner rule's)."""
    entry = RULE_KINDS[kind]
    rule_set = compile_standards([("Field", "Rule"), entry.example])
    assert rule_set.problems == ()
    (rule,) = rule_set.rules
    assert rule.kind is kind
    documented = set(entry.params)
    if kind is RuleKind.RETAILER_REQUIREMENT:
        documented |= set(RULE_KINDS[RuleKind(rule.param("requirement"))].params)
    assert {name for name, _ in rule.params} <= documented
    assert rule.describe().startswith(rule.spec.label + ": ")


@pytest.mark.parametrize("kind", list(RuleKind), ids=lambda k: k.value)
def test_a_retailer_requirement_wraps_exactly_the_kinds_whose_entry_allows_it(kind):
    entry = RULE_KINDS[kind]
    (example,) = compile_standards([("Field", "Rule"), entry.example]).rules
    params = {**dict(example.params), "retailer": "Amazon", "requirement": kind.value}
    if entry.can_be_retailer_requirement:
        rule = make_rule(entry.example[0], RuleKind.RETAILER_REQUIREMENT, params)
        assert rule.retailers == ("Amazon",) and rule.describe().endswith(example.describe().split(": ", 1)[1])
    else:
        with pytest.raises(RuleError, match="cannot be a"):
            make_rule(entry.example[0], RuleKind.RETAILER_REQUIREMENT, params)


def test_unknown_format_word_is_refused():
    with pytest.raises(RuleError, match="not a format"):
        make_rule("ISBN", "required", formats=["Hardbak"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=titles, rule_set=rule_sets)
def test_any_rule_set_evaluates_any_title(title, rule_set):
    result = evaluate(title, rule_set)
    assert 0.0 <= result.completion <= 100.0
    partition = len(result.passed) + len(result.failed) + len(result.not_applicable)
    assert partition == len(result.checks)
    assert {id(c) for c in result.passed}.isdisjoint(id(c) for c in result.failed)
    # every rule yields at least one check, and format-level rules one per checked format
    assert {c.rule.id for c in result.checks} == {r.id for r in rule_set.rules}
    for check in result.failed:
        assert check.fix
