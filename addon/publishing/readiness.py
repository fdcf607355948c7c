"""Launch readiness per format and a go/no-go for announcing a title (F6, launch-readiness macro).

Marketing must not announce a book whose ISBN, price, date, cover, description or subjects are not
in place; this says which are missing in plain words, so the campaign follows real production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .domain import Format, Title
from .formats import format_label, is_published, live_formats
from .rules import ChecklistResult, RuleSet, Severity, evaluate
from .wording import long_date, money, relative

GO = "Ready to announce"
NO_GO = "Don't announce yet"
PUBLISHED = "Published"

ITEM_LABELS = {
    "isbn": "ISBN",
    "price": "Price",
    "publication_date": "Publication date",
    "cover": "Cover",
    "description": "Description",
    "subjects": "Subjects",
    "metadata": "Metadata",
}


@dataclass(frozen=True)
class ReadinessPolicy:
    """What "ready" means for a tenant; the defaults match the default metadata rule set."""

    required_currencies: tuple[str, ...] = ("GBP", "USD")
    min_metadata_completion: float = 80.0  # below this the metadata item fails even without errors


@dataclass(frozen=True)
class ReadinessItem:
    key: str
    label: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class FormatReadiness:
    product_id: str
    label: str
    kind: str
    publication_date: date | None
    days_to_publication: int | None
    published: bool
    metadata_completion: float
    items: tuple[ReadinessItem, ...]

    @property
    def ready(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def percent(self) -> float:
        """Share of readiness items in place, 0–100."""
        return round(100.0 * sum(i.ok for i in self.items) / len(self.items), 1) if self.items else 0.0

    @property
    def missing(self) -> tuple[ReadinessItem, ...]:
        return tuple(i for i in self.items if not i.ok)

    def item(self, key: str) -> ReadinessItem:
        return next(i for i in self.items if i.key == key)


@dataclass(frozen=True)
class Decision:
    go: bool
    headline: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class TitleReadiness:
    work_id: str
    title: str
    publication_date: date | None
    days_to_publication: int | None
    metadata_completion: float
    rule_set_version: str
    decision: Decision
    formats: tuple[FormatReadiness, ...] = field(default=())

    @property
    def percent(self) -> float:
        """Average readiness of the title's live formats (0 when it has none)."""
        if not self.formats:
            return 0.0
        return round(sum(f.percent for f in self.formats) / len(self.formats), 1)

    @property
    def ready_formats(self) -> int:
        return sum(f.ready for f in self.formats)

    @property
    def days_to_publication_text(self) -> str:
        if self.days_to_publication is None or self.publication_date is None:
            return "No publication date"
        return (
            f"Publishes {relative(self.days_to_publication)} ({long_date(self.publication_date)})"
            if self.days_to_publication >= 0
            else f"Publication date was {relative(self.days_to_publication)} ({long_date(self.publication_date)})"
        )


def assess_title(
    title: Title,
    today: date,
    *,
    rule_set: RuleSet | None = None,
    checklist: ChecklistResult | None = None,
    policy: ReadinessPolicy | None = None,
) -> TitleReadiness:
    """Readiness of every live format and the title's go/no-go, as of `today`.

    Pass the checklist if it is already computed; otherwise `rule_set` (default: the built-in set) is used.
    """
    policy = policy or ReadinessPolicy()
    if checklist is None:
        if rule_set is None:
            from .standards import DEFAULT_RULE_SET  # the default set is compiled from its documented table

            rule_set = DEFAULT_RULE_SET
        checklist = evaluate(title, rule_set)
    formats = tuple(assess_format(f, today, checklist, policy) for f in live_formats(title.formats))
    dates = [f.publication_date for f in formats if f.publication_date]
    first = min(dates) if dates else None
    return TitleReadiness(
        work_id=title.work_id,
        title=title.title,
        publication_date=first,
        days_to_publication=(first - today).days if first else None,
        metadata_completion=checklist.completion,
        rule_set_version=checklist.rule_set_version,
        decision=decide(formats),
        formats=formats,
    )


