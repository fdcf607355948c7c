"""Release-risk rules: each fires on its condition, stays quiet otherwise, and says why."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings

from addon.publishing.domain import DeliveryDate, FormatKind, PublishingStatus
from addon.publishing.risk import (
    DELIVERY_MISSED,
    DELIVERY_SLIPPED,
    LATE_FOR_STAGE,
    NO_DATE_FOR_SEASON,
    PAST_DATE_NOT_PUBLISHED,
    SOON_NOT_READY,
    RiskThresholds,
    assess_risks,
    missed_deliveries,
    season_start,
)
from tests.publishing.factories import make_format, make_title, with_format
from tests.publishing.strategies import dates, titles

TODAY = date(2026, 11, 28)


def kinds(title, **kwargs):
    return [r.kind for r in assess_risks(title, kwargs.pop("today", TODAY), **kwargs)]


def test_a_healthy_title_has_no_risks():
    assert kinds(make_title()) == []


def unready_soon(days: int):
    title = make_title(
        formats=(
            make_format(
                FormatKind.HARDBACK,
                publication=date.fromordinal(TODAY.toordinal() + days),
                prices=(),
                has_cover=False,
                description=None,
            ),
        )
    )
    return title


def test_publishing_soon_with_low_readiness():
    risks = assess_risks(unready_soon(35), TODAY)
    assert [r.kind for r in risks] == [SOON_NOT_READY]
    assert risks[0].reason.startswith(
        "Publishes in 5 weeks (2 January 2027) with 4 things that should be in place by now missing:"
    )
    assert "no price yet" in risks[0].reason
    assert kinds(unready_soon(8 * 7 + 1)) == []  # outside the window
    assert kinds(unready_soon(8 * 7)) == [SOON_NOT_READY]  # the window is inclusive
    assert kinds(unready_soon(70), thresholds=RiskThresholds(soon_weeks=12)) == [SOON_NOT_READY]
    assert kinds(make_title(formats=(make_format(publication=date(2027, 1, 2)),))) == []  # all in place


def test_slipped_delivery_before_the_manuscript_is_in():
    title = make_title(stage="Writing", delivery=DeliveryDate(date(2027, 1, 10), slipped_date=date(2027, 2, 21)))
    risks = assess_risks(title, TODAY)
    assert [r.kind for r in risks] == [LATE_FOR_STAGE, DELIVERY_SLIPPED]  # Writing 14 weeks out is late too
    assert risks[1].reason == "Manuscript delivery slipped from 10 January 2027 to 21 February 2027 (6 weeks later)."
    assert kinds(replace(title, stage=title.stage.__class__("Proofs"))) == []


def test_missed_delivery_is_due_before_today_and_not_delivered():
    title = make_title(stage="Contracted", delivery=DeliveryDate(date(2026, 10, 1)))
    risks = assess_risks(title, TODAY)
    assert [r.kind for r in risks] == [DELIVERY_MISSED, LATE_FOR_STAGE]
    assert risks[0].reason == "Manuscript was due 1 October 2026, 8 weeks ago, and the title is still at Contracted."
    assert missed_deliveries(title, TODAY) == (date(2026, 10, 1),)
    assert kinds(make_title(stage="Manuscript delivered", delivery=DeliveryDate(date(2026, 10, 1)))) == [LATE_FOR_STAGE]
    assert kinds(make_title(stage=None, delivery=DeliveryDate(date(2026, 10, 1)))) == []  # stage unknown: no claim
    assert kinds(make_title(stage="Writing", delivery=DeliveryDate(date(2026, 11, 28)))) == [LATE_FOR_STAGE]


def test_past_publication_date_without_published_status():
    title = make_title(formats=(make_format(publication=date(2026, 11, 1), status="02"),))
    title = with_format(title, FormatKind.HARDBACK, publishing_status=PublishingStatus("02", "Forthcoming"))
    risks = assess_risks(title, TODAY)
    assert [r.kind for r in risks] == [PAST_DATE_NOT_PUBLISHED]
    assert risks[0].product_id == "p-hardback"
    assert "was 3 weeks ago but its publishing status is Forthcoming, not published" in risks[0].reason
    published = with_format(title, FormatKind.HARDBACK, publishing_status=PublishingStatus("04", "Active"))
    assert kinds(published) == []


def test_no_publication_date_close_to_the_season():
    title = replace(make_title(formats=(make_format(publication=None),)), season="Spring 2027")
    risks = assess_risks(title, TODAY)
    assert NO_DATE_FOR_SEASON in [r.kind for r in risks]
    reason = next(r.reason for r in risks if r.kind == NO_DATE_FOR_SEASON)
    assert reason == "The Spring 2027 list starts in 4 weeks (1 January 2027) and no format has a publication date."
    assert NO_DATE_FOR_SEASON not in kinds(replace(title, season="Autumn 2027"))
    assert NO_DATE_FOR_SEASON in kinds(replace(title, season="Autumn 2027"), today=date(2027, 7, 1))
    assert NO_DATE_FOR_SEASON not in kinds(replace(title, season="someday"))


@pytest.mark.parametrize(
    "season, start",
    [
        ("Spring 2027", date(2027, 1, 1)),
        ("2027 Autumn", date(2027, 9, 1)),
        ("Fall 2027", date(2027, 9, 1)),
        ("March 2027", date(2027, 3, 1)),
        ("Q3 2027", date(2027, 7, 1)),
        ("Summer, 2026", date(2026, 5, 1)),
        ("Spring", None),
        ("Spring 2027/2028", None),
        (None, None),
    ],
)
def test_season_start(season, start):
    assert season_start(season) == start


def test_custom_season_calendar():
    uk = (("spring", 1, 1), ("autumn", 7, 1))
    assert season_start("Autumn 2027", uk) == date(2027, 7, 1)


def test_risks_are_ordered_high_first():
    title = make_title(
        stage="Writing",
        delivery=DeliveryDate(date(2027, 1, 10), slipped_date=date(2027, 2, 21)),
        formats=(make_format(publication=date(2026, 11, 1)),),
    )
    severities = [r.severity for r in assess_risks(title, TODAY)]
    assert severities == sorted(severities, key=lambda s: s != "high") and "medium" in severities


@settings(max_examples=100, deadline=None)
@given(title=titles, today=dates)
def test_any_title_assesses_without_error_and_every_risk_has_a_reason(title, today):
    for risk in assess_risks(title, today):
        assert risk.reason.endswith(".") and risk.work_id == title.work_id


def test_late_for_its_stage_uses_the_stage_deadlines():
    in_proofs = make_title(stage="Proofs", formats=(make_format(publication=date(2026, 12, 16)),))  # 18 days out
    risks = assess_risks(in_proofs, TODAY)
    assert [r.kind for r in risks] == [LATE_FOR_STAGE]
    assert risks[0].reason == (
        "Still at Proofs 2 weeks before publication (16 December 2026); it should have reached Production by "
        "4 November 2026."
    )
    assert kinds(replace(in_proofs, stage=in_proofs.stage.__class__("Production"))) == []
    from addon.publishing.readiness import ReadinessPolicy, assess_title
    from addon.publishing.schedule import StageDeadlines

    relaxed = ReadinessPolicy(stage_deadlines=StageDeadlines.from_mapping({"Production": 0}))
    assert kinds(in_proofs, readiness=assess_title(in_proofs, TODAY, policy=relaxed)) == []
