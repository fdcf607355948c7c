"""Pipeline summaries: periods, stage groups in order, overdue items, readiness counts and risks."""

from __future__ import annotations

from datetime import date

import pytest

from addon.publishing.domain import DeliveryDate, FormatKind
from addon.publishing.pipeline import (
    MONTHLY,
    NO_STAGE,
    STAGE_NOT_REPORTED,
    WEEKLY,
    period_for,
    previous_period,
    summarise_pipeline,
)
from addon.publishing.risk import DELIVERY_MISSED
from tests.publishing.factories import make_format, make_task, make_title, with_format

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    "today, cadence, key, start, end",
    [
        (date(2026, 11, 28), WEEKLY, "2026-W48", date(2026, 11, 23), date(2026, 11, 29)),
        (date(2026, 11, 23), WEEKLY, "2026-W48", date(2026, 11, 23), date(2026, 11, 29)),
        (date(2027, 1, 1), WEEKLY, "2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
        (date(2025, 12, 29), WEEKLY, "2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        (date(2026, 11, 28), MONTHLY, "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        (date(2024, 2, 10), MONTHLY, "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ],
)
def test_periods(today, cadence, key, start, end):
    period = period_for(today, cadence)
    assert (period.key, period.start, period.end) == (key, start, end)
    assert period.contains(today) and not period.contains(end.fromordinal(end.toordinal() + 1))


def test_period_titles_and_previous():
    assert period_for(TODAY, MONTHLY).title == "Pipeline summary — November 2026"
    assert period_for(TODAY, WEEKLY).title == "Pipeline summary — week 48, 2026 (23 Nov 2026 to 29 Nov 2026)"
    assert previous_period(period_for(TODAY, WEEKLY)).key == "2026-W47"
    assert previous_period(period_for(date(2026, 1, 15), MONTHLY)).key == "2025-12"
    with pytest.raises(ValueError):
        period_for(TODAY, "daily")


def catalogue():
    return [
        make_title(work_id="w1", title="Zebra Crossing", stage="Production"),
        make_title(work_id="w2", title="Almanac", stage="Writing", delivery=DeliveryDate(date(2026, 10, 1))),
        make_title(work_id="w3", title="Bells", stage="Writing", delivery=DeliveryDate(date(2027, 2, 1))),
        with_format(
            make_title(
                work_id="w4",
                title="Cartographer",
                stage="Proofs",
                formats=(
                    make_format(FormatKind.HARDBACK, publication=date(2026, 11, 26)),
                    make_format(FormatKind.AUDIOBOOK, publication=date(2026, 11, 26)),
                ),
            ),
            FormatKind.AUDIOBOOK,
            has_cover=False,
        ),
        make_title(work_id="w5", title="Drift", stage=None),
        make_title(work_id="w6", title="Echo", stage="Acquisitions board"),
    ]


def test_titles_by_stage_in_workflow_order_with_unknown_and_missing_stages_last():
    summary = summarise_pipeline(catalogue(), TODAY)
    assert summary.total_titles == 6
    counts = dict(summary.stage_counts)
    assert counts["Writing"] == 2 and counts["Production"] == 1 and counts["Acquisition"] == 0
    names = [name for name, _ in summary.stage_counts]
    assert names.index("Writing") < names.index("Proofs") < names.index("Production")
    assert "Published" not in names  # the pipeline is what is not yet published
    assert names[-2:] == ["Acquisitions board", NO_STAGE]
    writing = next(g for g in summary.stages if g.stage == "Writing")
    assert [line.title for line in writing.titles] == ["Almanac", "Bells"]
    compact = summarise_pipeline(catalogue(), TODAY, include_empty_stages=False)
    assert all(count for _, count in compact.stage_counts)


def test_where_consonance_has_no_stages_the_titles_are_not_reported_rather_than_missing_a_stage():
    unstaged = [make_title(work_id=f"w{n}", title=f"Title {n}", stage=None) for n in range(3)]
    summary = summarise_pipeline(unstaged, TODAY, not_reported={"stage", "tasks"})
    assert summary.stage_counts == ((STAGE_NOT_REPORTED, 3),)  # no "0 in Writing" rows, no "No stage"
    assert summary.not_reported == {"stage", "tasks"}
    assert dict(summarise_pipeline(unstaged, TODAY).stage_counts)[NO_STAGE] == 3  # stages exist, these lack one


def test_overdue_is_open_past_due_todos_and_slipped_deliveries_with_since_and_owner():
    tasks = [
        make_task("t1", title="Approve cover", due=date(2026, 11, 20), work_id="w1", assignee="Priya"),
        make_task(
            "t2",
            title="Print PDF signed off",
            due=date(2026, 11, 1),
            work_id="w3",
            external_ref="c4c-gate:w3:print-pdf",
        ),
        make_task("t3", title="Done already", status="COMPLETE", due=date(2026, 11, 1)),
        make_task("t4", title="Due later", due=date(2026, 12, 1)),
    ]
    titles = catalogue() + [
        make_title(
            work_id="w7", title="Ferry", stage="Writing", delivery=DeliveryDate(date(2026, 9, 1), date(2027, 1, 15))
        ),
        make_title(  # a published title's old slip is history, not overdue
            work_id="w8",
            title="Gorse",
            stage="Published",
            delivery=DeliveryDate(date(2024, 9, 1), date(2024, 10, 1)),
            formats=(make_format(publication=date(2025, 6, 1), status="04"),),
        ),
    ]
    summary = summarise_pipeline(titles, TODAY, tasks=tasks)
    assert [(o.kind, o.title, o.what, o.due, o.days_overdue, o.owner) for o in summary.overdue] == [
        ("delivery", "Ferry", "Manuscript delivery slipped to 15 January 2027", date(2026, 9, 1), 88, None),
        ("gate", "Bells", "Print PDF signed off", date(2026, 11, 1), 27, None),
        ("task", "Zebra Crossing", "Approve cover", date(2026, 11, 20), 8, "Priya"),
    ]
    assert summary.total_titles == 7 and summary.backlist == 1


def test_format_readiness_counts_and_risks():
    summary = summarise_pipeline(catalogue(), TODAY)
    counts = {c.kind: (c.total, c.ready, c.not_ready, c.late) for c in summary.format_readiness}
    assert counts == {"hardback": (6, 6, 0, 0), "ebook": (5, 5, 0, 0), "audiobook": (1, 0, 1, 1)}
    assert [c.kind for c in summary.format_readiness] == ["hardback", "ebook", "audiobook"]
    kinds = {(r.work_id, r.kind) for r in summary.risks}
    assert ("w2", DELIVERY_MISSED) in kinds
    assert ("w4", "past_date_not_published") in kinds
    assert all(r.reason for r in summary.risks)
    assert summary.high_risks


def test_publishing_in_period_and_determinism():
    summary = summarise_pipeline(catalogue(), TODAY)
    assert [line.work_id for line in summary.publishing_in_period] == ["w4"]
    assert summarise_pipeline(list(reversed(catalogue())), TODAY) == summary


def test_empty_catalogue():
    summary = summarise_pipeline([], TODAY, cadence=MONTHLY)
    assert summary.total_titles == 0 and summary.risks == () and summary.period.key == "2026-11"
