"""Plain-English dates and spans used in reasons."""

from __future__ import annotations

from datetime import date

import pytest

from addon.publishing.wording import long_date, relative, short_date, span


def test_dates():
    assert long_date(date(2027, 3, 4)) == "4 March 2027" and short_date(date(2027, 3, 4)) == "4 Mar 2027"


@pytest.mark.parametrize(
    "days, text",
    [(0, "today"), (1, "in 1 day"), (13, "in 13 days"), (14, "in 2 weeks"), (-20, "2 weeks ago"), (-1, "1 day ago")],
)
def test_relative(days, text):
    assert relative(days) == text
    assert span(days) == ("today" if days == 0 else text.replace("in ", "").replace(" ago", ""))


def test_money_reads_as_people_write_prices():
    from decimal import Decimal

    from addon.publishing.wording import money

    assert money(Decimal("18.99"), "GBP") == "£18.99"
    assert money(Decimal("22.0"), "usd") == "$22.00"
    assert money(Decimal("1250"), "EUR") == "€1,250.00"
    assert money(Decimal("31.5"), "CAD") == "CAD 31.50"


def test_how_long_ago_is_said_as_people_say_it():
    from addon.publishing.wording import long_ago

    assert [long_ago(d) for d in (0, -1, -3, -13, -14, -40, -62, -63, -300, -729, -730, -1100)] == [
        "today",
        "1 day ago",
        "3 days ago",
        "13 days ago",
        "2 weeks ago",
        "5 weeks ago",
        "8 weeks ago",
        "2 months ago",
        "10 months ago",
        "24 months ago",
        "2 years ago",
        "3 years ago",
    ]
