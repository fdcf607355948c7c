"""What must be true how long before publication: the readiness checklist's lead times and the stage a
title should have reached by then (docs/publishing-rules.md §3 and §4 hold the defaults).

A title is judged against the clock, not against a fixed list: 30 weeks out nobody expects a cover,
4 weeks out everybody does. Both tables are per tenant; these are the documented defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .domain import Stage, Title
from .stages import has_reached, stage_rank

# (readiness item, weeks before publication by which it must be in place)
DEFAULT_LEAD_WEEKS: tuple[tuple[str, int], ...] = (
    ("publication_date", 26),
    ("isbn", 26),
    ("price", 20),
    ("subjects", 20),
    ("description", 16),
    ("cover", 12),
    ("metadata", 8),
)

# (stage, weeks before publication by which a title on schedule has reached it)
DEFAULT_STAGE_DEADLINES: tuple[tuple[str, int], ...] = (
    ("Manuscript delivered", 40),
    ("Copy-editing", 26),
    ("Typesetting", 20),
    ("Proofs", 14),
    ("Production", 6),
)


@dataclass(frozen=True)
class ReadinessSchedule:
    """When each readiness item is due, in weeks before publication. A title further out than the
    longest lead time is "too early to judge"."""

    lead_weeks: tuple[tuple[str, int], ...] = DEFAULT_LEAD_WEEKS

    def weeks_for(self, key: str) -> int:
        return dict(self.lead_weeks).get(key, 0)

    def due_date(self, key: str, publication: date) -> date:
        return publication - timedelta(weeks=self.weeks_for(key))

    @property
    def judge_from_weeks(self) -> int:
        return max((weeks for _, weeks in self.lead_weeks), default=0)

    @classmethod
    def from_mapping(cls, weeks: Mapping[str, int] | None) -> ReadinessSchedule:
        """Defaults overridden by a tenant's {item: weeks}; unknown items are ignored."""
        merged = dict(DEFAULT_LEAD_WEEKS)
        for key, value in (weeks or {}).items():
            if key in merged and isinstance(value, int) and 0 <= value <= 104:
                merged[key] = value
        return cls(tuple(merged.items()))


@dataclass(frozen=True)
class StageDeadlines:
    """By how many weeks before publication a title should have reached each stage."""

    weeks: tuple[tuple[str, int], ...] = DEFAULT_STAGE_DEADLINES

    @classmethod
    def from_mapping(cls, weeks: Mapping[str, int] | None) -> StageDeadlines:
        """A tenant's {stage: weeks}; stages left out keep their defaults, 0 or less switches one off."""
        merged = {name.lower(): (name, w) for name, w in DEFAULT_STAGE_DEADLINES}
        for name, value in (weeks or {}).items():
            if isinstance(value, int) and name.strip():
                merged[name.strip().lower()] = (name.strip(), value)
        return cls(tuple((name, w) for name, w in merged.values() if w > 0))


@dataclass(frozen=True)
class StageLateness:
    stage: str  # where the title is
    expected: str  # the stage it should have reached
    since: date  # when it should have reached it
    weeks: int


def first_forthcoming_date(title: Title) -> date | None:
    from .formats import is_published, live_formats

    planned = [f.effective_publication_date for f in live_formats(title.formats) if not is_published(f)]
    dates = [d for d in planned if d is not None]
    return min(dates) if dates else None


def late_for_stage(
    stage: Stage | None, publication: date | None, today: date, deadlines: StageDeadlines | None = None
) -> StageLateness | None:
    """The furthest stage the title should have reached by today but has not; None when on schedule,
    undated, or at a stage outside the usual order (never guessed)."""
    deadlines = deadlines or StageDeadlines()
    if stage is None or publication is None or stage_rank(stage.name) is None:
        return None
    late: StageLateness | None = None
    late_rank = -1  # the rank of late.expected
    for name, weeks in deadlines.weeks:
        since = publication - timedelta(weeks=weeks)
        rank = stage_rank(name)
        if since <= today and rank is not None and not has_reached(stage.name, name) and rank > late_rank:
            late, late_rank = StageLateness(stage.name, name, since, weeks), rank
    return late


DELIVERED_STAGE = "manuscript delivered"


def missed_deliveries(title: Title, today: date, delivered_stage: str = DELIVERED_STAGE) -> tuple[date, ...]:
    """Expected manuscript delivery dates before today for a title whose stage says it is not delivered
    (judged by stage: Consonance's contracts do not say when a manuscript arrived; unknown stage: none)."""
    if title.stage is None or stage_rank(title.stage.name) is None or has_reached(title.stage.name, delivered_stage):
        return ()
    return tuple(
        sorted(d.expected for c in title.contracts for d in c.delivery_dates if d.expected and d.expected < today)
    )


# --- the admin's stage guide as the checklist -------------------------------------------------------

_ITEM_WORDS = {
    "isbn": "isbn",
    "isbns": "isbn",
    "price": "price",
    "prices": "price",
    "publication date": "publication_date",
    "pub date": "publication_date",
    "date": "publication_date",
    "cover": "cover",
    "cover image": "cover",
    "jacket": "cover",
    "description": "description",
    "blurb": "description",
    "copy": "description",
    "subjects": "subjects",
    "subject": "subjects",
    "main subject": "subjects",
    "bisac": "subjects",
    "metadata": "metadata",
    "metadata complete": "metadata",
}


def _cell_key(text: str) -> str:
    return " ".join((text or "").strip().lower().split())


def schedule_from_tables(tables: Iterable[Sequence[Sequence[str]]]) -> ReadinessSchedule | None:
    """The readiness checklist an admin wrote into the stage guide, or None when it has none.

    The stage guide's table (Stage | Reviewers | Next step) may carry two more columns: "Weeks before
    publication" (when a title on schedule reaches the stage) and "Must be in place" (readiness items,
    e.g. "ISBN, price, cover"). Each item listed is due at its row's weeks (the earliest row naming it
    wins); items no row names keep the documented defaults.
    """
    for rows in tables:
        if not rows:
            continue
        header = [_cell_key(cell) for cell in rows[0]]
        if not any(h.rstrip(":").strip() == "stage" for h in header):
            continue
        weeks_col = next((i for i, h in enumerate(header) if h.startswith("weeks")), None)
        items_col = next((i for i, h in enumerate(header) if h.startswith(("must be", "in place", "ready"))), None)
        if weeks_col is None or items_col is None:
            continue  # a table with a Stage column but no checklist (a page properties table, say): not this one
        due: dict[str, int] = {}
        for row in rows[1:]:
            if max(weeks_col, items_col) >= len(row):
                continue
            found = re.search(r"\d{1,3}", row[weeks_col] or "")
            if not found:
                continue
            weeks = int(found.group())
            for word in re.split(r"[,;/\n&+]|\band\b", row[items_col] or ""):
                item = _ITEM_WORDS.get(_cell_key(re.sub(r"\s*\(.*?\)\s*", " ", word).strip(" .!:")))
                if item and weeks <= 104:
                    due[item] = max(due.get(item, 0), weeks)
        return ReadinessSchedule.from_mapping(due) if due else None
    return None
