"""Realistic titles for publishing tests, built from the domain dataclasses with sensible defaults.

`ready_title()` is a title that meets the default standards and every readiness check; tests
take it and break exactly the thing they are about, so each test says what it changes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from addon.publishing.domain import (
    Contract,
    Contributor,
    DeliveryDate,
    Format,
    FormatKind,
    Price,
    PublishingStatus,
    Stage,
    Subject,
    Task,
    Title,
)

ISBNS = {
    FormatKind.HARDBACK: "9781402894626",
    FormatKind.PAPERBACK: "9780306406157",
    FormatKind.EBOOK: "9781861972712",
    FormatKind.AUDIOBOOK: "9780141036144",
}
FORM_CODES = {FormatKind.HARDBACK: "BB", FormatKind.PAPERBACK: "BC", FormatKind.EBOOK: "DG", FormatKind.AUDIOBOOK: "AJ"}
DESCRIPTION = (
    "In a drowned city of bells and salt, a young cartographer inherits an atlas that redraws itself "
    "each night. A novel of maps, memory and the tides that keep them."
)


def make_format(
    kind: FormatKind = FormatKind.HARDBACK,
    *,
    product_id: str | None = None,
    publication: date | None = date(2027, 3, 4),
    status: str | None = "02",
    **changes,
) -> Format:
    """A complete format: ISBN, GBP and USD prices, a main BISAC subject, a description and a cover."""
    fmt = Format(
        product_id=product_id or f"p-{kind.value}",
        kind=kind,
        form_code=FORM_CODES.get(kind),
        isbn13=ISBNS.get(kind),
        isbn_raw=ISBNS.get(kind),
        planned_publication_date=publication,
        publishing_status=PublishingStatus(status, None) if status else None,
        prices=(Price(Decimal("18.99"), "GBP", "02"), Price(Decimal("28.99"), "USD", "01")),
        subjects=(
            Subject("BISAC", "FIC009000", "FICTION / Fantasy / General", main=True),
            Subject("THEMA", "FM", "Fantasy", main=True),
        ),
        description=DESCRIPTION,
        has_cover=True,
        full_title="The Drowned Atlas",
    )
    return replace(fmt, **changes)


def make_title(
    *,
    formats: tuple[Format, ...] | None = None,
    delivery: DeliveryDate | None = None,
    stage: str | None = "Production",
    work_id: str = "w-101",
    **changes,
) -> Title:
    """A work with contributors stored the Consonance way (display name, surname in key names), a contract
    with a delivery date, and formats."""
    contract = Contract(
        id="c-1",
        name="Author agreement",
        signed_date=date(2025, 6, 2),
        delivery_dates=(delivery if delivery is not None else DeliveryDate(date(2026, 5, 1)),),
    )
    title = Title(
        work_id=work_id,
        title="The Drowned Atlas",
        subtitle="A Novel",
        imprint="Harrow & Finch",
        stage=Stage(stage) if stage else None,
        season="Spring 2027",
        marketing_tier="Lead",
        series=("The Saltmarsh Chronicles #1",),
        contributors=(
            Contributor("Amelia Okafor", "A01", "By (author)", key_names="Okafor"),
            Contributor("Tomasz Lindqvist", "E07", "Read by", key_names="Lindqvist"),
        ),
        formats=formats if formats is not None else (make_format(FormatKind.HARDBACK), make_format(FormatKind.EBOOK)),
        contracts=(contract,),
    )
    return replace(title, **changes)


def ready_title(**changes) -> Title:
    return make_title(**changes)


def with_format(title: Title, kind: FormatKind, **changes) -> Title:
    """The title with one of its formats changed."""
    return replace(title, formats=tuple(replace(f, **changes) if f.kind is kind else f for f in title.formats))


def make_task(
    task_id: str = "t-1",
    *,
    title: str = "Approve cover",
    status: str = "OPEN",
    due: date | None = None,
    external_ref: str | None = None,
    work_id: str = "w-101",
    assignee: str | None = None,
) -> Task:
    return Task(task_id, title, status, due, external_ref, work_id, assignee)
