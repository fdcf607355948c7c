"""A title's dates as people plan by them: manuscript deliveries from its contracts and publication per
format, each with what was planned, what is expected now, and whether it slipped.

Pure: read by the Schedule page's milestones, the retrospective's planned-vs-actual and the hub calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from addon.publishing.domain import Title
from addon.publishing.formats import kind_label
from addon.publishing.wording import long_date, plural

DELIVERY, PUBLICATION = "delivery", "publication"


@dataclass(frozen=True)
class Milestone:
    name: str
    kind: str  # DELIVERY or PUBLICATION
    planned: date | None
    expected: date | None  # the actual date once it happened, else the date now expected

    @property
    def slipped_days(self) -> int:
        """Days later than planned (0 when on time, early or not comparable)."""
        if self.planned and self.expected and self.expected > self.planned:
            return (self.expected - self.planned).days
        return 0

    @property
    def slipped(self) -> bool:
        return self.slipped_days > 0

    def slip_words(self) -> str:
        """What changed against the plan, in words that stay true from day to day."""
        if self.expected is None and self.planned is None:
            return "No date yet"
        if self.slipped and self.planned:  # slipping needs a plan
            return f"Slipped {_span(self.slipped_days)} (planned {long_date(self.planned)})"
        if self.planned and self.expected and self.expected < self.planned:
            return f"Brought forward {_span((self.planned - self.expected).days)}"
        return "On plan"

    def status(self, today: date) -> str:
        """In words: "Slipped 3 weeks (planned 1 March 2026)", "Done", "Due in 12 days", "No date yet"."""
        when = self.expected or self.planned
        if when is None:
            return "No date yet"
        parts = []
        if self.slipped and self.planned:
            parts.append(f"Slipped {_span(self.slipped_days)} (planned {long_date(self.planned)})")
        if when <= today:
            parts.append("Done" if not parts else "done")
        else:
            days = (when - today).days
            parts.append(f"{'Due' if not parts else 'due'} in {_span(days)}")
        return ", ".join(parts)


def _span(days: int) -> str:
    if days >= 14 and days % 7 == 0:
        return plural(days // 7, "week")
    if days >= 60:
        return f"about {plural(round(days / 30), 'month')}"
    return plural(days, "day")


def title_milestones(title: Title) -> list[Milestone]:
    """Deliveries (contract order) then publications (format order), sorted by the date expected."""
    found: list[Milestone] = []
    deliveries = sorted(
        (
            (planned, c, d)
            for c in title.contracts
            for d in c.delivery_dates
            if (planned := d.date_due or d.slipped_date) is not None
        ),
        key=lambda found: found[0],
    )  # numbered in the order they were planned
    for number, (_, contract, due) in enumerate(deliveries, start=1):
        name = "Manuscript delivery"
        if len(deliveries) > 1:
            name += f" {number}" + (f" ({contract.name})" if contract.name else "")
        found.append(Milestone(name, DELIVERY, due.date_due, due.slipped_date or due.date_due))
    kinds = [f.kind for f in title.formats]
    for fmt in title.formats:
        if not (fmt.planned_publication_date or fmt.publication_date):
            continue
        label = kind_label(fmt.kind)
        if kinds.count(fmt.kind) > 1 and fmt.isbn13:
            label += f" {fmt.isbn13}"
        found.append(
            Milestone(
                f"Publication — {label}",
                PUBLICATION,
                fmt.planned_publication_date or fmt.publication_date,
                fmt.publication_date or fmt.planned_publication_date,
            )
        )
    return sorted(found, key=lambda m: (m.expected or m.planned or date.max, m.kind != DELIVERY))
