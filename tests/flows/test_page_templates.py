"""The pipeline summary's generated region says what it counts, and what this Consonance cannot report."""

from __future__ import annotations

from datetime import date

import pytest

from addon.flows.page_templates import summary_region_inner
from addon.publishing.pipeline import summarise_pipeline
from tests.publishing.factories import make_title

TODAY = date(2026, 11, 28)


def region(not_reported=(), stage="Writing") -> str:
    titles = [make_title(work_id="w1", title="Almanac", stage=stage)]
    return summary_region_inner(summarise_pipeline(titles, TODAY, not_reported=not_reported), "chart.png").xml


@pytest.mark.parametrize(
    "not_reported, says, never",
    [
        (
            (),
            "0 overdue: open Consonance to-dos past their due date and slipped manuscript delivery dates.",
            "not report",
        ),
        (
            ("tasks",),
            "0 overdue: slipped manuscript delivery dates. Not counted: to-dos, which your Consonance does not report.",
            "open Consonance to-dos past",
        ),
        (
            ("tasks", "contracts"),
            "Your Consonance reports neither to-dos nor contract delivery dates, so nothing is counted as overdue.",
            "0 overdue",
        ),
    ],
)
def test_overdue_says_what_it_counts(not_reported, says, never):
    text = region(not_reported)
    assert says in text and never not in text


def test_a_consonance_without_stages_is_said_so_instead_of_every_title_lacking_one():
    text = region(("stage",), stage=None)
    assert "Your Consonance does not report titles' workflow stages" in text
    assert "Not reported by Consonance" in text and "No stage" not in text and "Writing" not in text


def test_about_the_book_credits_a_translator_as_a_translator():
    from addon.flows.page_templates import about_region_inner
    from addon.publishing.domain import Contributor

    title = make_title(contributors=(Contributor("Sappho", "A01"), Contributor("Anne Carson", "B06")))
    assert "Sappho; translated by Anne Carson" in str(about_region_inner(title))
