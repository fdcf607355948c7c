"""Plain-English dates and durations for reasons people read ("publishes in 5 weeks, on 4 March 2027").

Locale-free on purpose: workers and web processes may run with different locales, and the same
input must give the same page text everywhere (regeneration is idempotent).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: date) -> str:
    """4 March 2027."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    """4 Mar 2027."""
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def span(days: int) -> str:
    """A distance in days as people say it: "today", "3 days", "5 weeks" (weeks from 14 days on)."""
    days = abs(days)
    if days == 0:
        return "today"
    if days < 14:
        return plural(days, "day")
    return plural(days // 7, "week")


def relative(days: int) -> str:
    """ "in 5 weeks", "3 days ago", "today"."""
    if days == 0:
        return "today"
    return f"in {span(days)}" if days > 0 else f"{span(days)} ago"


def long_ago(days: int) -> str:
    """How long ago a day in the past was, as people say it of a book on the backlist: "3 days ago",
    "5 weeks ago", "11 months ago", "3 years ago" (a distance of 1,100 days is not counted in days)."""
    days = abs(days)
    if days < 14:
        return "today" if days == 0 else f"{plural(days, 'day')} ago"
    if days < 9 * 7:
        return f"{plural(days // 7, 'week')} ago"
    if days < 2 * 365:
        return f"{plural(max(2, round(days / 30.44)), 'month')} ago"
    return f"{plural(round(days / 365.25), 'year')} ago"


_CURRENCY_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}


def money(amount: float | Decimal | None, currency: str) -> str:
    """A price as people write it: "£18.99", "$24.00", "CAD 31.50" (two decimals, symbol when common)."""
    code = (currency or "").upper()
    text = f"{amount:,.2f}" if amount is not None else "?"
    symbol = _CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{code} {text}".strip()
