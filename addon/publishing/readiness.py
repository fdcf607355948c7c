"""Launch readiness per format and a go/no-go for announcing a title (F6, launch-readiness macro).

Marketing must not announce a book whose ISBN, price, date, cover, description or subjects are not
in place; this says which are missing in plain words, so the campaign follows real production.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from .domain import Format, Title
from .formats import ON_SALE_CODES, format_label, is_published, live_formats, status_code
from .rules import ChecklistResult, RuleSet, Severity, evaluate
from .schedule import (
    ReadinessSchedule,
    StageDeadlines,
    StageLateness,
    first_forthcoming_date,
    late_for_stage,
    missed_deliveries,
)
from .wording import long_date, money, relative

GO = "Ready to announce"
NO_GO = "Don't announce yet"
PUBLISHED = "Published"
TOO_EARLY = "Too early to judge"

# verdicts: what the decision is, for lozenges and tests (the headline is what people read)
V_PUBLISHED, V_GO, V_NO_GO, V_TOO_EARLY = "published", "go", "no_go", "too_early"

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
    schedule: ReadinessSchedule = field(default_factory=ReadinessSchedule)
    stage_deadlines: StageDeadlines = field(default_factory=StageDeadlines)


@dataclass(frozen=True)
class ReadinessItem:
    key: str
    label: str
    ok: bool
    detail: str
    due: date | None = None  # when it must be in place (None: no publication date to count back from)
    late: bool = False  # missing and already due

    @property
    def state(self) -> str:
        """ "done", "late" or "to come" (missing but not needed yet)."""
        return "done" if self.ok else ("late" if self.late else "to come")


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
    def missing(self) -> tuple[ReadinessItem, ...]:
        return tuple(i for i in self.items if not i.ok)

    @property
    def late(self) -> tuple[ReadinessItem, ...]:
        return tuple(i for i in self.items if i.late)

    def item(self, key: str) -> ReadinessItem:
        return next(i for i in self.items if i.key == key)


@dataclass(frozen=True)
class ReadinessVerdict:
    """The go/no-go on announcing a title: the headline people read, its reasons and the one-line why."""

    go: bool
    headline: str
    reasons: tuple[str, ...] = ()
    verdict: str = V_NO_GO
    why: str = ""  # one line a hub shows: the real reason, never the headline again


@dataclass(frozen=True)
class TitleReadiness:
    work_id: str
    title: str
    publication_date: date | None  # published: first on-sale date; otherwise the first forthcoming date
    days_to_publication: int | None
    metadata_completion: float  # the one completeness figure: the metadata checklist's, for this rule set
    rule_set_version: str
    decision: ReadinessVerdict
    formats: tuple[FormatReadiness, ...] = field(default=())
    on_sale: tuple[str, ...] = ()  # labels of formats on sale (ONIX status 04, Active)
    off_sale: tuple[str, ...] = ()  # published formats no longer on sale, with their status
    coming: tuple[str, ...] = ()  # "Paperback 9780306406157 on 4 March 2028" for a published title's later formats
    stage_late: StageLateness | None = None
    missed_deliveries: tuple[date, ...] = ()  # expected manuscript deliveries passed while not delivered

    @property
    def ready_formats(self) -> int:
        return sum(f.ready for f in self.formats)

    @property
    def late_items(self) -> tuple[str, ...]:
        return tuple(f"{f.label}: {i.detail}" for f in self.formats if not f.published for i in f.late)

    @property
    def days_to_publication_text(self) -> str:
        if self.days_to_publication is None or self.publication_date is None:
            return "No publication date"
        return (
            f"Publishes {relative(self.days_to_publication)} ({long_date(self.publication_date)})"
            if self.days_to_publication >= 0
            else f"Publication date was {relative(self.days_to_publication)} ({long_date(self.publication_date)})"
        )


def is_title_published(title: Title) -> bool:
    """Published when Consonance says so: the work's stage is Published or a live format is on sale."""
    if title.stage is not None and " ".join(title.stage.name.lower().split()) == "published":
        return True
    return any(is_published(f) for f in live_formats(title.formats))


