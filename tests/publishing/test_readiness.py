"""Launch readiness: per-format items, days to publication, and the go/no-go with reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings

from addon.publishing.domain import FormatKind, PublishingStatus, Subject
from addon.publishing.readiness import GO, NO_GO, PUBLISHED, ReadinessPolicy, assess_title
from addon.publishing.rules import RuleSet, make_rule
from addon.publishing.standards import compile_standards
from tests.publishing.factories import make_format, make_title, with_format
from tests.publishing.strategies import dates, titles

TODAY = date(2026, 11, 28)


def test_complete_title_is_ready_to_announce():
    readiness = assess_title(make_title(), TODAY)
    assert readiness.decision.go and readiness.decision.headline == GO and readiness.decision.reasons == ()
    assert readiness.percent == 100.0 and readiness.ready_formats == 2
    assert readiness.days_to_publication == (date(2027, 3, 4) - TODAY).days
    assert readiness.days_to_publication_text == "Publishes in 13 weeks (4 March 2027)"
    assert [i.key for i in readiness.formats[0].items] == [
        "isbn",
        "price",
        "publication_date",
        "cover",
        "description",
        "subjects",
        "metadata",
    ]


@pytest.mark.parametrize(
    "changes, key, reason",
    [
        ({"isbn13": None, "isbn_raw": None}, "isbn", "no ISBN yet"),
        (
            {"isbn13": None, "isbn_raw": "978-1", "isbn_problem": "not a 13-digit ISBN"},
            "isbn",
            "ISBN “978-1” is not valid (not a 13-digit ISBN)",
        ),
        ({"prices": ()}, "price", "no price yet"),
        ({"planned_publication_date": None}, "publication_date", "no publication date yet"),
        ({"has_cover": False}, "cover", "no cover image yet"),
        ({"description": "  "}, "description", "no description yet"),
        ({"subjects": ()}, "subjects", "no subjects yet"),
        (
            {"subjects": (Subject("BISAC", "FIC009000"),)},
            "subjects",
            "subjects set but none marked as the main subject",
        ),
    ],
)
def test_each_missing_item_gives_no_go_with_its_reason(changes, key, reason):
    title = with_format(make_title(), FormatKind.EBOOK, **changes)
    readiness = assess_title(title, TODAY)
    ebook = next(f for f in readiness.formats if f.kind == "ebook")
    assert not ebook.item(key).ok and ebook.item(key).detail == reason
    assert readiness.decision.headline == NO_GO
    assert f"{ebook.label}: {reason}." in readiness.decision.reasons
    assert all(f.ready for f in readiness.formats if f.kind == "hardback")


def test_missing_one_currency_names_it():
    title = with_format(make_title(), FormatKind.EBOOK, prices=(make_format().prices[0],))
    ebook = assess_title(title, TODAY).formats[1]
    assert ebook.item("price").detail == "no price in USD"
    policy = ReadinessPolicy(required_currencies=("GBP",))
    assert assess_title(title, TODAY, policy=policy, rule_set=RuleSet.of([])).formats[1].ready


def test_metadata_item_follows_the_rule_set_errors_not_warnings():
    title = replace(make_title(), subtitle=None)
    strict = RuleSet.of([make_rule("Subtitle", "required")])
    lenient = RuleSet.of(
        [
            make_rule("Subtitle", "required", severity="warning"),
            make_rule("Imprint", "required", severity="warning"),
            make_rule("Title", "required", severity="warning"),
            make_rule("Series", "required", severity="warning"),
            make_rule("Season", "required", severity="warning"),
        ]
    )
    item = assess_title(title, TODAY, rule_set=strict).formats[0].item("metadata")
    assert not item.ok and "Subtitle: required" in item.detail
    lenient_item = assess_title(title, TODAY, rule_set=lenient).formats[0].item("metadata")
    assert lenient_item.ok and lenient_item.detail == "metadata 80% complete"
    below = assess_title(title, TODAY, rule_set=lenient, policy=ReadinessPolicy(min_metadata_completion=90))
    assert "only 80% complete (needs 90%)" in below.formats[0].item("metadata").detail


def test_a_standards_table_rule_set_drives_readiness():
    rules = compile_standards([("Field", "Rule"), ("Description", "min length 500")])
    readiness = assess_title(make_title(), TODAY, rule_set=rules)
    assert readiness.decision.headline == NO_GO
    assert readiness.rule_set_version == rules.version
    assert readiness.metadata_completion == 0.0


def test_no_formats_and_cancelled_formats():
    empty = assess_title(make_title(formats=()), TODAY)
    assert empty.decision == empty.decision.__class__(False, NO_GO, ("No formats are set up in Consonance yet.",))
    assert empty.days_to_publication_text == "No publication date" and empty.percent == 0.0
    cancelled = with_format(make_title(), FormatKind.EBOOK, prices=(), publishing_status=PublishingStatus("01"))
    readiness = assess_title(cancelled, TODAY)
    assert [f.kind for f in readiness.formats] == ["hardback"] and readiness.decision.go


def test_published_title_and_past_dates():
    title = make_title(formats=(make_format(publication=date(2026, 9, 3), status="04"),))
    readiness = assess_title(title, TODAY)
    assert readiness.decision.headline == PUBLISHED
    assert readiness.days_to_publication == -86
    assert readiness.days_to_publication_text == "Publication date was 12 weeks ago (3 September 2026)"


def test_earliest_format_sets_days_to_publication():
    title = make_title(
        formats=(
            make_format(FormatKind.HARDBACK, publication=date(2027, 3, 4)),
            make_format(FormatKind.EBOOK, publication=date(2026, 12, 1)),
        )
    )
    assert assess_title(title, TODAY).days_to_publication == 3


@settings(max_examples=100, deadline=None)
@given(title=titles, today=dates)
def test_any_title_gets_a_consistent_decision(title, today):
    readiness = assess_title(title, today)
    assert 0.0 <= readiness.percent <= 100.0
    if readiness.decision.headline == GO:
        assert readiness.formats and all(f.ready for f in readiness.formats) and not readiness.decision.reasons
    if readiness.decision.headline == NO_GO:
        assert readiness.decision.reasons and not readiness.decision.go
