"""Launch readiness: per-format items with when each is due, and the title's verdict with its reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings

from addon.publishing.domain import DeliveryDate, FormatKind, PublishingStatus, Stage, Subject
from addon.publishing.readiness import (
    GO,
    NO_GO,
    PUBLISHED,
    TOO_EARLY,
    V_GO,
    V_NO_GO,
    V_PUBLISHED,
    V_TOO_EARLY,
    ReadinessPolicy,
    assess_title,
)
from addon.publishing.rules import RuleSet, evaluate, make_rule
from addon.publishing.schedule import ReadinessSchedule
from addon.publishing.standards import compile_standards
from tests.publishing.factories import make_format, make_title, with_format
from tests.publishing.strategies import dates, titles

TODAY = date(2026, 11, 28)
SOON = date(2027, 1, 2)  # 5 weeks out: every default item is due


def soon_title(**changes):
    return make_title(
        formats=(make_format(FormatKind.HARDBACK, publication=SOON), make_format(FormatKind.EBOOK, publication=SOON)),
        **changes,
    )


def test_complete_title_is_ready_to_announce():
    readiness = assess_title(make_title(), TODAY)
    assert readiness.decision.go and readiness.decision.headline == GO and readiness.decision.reasons == ()
    assert readiness.decision.why == "Everything due by now is in place."
    assert readiness.ready_formats == 2
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
    assert readiness.formats[0].item("isbn").detail == "9781402894626"  # the label says ISBN already


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
def test_each_missing_item_due_by_now_gives_no_go_with_its_reason(changes, key, reason):
    title = with_format(soon_title(), FormatKind.EBOOK, **changes)
    readiness = assess_title(title, TODAY)
    ebook = next(f for f in readiness.formats if f.kind == "ebook")
    assert not ebook.item(key).ok and ebook.item(key).detail == reason and ebook.item(key).late
    assert readiness.decision.headline == NO_GO and readiness.decision.verdict == V_NO_GO
    due = SOON - timedelta(weeks=ReadinessSchedule().weeks_for(key))
    assert any(r.startswith(f"{ebook.label}: {reason}") and str(due.year) in r for r in readiness.decision.reasons)
    assert readiness.decision.why != readiness.decision.headline


def test_what_is_not_due_yet_does_not_stop_an_announcement():
    title = with_format(make_title(), FormatKind.EBOOK, has_cover=False)  # 13 weeks out; covers are due at 12
    readiness = assess_title(title, TODAY)
    cover = readiness.formats[1].item("cover")
    assert not cover.ok and not cover.late and cover.state == "to come" and cover.due == date(2026, 12, 10)
    assert readiness.decision.verdict == V_GO
    assert readiness.decision.why == "Everything due by now is in place: still to come cover by 10 December 2026."
    later = assess_title(title, date(2026, 12, 10))
    assert later.decision.verdict == V_NO_GO and "no cover image yet" in later.decision.reasons[0]


def test_an_early_title_is_too_early_to_judge_and_lists_only_what_is_late():
    far = date(2028, 6, 1)
    early = make_title(
        stage="Acquisition",
        delivery=DeliveryDate(date(2027, 2, 1)),
        formats=(make_format(publication=far, isbn13=None, isbn_raw=None, prices=(), has_cover=False),),
    )
    readiness = assess_title(early, TODAY)
    assert readiness.decision.headline == TOO_EARLY and readiness.decision.verdict == V_TOO_EARLY
    assert readiness.decision.reasons == ()
    assert "judged from 26 weeks before publication" in readiness.decision.why
    late = replace(early, stage=Stage("Acquisition"), formats=(make_format(publication=date(2027, 8, 1)),))
    lagging = assess_title(late, TODAY)  # 35 weeks out and not even delivered: that is late already
    assert lagging.decision.verdict == V_TOO_EARLY
    assert lagging.decision.reasons == (
        "still at Acquisition, should have reached Manuscript delivered by 25 October 2026 (40 weeks before "
        "publication)",
    )
    missed = assess_title(replace(late, contracts=make_title().contracts), TODAY)  # due 1 May 2026, not in
    assert missed.decision.reasons[0] == "manuscript was due 1 May 2026"


def test_missing_one_currency_names_it():
    title = with_format(soon_title(), FormatKind.EBOOK, prices=(make_format().prices[0],))
    ebook = assess_title(title, TODAY).formats[1]
    assert ebook.item("price").detail == "no price in USD"
    policy = ReadinessPolicy(required_currencies=("GBP",))
    assert assess_title(title, TODAY, policy=policy, rule_set=RuleSet.of([])).formats[1].ready


def test_metadata_item_follows_the_rule_set_errors_not_warnings_and_shows_the_one_figure():
    title = replace(soon_title(), subtitle=None)
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
    assert not item.ok and item.detail == "metadata 0% complete; fails Subtitle: required"  # no doubled quotes
    lenient_item = assess_title(title, TODAY, rule_set=lenient).formats[0].item("metadata")
    assert lenient_item.ok and lenient_item.detail == "metadata 80% complete"
    below = assess_title(title, TODAY, rule_set=lenient, policy=ReadinessPolicy(min_metadata_completion=90))
    assert "only 80% complete (needs 90%)" in below.formats[0].item("metadata").detail


def test_one_completeness_figure_per_title_and_rule_set():
    title = with_format(soon_title(), FormatKind.EBOOK, prices=())  # fails on one format only
    readiness = assess_title(title, TODAY)
    from addon.publishing.standards import DEFAULT_RULE_SET

    figure = evaluate(title, DEFAULT_RULE_SET).completion
    assert readiness.metadata_completion == figure
    assert {f.metadata_completion for f in readiness.formats} == {figure}


def test_a_standards_table_rule_set_drives_readiness():
    rules = compile_standards([("Field", "Rule"), ("Description", "min length 500")])
    readiness = assess_title(soon_title(), TODAY, rule_set=rules)
    assert readiness.decision.headline == NO_GO
    assert readiness.rule_set_version == rules.version
    assert readiness.metadata_completion == 0.0


def test_no_formats_and_cancelled_formats():
    empty = assess_title(make_title(formats=()), TODAY)
    assert empty.decision.headline == NO_GO and empty.decision.reasons == ("No formats are set up in Consonance yet.",)
    assert empty.days_to_publication_text == "No publication date"
    cancelled = with_format(soon_title(), FormatKind.EBOOK, prices=(), publishing_status=PublishingStatus("01"))
    readiness = assess_title(cancelled, TODAY)
    assert [f.kind for f in readiness.formats] == ["hardback"] and readiness.decision.go


def test_published_title_says_published_with_date_and_what_is_on_sale():
    title = make_title(
        stage="Published",
        formats=(
            make_format(FormatKind.HARDBACK, publication=date(2026, 9, 3), status="04"),
            make_format(FormatKind.PAPERBACK, publication=date(2027, 9, 3), status="02", has_cover=False),
        ),
    )
    readiness = assess_title(title, TODAY)
    assert readiness.decision.headline == PUBLISHED and readiness.decision.verdict == V_PUBLISHED
    assert readiness.days_to_publication == -86
    assert readiness.days_to_publication_text == "Publication date was 12 weeks ago (3 September 2026)"
    assert readiness.decision.why == (
        "Published on 3 September 2026. On sale: Hardback 9781402894626. "
        "Still to come: Paperback 9780306406157 on 3 September 2027."
    )
    out_of_print = replace(title, formats=(make_format(publication=date(2020, 1, 9), status="07"),))
    assert assess_title(out_of_print, TODAY).decision.why == (
        "Published on 9 January 2020. On sale: no format is on sale now. "
        "No longer on sale: Hardback 9781402894626 (status 07)."
    )
    stage_only = replace(title, formats=(make_format(publication=date(2026, 9, 3), status="02"),))
    assert assess_title(stage_only, TODAY).decision.verdict == V_PUBLISHED  # Consonance's stage says so
    early = replace(title, formats=(make_format(publication=date(2027, 1, 3), status="02"),))
    assert assess_title(early, TODAY).decision.why == (  # marked Published before its day: both said as they are
        "Marked Published in Consonance ahead of its publication date, 3 January 2027. "
        "On sale: no format is on sale now. Still to come: Hardback 9781402894626 on 3 January 2027."
    )


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
    decision = readiness.decision
    assert decision.verdict in (V_PUBLISHED, V_GO, V_NO_GO, V_TOO_EARLY) and decision.why
    if decision.verdict == V_GO:
        assert readiness.formats and not readiness.late_items and not decision.reasons
    if decision.verdict == V_NO_GO:
        assert decision.reasons and not decision.go
    if decision.verdict != V_PUBLISHED:
        assert decision.headline != PUBLISHED


def test_the_stage_guide_can_say_what_must_be_in_place_when():
    from addon.publishing.schedule import schedule_from_tables

    guide = [
        ("Stage", "Reviewers", "Next step", "Weeks before publication", "Must be in place"),
        ("Copy-editing", "Ana", "Send to the copy-editor", "30 weeks", "ISBN, publication date and price"),
        ("Proofs", "Tom", "Collect corrections", "16", "cover; description"),
        ("Production", "", "", "", "metadata"),  # no weeks: ignored
    ]
    schedule = schedule_from_tables([[("Other",)], guide])
    assert dict(schedule.lead_weeks) == {
        "publication_date": 30,
        "isbn": 30,
        "price": 30,
        "subjects": 20,  # not named: the documented default
        "description": 16,
        "cover": 16,
        "metadata": 8,
    }
    assert schedule.judge_from_weeks == 30
    assert schedule_from_tables([guide[:1] and [r[:3] for r in guide]]) is None  # no such columns: defaults apply
    title = with_format(make_title(), FormatKind.EBOOK, has_cover=False)  # 13 weeks out
    assert assess_title(title, TODAY).decision.verdict == V_GO  # default: covers due at 12 weeks
    strict = assess_title(title, TODAY, policy=ReadinessPolicy(schedule=schedule))
    assert strict.decision.verdict == V_NO_GO and "no cover image yet" in strict.decision.reasons[0]


def test_the_checklist_column_reads_lists_paragraphs_and_plain_punctuation():
    from addon.confluence.storage_parse import find_tables
    from addon.publishing.schedule import schedule_from_tables

    def due(cell: str) -> dict:
        page = (
            "<table><tbody><tr><th>Stage</th><th>Weeks before publication</th><th>Must be in place</th></tr>"
            f"<tr><td>Copy-editing</td><td>30</td><td>{cell}</td></tr></tbody></table>"
        )
        schedule = schedule_from_tables(find_tables(page))
        assert schedule is not None, cell
        return {item: weeks for item, weeks in schedule.lead_weeks if weeks == 30}

    for cell in (
        "<ul><li><p>ISBN</p></li><li><p>Price</p></li></ul>",
        "<p>ISBN<br />Price</p>",
        "<p>ISBN</p><p>Price</p>",
    ):
        assert due(cell) == {"isbn": 30, "price": 30}
    assert due("<p>ISBN (13 digits), price &amp; cover image.</p>") == {"isbn": 30, "price": 30, "cover": 30}