def assess_title(
    title: Title,
    today: date,
    *,
    rule_set: RuleSet | None = None,
    checklist: ChecklistResult | None = None,
    policy: ReadinessPolicy | None = None,
) -> TitleReadiness:
    """Readiness of every live format and the title's verdict, as of `today`: Published, Ready to
    announce / Don't announce yet (judged on what is due at its distance from publication), or Too
    early to judge (listing only what is already late).

    Pass the checklist if it is already computed; otherwise `rule_set` (default: the built-in set) is used.
    """
    policy = policy or ReadinessPolicy()
    if checklist is None:
        if rule_set is None:
            from .standards import DEFAULT_RULE_SET  # the default set is compiled from its documented table

            rule_set = DEFAULT_RULE_SET
        checklist = evaluate(title, rule_set)
    live = live_formats(title.formats)
    forthcoming = first_forthcoming_date(title)
    formats = tuple(assess_format(f, today, checklist, policy, forthcoming) for f in live)
    published = is_title_published(title)
    on_sale = tuple(
        f.label for f, src in zip(formats, live, strict=True) if f.published and status_code(src) in ON_SALE_CODES
    )
    off_sale = tuple(
        f"{f.label} ({_status_words(src).lower()})"
        for f, src in zip(formats, live, strict=True)
        if f.published and status_code(src) not in ON_SALE_CODES
    )
    if published:
        dates = [f.publication_date for f in formats if f.published and f.publication_date]
        first = min(dates) if dates else title.earliest_publication_date
        coming = tuple(
            f"{f.label} on {long_date(f.publication_date)}"
            for f in formats
            if not f.published and f.publication_date and f.publication_date >= today
        )
    else:
        first, coming = forthcoming, ()
    stage_late = None if published else late_for_stage(title.stage, forthcoming, today, policy.stage_deadlines)
    readiness = TitleReadiness(
        work_id=title.work_id,
        title=title.title,
        publication_date=first,
        days_to_publication=(first - today).days if first else None,
        metadata_completion=checklist.completion,
        rule_set_version=checklist.rule_set_version,
        decision=ReadinessVerdict(False, NO_GO),
        formats=formats,
        on_sale=on_sale if published else (),
        off_sale=off_sale if published else (),
        coming=coming,
        stage_late=stage_late,
        missed_deliveries=() if published else missed_deliveries(title, today),
    )
    return replace(readiness, decision=decide(readiness, published, policy))


