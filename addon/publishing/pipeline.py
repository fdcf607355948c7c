"""Pipeline summaries for leadership (F7): titles by stage, overdue items, format readiness and risks.

Returns plain dataclasses a page builder renders as-is; the same titles and day always give the same
summary, so regenerating a page with unchanged data makes no new page version.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from .domain import FormatKind, Task, Title
from .formats import kind_label
from .playbooks import is_gate_ref
from .readiness import V_PUBLISHED, ReadinessPolicy, assess_title
from .risk import HIGH, Risk, RiskThresholds, assess_risks
from .rules import RuleSet, evaluate
from .stages import DEFAULT_STAGE_NAMES, sort_stage_names
from .wording import MONTHS, long_date, short_date

WEEKLY = "weekly"
MONTHLY = "monthly"
NO_STAGE = "No stage"
STAGE_NOT_REPORTED = "Not reported by Consonance"  # every title, where the server has no workflow stages
# Facts a Consonance may not report at all (capability discovery); a summary then says so rather than
# counting them as missing: "stage" (Work.projectStage), "tasks" (to-dos), "contracts" (delivery dates).
REPORTABLE = ("stage", "tasks", "contracts")


@dataclass(frozen=True)
class Period:
    key: str  # "2026-W48" or "2026-11": stable, used to name and find the page
    cadence: str
    start: date
    end: date  # inclusive
    title: str

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def period_for(today: date, cadence: str) -> Period:
    """The ISO week or calendar month containing `today`."""
    if cadence == WEEKLY:
        year, week, weekday = today.isocalendar()
        start = today - timedelta(days=weekday - 1)
        end = start + timedelta(days=6)
        return Period(
            f"{year}-W{week:02d}",
            WEEKLY,
            start,
            end,
            f"Pipeline summary — week {week}, {year} ({short_date(start)} to {short_date(end)})",
        )
    if cadence == MONTHLY:
        start = today.replace(day=1)
        end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        return Period(
            f"{today.year}-{today.month:02d}",
            MONTHLY,
            start,
            end,
            f"Pipeline summary — {MONTHS[today.month - 1]} {today.year}",
        )
    raise ValueError(f"cadence must be {WEEKLY!r} or {MONTHLY!r}, not {cadence!r}")


def previous_period(period: Period) -> Period:
    return period_for(period.start - timedelta(days=1), period.cadence)


@dataclass(frozen=True)
class TitleLine:
    work_id: str
    title: str
    stage: str
    publication_date: date | None
    metadata_completion: float
    decision: str
    published: bool = False


@dataclass(frozen=True)
class StageGroup:
    stage: str
    titles: tuple[TitleLine, ...] = ()

    @property
    def count(self) -> int:
        return len(self.titles)


@dataclass(frozen=True)
class OverdueItem:
    work_id: str
    title: str
    kind: str  # "delivery", "task" or "gate"
    what: str
    due: date  # since when it is overdue
    days_overdue: int
    owner: str | None = None


@dataclass(frozen=True)
class FormatReadinessCount:
    """Forthcoming formats of one kind: all in place, or with something due by now missing (late)."""

    kind: str
    label: str
    total: int
    ready: int
    late: int = 0

    @property
    def not_ready(self) -> int:
        return self.total - self.ready


@dataclass(frozen=True)
class PipelineSummary:
    period: Period
    today: date
    total_titles: int  # the pipeline: titles not yet published
    backlist: int = 0  # published titles, counted apart
    stages: tuple[StageGroup, ...] = ()
    overdue: tuple[OverdueItem, ...] = ()
    format_readiness: tuple[FormatReadinessCount, ...] = ()
    risks: tuple[Risk, ...] = ()
    publishing_in_period: tuple[TitleLine, ...] = field(default=())
    not_reported: frozenset[str] = frozenset()  # of REPORTABLE: what this Consonance does not report

    @property
    def stage_counts(self) -> tuple[tuple[str, int], ...]:
        """(stage, number of titles) in stage order: the data for the chart image."""
        return tuple((g.stage, g.count) for g in self.stages)

    @property
    def high_risks(self) -> tuple[Risk, ...]:
        return tuple(r for r in self.risks if r.severity == HIGH)


def summarise_pipeline(
    titles: Iterable[Title],
    today: date,
    *,
    cadence: str = WEEKLY,
    tasks: Iterable[Task] = (),
    rule_set: RuleSet | None = None,
    policy: ReadinessPolicy | None = None,
    thresholds: RiskThresholds | None = None,
    stage_order: Sequence[str] | None = None,
    include_empty_stages: bool = True,
    not_reported: Iterable[str] = (),
) -> PipelineSummary:
    """Aggregate a catalogue into one summary for the period containing `today`. `not_reported`: facts
    (of REPORTABLE) this Consonance does not have, so they are unknown rather than missing."""
    unknown = frozenset(not_reported) & frozenset(REPORTABLE)
    no_stage = STAGE_NOT_REPORTED if "stage" in unknown else NO_STAGE
    if rule_set is None:
        from .standards import DEFAULT_RULE_SET

        rule_set = DEFAULT_RULE_SET
    period = period_for(today, cadence)
    thresholds = thresholds or RiskThresholds()
    lines: list[TitleLine] = []
    overdue: list[OverdueItem] = []
    risks: list[Risk] = []
    totals: Counter[str] = Counter()
    ready: Counter[str] = Counter()
    late: Counter[str] = Counter()
    names: dict[str, str] = {}
    backlist = 0
    for title in titles:
        names[title.work_id] = title.title
        readiness = assess_title(title, today, checklist=evaluate(title, rule_set), policy=policy)
        if readiness.decision.verdict == V_PUBLISHED:
            backlist += 1
            continue
        lines.append(
            TitleLine(
                title.work_id,
                title.title,
                title.stage.name if title.stage else no_stage,
                readiness.publication_date,
                readiness.metadata_completion,
                readiness.decision.headline,
            )
        )
        for fmt in readiness.formats:
            if fmt.published:
                continue
            totals[fmt.kind] += 1
            ready[fmt.kind] += fmt.ready
            late[fmt.kind] += bool(fmt.late)
        risks.extend(assess_risks(title, today, readiness=readiness, thresholds=thresholds))
        overdue.extend(slipped_deliveries(title, today))
    for task in tasks:
        if task.due_date and task.due_date < today and not task.is_done:
            work_id = task.work_id or ""
            overdue.append(
                OverdueItem(
                    work_id,
                    names.get(work_id, work_id),
                    "gate" if is_gate_ref(task.external_ref) else "task",
                    task.title,
                    task.due_date,
                    (today - task.due_date).days,
                    task.assignee,
                )
            )
    lines.sort(key=lambda line: (line.publication_date or date.max, line.title.lower(), line.work_id))
    return PipelineSummary(
        period=period,
        today=today,
        total_titles=len(lines),
        backlist=backlist,
        # no empty stage rows where the server has no stages: "0 in Editorial" would be a claim
        stages=_stage_groups(lines, stage_order, include_empty_stages and "stage" not in unknown),
        overdue=tuple(sorted(overdue, key=lambda o: (-o.days_overdue, o.title.lower(), o.what))),
        format_readiness=tuple(
            FormatReadinessCount(kind.value, kind_label(kind), totals[kind.value], ready[kind.value], late[kind.value])
            for kind in FormatKind
            if totals[kind.value]
        ),
        risks=tuple(sorted(risks, key=lambda r: (r.severity != HIGH, r.title.lower(), r.work_id, r.kind))),
        publishing_in_period=tuple(line for line in lines if period.contains(line.publication_date)),
        not_reported=unknown,
    )


def slipped_deliveries(title: Title, today: date) -> list[OverdueItem]:
    """A forthcoming title's contract delivery dates that slipped: overdue since the date first agreed."""
    items = []
    for contract in title.contracts:
        for due in contract.delivery_dates:
            if due.is_slipped and due.date_due and due.slipped_date:
                items.append(
                    OverdueItem(
                        title.work_id,
                        title.title,
                        "delivery",
                        f"Manuscript delivery slipped to {long_date(due.slipped_date)}",
                        due.date_due,
                        (today - due.date_due).days,
                    )
                )
    return items


def _stage_groups(lines: list[TitleLine], order: Sequence[str] | None, include_empty: bool) -> tuple[StageGroup, ...]:
    by_stage: dict[str, list[TitleLine]] = {}
    for line in lines:
        by_stage.setdefault(line.stage, []).append(line)
    unstaged = (NO_STAGE, STAGE_NOT_REPORTED)
    names = [n for n in by_stage if n not in unstaged]
    if include_empty:
        present = {n.lower() for n in names}
        names += [n for n in (order or DEFAULT_STAGE_NAMES) if n.lower() not in present and n.lower() != "published"]
    ordered = sort_stage_names(names, order)
    ordered += [n for n in unstaged if n in by_stage]
    return tuple(StageGroup(name, tuple(by_stage.get(name, ()))) for name in ordered)
