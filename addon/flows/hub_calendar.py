"""A launch hub's campaign calendar: per title its announce-by and publication dates, and the marketing
dates people wrote on the hub (a date in a table row or a list item of their campaign plan), as a table
people can sort and a month view, in an owned region refreshed with the hub's table.
"""

from __future__ import annotations

import calendar as cal
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from lxml import etree

from addon.confluence import storage as s
from addon.confluence.storage_parse import text_of
from addon.extensions import db
from addon.flows.owned_pages import write_region
from addon.flows.page_layout import PageFormatError, find_date, normalise, read_page
from addon.platform.models import Tenant, tenant_query
from addon.publishing.wording import MONTHS, long_date
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.flows.hub_calendar")

REGION = "campaign-calendar"
ANNOUNCE_WEEKS = 12  # announce a title to the trade about three months before publication
MAX_MONTHS = 12


@dataclass(frozen=True)
class CalendarDate:
    day: date
    what: str  # "Announce by", "Publication", or the marketing line as written
    title: str  # the title's name ("" for a hub-wide date)
    kind: str  # "announce", "publication", "marketing"


def marketing_dates(storage: str, titles: list[str]) -> list[CalendarDate]:
    """Dates people wrote on the hub outside the app's regions: table rows and list items with a date."""
    try:
        root = read_page(storage)
    except PageFormatError as exc:
        log.info("hub page unreadable for its calendar: %s", exc)
        return []
    found: list[CalendarDate] = []
    for block in root.iter("tr", "li"):
        if block.tag == "li" and any(a.tag == "tr" for a in block.iterancestors()):
            continue
        day = _date_in(block)
        if day is None:
            continue
        words = normalise(text_of(block, lines=True))  # a lozenge as its title, a /date as its date
        title = next((t for t in titles if t and t.casefold() in words.casefold()), "")
        found.append(CalendarDate(day, words[:200] or "Marketing date", title, "marketing"))
    return found


def _date_in(block: etree._Element) -> date | None:
    for node in block.iter("time"):
        try:
            return date.fromisoformat((node.get("datetime") or "")[:10])
        except ValueError:
            continue
    cells = [c for c in block if c.tag in ("td", "th")] if block.tag == "tr" else [block]
    for cell in cells:
        if cell.tag == "th":
            continue  # a header cell (a header row, or the row's name in a table with a header column)
        day = find_date(normalise("".join(cell.itertext())))
        if day:
            return day
    return None


def title_dates(lines) -> list[CalendarDate]:
    out = []
    for line in lines:
        if line.publication_date is None:
            continue
        out.append(
            CalendarDate(line.publication_date - timedelta(weeks=ANNOUNCE_WEEKS), "Announce by", line.title, "announce")
        )
        out.append(CalendarDate(line.publication_date, "Publication", line.title, "publication"))
    return out


def calendar_inner(dates: list[CalendarDate], homes: dict[str, str]) -> s.Fragment:
    """The table (one row per date, in date order; Confluence lets people sort it) and a month view."""
    dates = sorted(dates, key=lambda d: (d.day, d.kind != "announce", d.title))
    if not dates:
        return s.trusted(s.document(s.paragraph("No dates yet: titles in this hub have no publication date.")))

    def title_cell(name: str):
        return s.page_link(homes[name]) if name in homes else (name or "All titles")

    rows = [[long_date(d.day), title_cell(d.title), d.what] for d in dates]
    parts = [
        s.heading(3, "All dates"),
        s.table(["Date", "Title", "What"], rows),
        s.heading(3, "By month"),
    ]
    months = sorted({(d.day.year, d.day.month) for d in dates})[:MAX_MONTHS]
    for year, month in months:
        parts.append(s.heading(4, f"{MONTHS[month - 1]} {year}"))
        parts.append(_month_grid(year, month, [d for d in dates if (d.day.year, d.day.month) == (year, month)]))
    parts.append(
        s.paragraph(
            s.emphasis(
                f"Announce-by is {ANNOUNCE_WEEKS} weeks before publication. Marketing dates come from the dated rows "
                "and items you write on this page; they appear here when the hub is next refreshed."
            )
        )
    )
    return s.trusted(s.document(*parts))


def _month_grid(year: int, month: int, dates: list[CalendarDate]) -> s.Fragment:
    by_day: dict[int, list[str]] = {}
    for d in dates:
        named = d.title and d.title.casefold() not in d.what.casefold()  # "Ad for The Salt Road" names it already
        by_day.setdefault(d.day.day, []).append(f"{d.what}: {d.title}" if named else d.what)
    weeks: list[list[s.Content]] = []
    for week in cal.Calendar(firstweekday=0).monthdayscalendar(year, month):
        cells: list[s.Content] = []
        for day in week:
            if not day:
                cells.append("")
            elif day in by_day:
                cells.append([s.strong(str(day)), *[s.paragraph(item[:120]) for item in by_day[day]]])
            else:
                cells.append(str(day))
        weeks.append(cells)
    return s.table(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], weeks)


def _homes(tenant: Tenant, lines) -> dict[str, str]:
    """Title name → the title of its home page (for links), for the hub's titles."""
    by_work = {str(line.work_id): line.title for line in lines}
    rows: Iterable[TitlePage] = db.session.execute(
        tenant_query(TitlePage, tenant).where(
            TitlePage.role == roles.HOME, TitlePage.work_id.in_(list(by_work) or [""])
        )
    ).scalars()
    return {by_work[row.work_id]: row.title for row in rows if row.title}


def write_calendar(tenant: Tenant, client, page_id: str, lines) -> bool:
    """Refresh the hub's calendar region (added under "Campaign calendar" the first time)."""
    page = client.get_page(page_id)
    dates = title_dates(lines) + marketing_dates(page.body or "", [line.title for line in lines])
    inner = calendar_inner(dates, _homes(tenant, lines))
    written = write_region(
        tenant, client, page_id, REGION, inner, message="campaign calendar", heading="Campaign calendar"
    )
    db.session.commit()
    return written