def assess_format(
    fmt: Format, today: date, checklist: ChecklistResult, policy: ReadinessPolicy, title_date: date | None = None
) -> FormatReadiness:
    """One format's items, each due by its lead time before the format's date (an undated format
    counts back from the title's first date: it is meant to publish with it)."""
    when = fmt.effective_publication_date
    completion = checklist.completion  # one figure per title and rule set, wherever it is shown
    items: tuple[ReadinessItem, ...] = (
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
    published = is_published(fmt)
    items = tuple(_timed(item, when or title_date, today, policy.schedule, published) for item in items)
    return FormatReadiness(
        fmt.product_id,
        format_label(fmt),
        fmt.kind.value,
        when,
        (when - today).days if when else None,
        published,
        completion,
        items,
    )


def _status_words(fmt: Format) -> str:
    """The format's ONIX status as Consonance words it ("Out of print"), else by its code."""
    status = fmt.publishing_status
    if status is not None and status.description:
        return status.description
    return f"status {status_code(fmt) or 'unknown'}"


def _timed(
    item: ReadinessItem, when: date | None, today: date, schedule: ReadinessSchedule, published: bool
) -> ReadinessItem:
    """The item with its due date, and late when it is missing and due (everything is due once on sale)."""
    if item.ok:
        return replace(item, due=schedule.due_date(item.key, when) if when else None)
    if published:
        return replace(item, late=True)
    if when is None:
        return item  # nothing to count back from; the missing date itself is the title's problem
    due = schedule.due_date(item.key, when)
    return replace(item, due=due, late=due <= today)


def decide(readiness: TitleReadiness, published: bool, policy: ReadinessPolicy | None = None) -> ReadinessVerdict:
    """The verdict for the title, with the reasons behind it in words."""
    policy = policy or ReadinessPolicy()
    formats = readiness.formats
    if published:
        day = readiness.publication_date
        if day is not None and (readiness.days_to_publication or 0) > 0:
            # Consonance says Published, but the date is still to come: say both, as they are
            when = f"Marked Published in Consonance ahead of its publication date, {long_date(day)}"
        else:
            when = "Published" + (f" on {long_date(readiness.publication_date)}" if readiness.publication_date else "")
        sale = ", ".join(readiness.on_sale) if readiness.on_sale else "no format is on sale now"
        why = f"{when}. On sale: {sale}."
        if readiness.off_sale:
            why += " No longer on sale: " + ", ".join(readiness.off_sale) + "."
        if readiness.coming:
            why += " Still to come: " + "; ".join(readiness.coming) + "."
        return ReadinessVerdict(True, PUBLISHED, (), V_PUBLISHED, why)
    if not formats:
        return ReadinessVerdict(
            False, NO_GO, ("No formats are set up in Consonance yet.",), V_NO_GO, "No formats set up yet."
        )
    late_notes = _late_notes(readiness)
    first = readiness.publication_date
    days = readiness.days_to_publication if first is not None else None  # no date: nothing to count from
    window = policy.schedule.judge_from_weeks
    if first is None or days is None or days > window * 7:
        if first is None or days is None:
            why = "No publication date is set in Consonance yet, so nothing can be judged against it."
        else:
            opens = first - timedelta(weeks=window)
            why = (
                f"Publishes {relative(days)} ({long_date(first)}); "
                f"announcement readiness is judged from {window} weeks before publication ({long_date(opens)})."
            )
        if late_notes:
            why += " Already late: " + "; ".join(late_notes) + "."
        return ReadinessVerdict(False, TOO_EARLY, tuple(late_notes), V_TOO_EARLY, why)
    reasons = tuple(
        f"{f.label}: {i.detail}" + (f" (needed by {long_date(i.due)})" if i.due else "") + "."
        for f in formats
        if not f.published
        for i in f.late
    )
    to_come = [
        f"{i.label.lower()} by {long_date(i.due)}"
        for f in formats
        if not f.published
        for i in f.items
        if not i.ok and not i.late and i.due
    ]
    passed = (
        f"The publication date ({long_date(first)}) has passed but Consonance does not show the title published. "
        if days < 0
        else ""
    )
    if reasons:
        why = f"{len(reasons)} thing{'s' if len(reasons) != 1 else ''} due by now missing: " + " ".join(reasons)
        return ReadinessVerdict(False, NO_GO, reasons, V_NO_GO, passed + why)
    why = "Everything due by now is in place"
    why += (": still to come " + ", ".join(dict.fromkeys(to_come)) + ".") if to_come else "."
    return ReadinessVerdict(True, GO, (), V_GO, passed + why)


def _late_notes(readiness: TitleReadiness) -> list[str]:
    notes = [f"manuscript was due {long_date(day)}" for day in readiness.missed_deliveries]
    late = readiness.stage_late
    if late:
        notes.append(
            f"still at {late.stage}, should have reached {late.expected} by {long_date(late.since)} "
            f"({late.weeks} weeks before publication)"
        )
    return notes


def _isbn_item(fmt: Format) -> ReadinessItem:
    if fmt.isbn13:
        return ReadinessItem("isbn", "ISBN", True, fmt.isbn13)
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
            "metadata", "Metadata", False, f"metadata {completion:.0f}% complete; fails {first.rule.describe()}{more}"
        )
    if completion < policy.min_metadata_completion:
        return ReadinessItem(
            "metadata",
            "Metadata",
            False,
            f"metadata only {completion:.0f}% complete (needs {policy.min_metadata_completion:g}%)",
        )
    return ReadinessItem("metadata", "Metadata", True, f"metadata {completion:.0f}% complete")
