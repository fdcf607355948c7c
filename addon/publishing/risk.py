"""Release-risk rules for pipeline summaries and launch hubs (F6, F7), each risk with its reason in words.

Leadership reads a list of titles at risk; each entry must say why, by a rule that is documented in
docs/publishing-rules.md and tunable per tenant through RiskThresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from . import schedule
from .domain import Title
from .formats import format_label, is_published, live_formats
from .readiness import TitleReadiness, assess_title
from .rules import RuleSet
from .stages import has_reached, stage_rank
from .wording import MONTHS, long_date, relative, span

SOON_NOT_READY = "publishing_soon_not_ready"
LATE_FOR_STAGE = "late_for_stage"
DELIVERY_SLIPPED = "delivery_slipped"
DELIVERY_MISSED = "delivery_missed"
PAST_DATE_NOT_PUBLISHED = "past_date_not_published"
NO_DATE_FOR_SEASON = "no_date_for_season"

HIGH = "high"
MEDIUM = "medium"

DEFAULT_SEASON_STARTS = (("spring", 1, 1), ("summer", 5, 1), ("autumn", 9, 1), ("fall", 9, 1))


@dataclass(frozen=True)
class RiskThresholds:
    """Per-tenant settings for the release-risk rules (defaults documented in docs/publishing-rules.md)."""

    soon_weeks: int = 8  # rule 1: publishing within this many weeks with readiness items late
    season_lead_weeks: int = 12  # rule 5: no publication date this close to the season's start
    delivered_stage: str = "manuscript delivered"  # a title at or past this stage has delivered its manuscript
    season_starts: tuple[tuple[str, int, int], ...] = DEFAULT_SEASON_STARTS  # (season word, month, day)


@dataclass(frozen=True)
class Risk:
    work_id: str
    title: str
    kind: str
    severity: str
    reason: str
    product_id: str | None = None


def assess_risks(
    title: Title,
    today: date,
    *,
    readiness: TitleReadiness | None = None,
    thresholds: RiskThresholds | None = None,
    rule_set: RuleSet | None = None,
) -> tuple[Risk, ...]:
    """Every release risk for one title as of `today`, most severe first."""
    thresholds = thresholds or RiskThresholds()
    readiness = readiness or assess_title(title, today, rule_set=rule_set)
    risks = [
        *_soon_not_ready(title, readiness, thresholds),
        *_late_for_stage(title, readiness),
        *_delivery(title, today, thresholds),
        *_past_date_not_published(title, today),
        *_no_date_for_season(title, today, thresholds),
    ]
    return tuple(sorted(risks, key=lambda r: (r.severity != HIGH, r.kind, r.product_id or "")))


def _risk(title: Title, kind: str, severity: str, reason: str, product_id: str | None = None) -> Risk:
    return Risk(title.work_id, title.title, kind, severity, reason, product_id)


def _soon_not_ready(title: Title, readiness: TitleReadiness, thresholds: RiskThresholds) -> list[Risk]:
    """Publishing within the window with something that should be in place by now still missing."""
    pending = [f for f in readiness.formats if not f.published and f.days_to_publication is not None]
    if not pending:
        return []
    first = min(days for f in pending if (days := f.days_to_publication) is not None)
    missing = list(readiness.late_items)
    if not 0 <= first <= thresholds.soon_weeks * 7 or not missing:
        return []
    when = min(f.publication_date for f in pending if f.publication_date)
    shown = "; ".join(missing[:3]) + (f"; and {len(missing) - 3} more" if len(missing) > 3 else "")
    return [
        _risk(
            title,
            SOON_NOT_READY,
            HIGH,
            f"Publishes {relative(first)} ({long_date(when)}) with {len(missing)} thing"
            f"{'s' if len(missing) != 1 else ''} that should be in place by now missing: {shown}.",
        )
    ]


def _late_for_stage(title: Title, readiness: TitleReadiness) -> list[Risk]:
    late = readiness.stage_late
    if late is None or readiness.publication_date is None:
        return []
    return [
        _risk(
            title,
            LATE_FOR_STAGE,
            HIGH if late.weeks <= 14 else MEDIUM,
            f"Still at {late.stage} {span(readiness.days_to_publication or 0)} before publication "
            f"({long_date(readiness.publication_date)}); it should have reached {late.expected} by "
            f"{long_date(late.since)}.",
        )
    ]


def _delivered(title: Title, thresholds: RiskThresholds) -> bool | None:
    """Whether the manuscript is in, judged by stage; None when the stage is unknown."""
    if title.stage is None or stage_rank(title.stage.name) is None:
        return None
    return has_reached(title.stage, thresholds.delivered_stage)


def missed_deliveries(title: Title, today: date, thresholds: RiskThresholds | None = None) -> tuple[date, ...]:
    """Expected manuscript delivery dates before today for a title whose stage says it is not delivered."""
    return schedule.missed_deliveries(title, today, (thresholds or RiskThresholds()).delivered_stage)


def _delivery(title: Title, today: date, thresholds: RiskThresholds) -> list[Risk]:
    delivered = _delivered(title, thresholds)
    if delivered is not False or title.stage is None:  # not delivered is only ever said of a title with a stage
        return []
    risks = []
    for contract in title.contracts:
        for due in contract.delivery_dates:
            expected = due.expected
            if expected and expected < today:
                slipped = f" (slipped from {long_date(due.date_due)})" if due.is_slipped and due.date_due else ""
                risks.append(
                    _risk(
                        title,
                        DELIVERY_MISSED,
                        HIGH,
                        f"Manuscript was due {long_date(expected)}{slipped}, {span((today - expected).days)} "
                        f"ago, and the title is still at {title.stage.name}.",
                    )
                )
            elif due.is_slipped and due.date_due and due.slipped_date and due.slipped_date > due.date_due:
                late = (due.slipped_date - due.date_due).days
                risks.append(
                    _risk(
                        title,
                        DELIVERY_SLIPPED,
                        MEDIUM,
                        f"Manuscript delivery slipped from {long_date(due.date_due)} to "
                        f"{long_date(due.slipped_date)} ({span(late)} later).",
                    )
                )
    return risks


def _past_date_not_published(title: Title, today: date) -> list[Risk]:
    risks = []
    for fmt in live_formats(title.formats):
        when = fmt.effective_publication_date
        if when and when < today and not is_published(fmt):
            status = fmt.publishing_status
            words = (status.description or f"code {status.code}") if status and status.code else "not set"
            risks.append(
                _risk(
                    title,
                    PAST_DATE_NOT_PUBLISHED,
                    HIGH,
                    f"{format_label(fmt)}: publication date {long_date(when)} was {relative((when - today).days)}"
                    f" but its publishing status is {words}, not published.",
                    fmt.product_id,
                )
            )
    return risks


def season_start(season: str | None, starts: tuple[tuple[str, int, int], ...] = DEFAULT_SEASON_STARTS) -> date | None:
    """When a season begins: "Spring 2027", "2027 Autumn", "March 2027", "Q3 2027" (None if unreadable)."""
    if not season:
        return None
    words = season.lower().replace(",", " ").replace("/", " ").split()
    years = [int(w) for w in words if re.fullmatch(r"(19|20)\d\d", w)]
    if len(years) != 1:
        return None
    year = years[0]
    for word in words:
        for name, month, day in starts:
            if word == name:
                return date(year, month, day)
        for number, month_name in enumerate(MONTHS, start=1):
            if word in (month_name.lower(), month_name.lower()[:3]):
                return date(year, number, 1)
        quarter = re.fullmatch(r"q([1-4])", word)
        if quarter:
            return date(year, 3 * int(quarter.group(1)) - 2, 1)
    return None


def _no_date_for_season(title: Title, today: date, thresholds: RiskThresholds) -> list[Risk]:
    formats = live_formats(title.formats)
    if any(f.effective_publication_date for f in formats):
        return []
    start = season_start(title.season, thresholds.season_starts)
    if start is None or (start - today).days > thresholds.season_lead_weeks * 7:
        return []
    when = f"starts {relative((start - today).days)}" if start >= today else f"started {relative((start - today).days)}"
    return [
        _risk(
            title,
            NO_DATE_FOR_SEASON,
            MEDIUM,
            f"The {title.season} list {when} ({long_date(start)}) and no format has a publication date.",
        )
    ]