def assess_format(fmt: Format, today: date, checklist: ChecklistResult, policy: ReadinessPolicy) -> FormatReadiness:
    when = fmt.effective_publication_date
    completion = checklist.completion_for(fmt.product_id)
    items = (
        _isbn_item(fmt),
        _price_item(fmt, policy.required_currencies),
        _date_item(fmt),
        ReadinessItem(
            "cover", "Cover", fmt.has_cover, "cover image in place" if fmt.has_cover else "no cover image yet"
        ),
        ReadinessItem(
            "description",
            "Description",
            bool(fmt.description and fmt.description.strip()),
            "description written" if fmt.description and fmt.description.strip() else "no description yet",
        ),
        _subjects_item(fmt),
        _metadata_item(fmt, checklist, completion, policy),
    )
    return FormatReadiness(
        fmt.product_id,
        format_label(fmt),
        fmt.kind.value,
        when,
        (when - today).days if when else None,
        is_published(fmt),
        completion,
        items,
    )


def decide(formats: tuple[FormatReadiness, ...]) -> Decision:
    """Go only when every live format is ready; otherwise "Don't announce yet" with each reason."""
    if not formats:
        return Decision(False, NO_GO, ("No formats are set up in Consonance yet.",))
    if all(f.published for f in formats):
        return Decision(True, PUBLISHED, ())
    reasons = tuple(f"{f.label}: {item.detail}." for f in formats for item in f.missing)
    return Decision(not reasons, GO if not reasons else NO_GO, reasons)


def _isbn_item(fmt: Format) -> ReadinessItem:
    if fmt.isbn13:
        return ReadinessItem("isbn", "ISBN", True, f"ISBN {fmt.isbn13}")
    if fmt.isbn_raw and fmt.isbn_problem and fmt.isbn_problem not in ("missing ISBN", "No ISBN"):
        return ReadinessItem("isbn", "ISBN", False, f"ISBN “{fmt.isbn_raw}” is not valid ({fmt.isbn_problem})")
    return ReadinessItem("isbn", "ISBN", False, "no ISBN yet")


def _price_item(fmt: Format, currencies: tuple[str, ...]) -> ReadinessItem:
    have = {p.currency.upper() for p in fmt.prices if p.amount is not None}
    missing = [c for c in currencies if c.upper() not in have]
    if not have:
        return ReadinessItem("price", "Price", False, "no price yet")
    if missing:
        return ReadinessItem("price", "Price", False, f"no price in {' or '.join(missing)}")
    shown = ", ".join(money(p.amount, p.currency) for p in fmt.prices if p.amount is not None)
    return ReadinessItem("price", "Price", True, shown)


def _date_item(fmt: Format) -> ReadinessItem:
    if fmt.publication_date:
        return ReadinessItem("publication_date", "Publication date", True, long_date(fmt.publication_date))
    if fmt.planned_publication_date:
        return ReadinessItem(
            "publication_date", "Publication date", True, f"{long_date(fmt.planned_publication_date)} (planned)"
        )
    return ReadinessItem("publication_date", "Publication date", False, "no publication date yet")


def _subjects_item(fmt: Format) -> ReadinessItem:
    main = [s.code for s in fmt.subjects if s.main and s.code]
    if main:
        return ReadinessItem("subjects", "Subjects", True, "main subject " + ", ".join(main))
    if fmt.subjects:
        return ReadinessItem("subjects", "Subjects", False, "subjects set but none marked as the main subject")
    return ReadinessItem("subjects", "Subjects", False, "no subjects yet")


def _metadata_item(
    fmt: Format, checklist: ChecklistResult, completion: float, policy: ReadinessPolicy
) -> ReadinessItem:
    errors = checklist.failures(Severity.ERROR, fmt.product_id)
    if errors:
        first = errors[0]
        more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
        return ReadinessItem(
            "metadata", "Metadata", False, f"metadata {completion:g}% complete; fails “{first.rule.describe()}”{more}"
        )
    if completion < policy.min_metadata_completion:
        return ReadinessItem(
            "metadata",
            "Metadata",
            False,
            f"metadata only {completion:g}% complete (needs {policy.min_metadata_completion:g}%)",
        )
    return ReadinessItem("metadata", "Metadata", True, f"metadata {completion:g}% complete")
