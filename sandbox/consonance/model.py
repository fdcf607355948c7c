"""The sandbox's in-memory records and the store that indexes and edits them.

Records use __slots__ and share immutable tuples from vocab so a 50,000-work catalogue stays small.
Every edit goes through `Catalogue` methods, which validate like Consonance does and return field
errors as `[{"field": ..., "messages": [...]}]` instead of raising.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from . import vocab
from .isbn import is_valid_isbn13, normalise_isbn


class Person:
    __slots__ = ("id", "name", "key_names", "isni", "gender", "notes")

    def __init__(self, id, name, key_names, isni=None, gender=None):
        self.id, self.name, self.key_names, self.isni, self.gender = id, name, key_names, isni, gender
        self.notes: list[Note] | tuple = ()  # empty tuples until first written: most records never are


class Contribution:
    __slots__ = ("id", "role", "person", "sequence")

    def __init__(self, id, role, person, sequence):
        self.id, self.role, self.person, self.sequence = id, role, person, sequence


class Product:
    __slots__ = (
        "id",
        "work",
        "format",
        "isbn13",
        "publication_date",
        "planned_date",
        "status",
        "prices",
        "trim",
        "pages",
        "word_count",
        "running_time",
        "web_links",
        "subtitle",
    )

    def __init__(self, id, work, format, isbn13, publication_date, planned_date, status, prices):
        self.id, self.work, self.format, self.isbn13 = id, work, format, isbn13
        self.publication_date, self.planned_date, self.status, self.prices = (
            publication_date,
            planned_date,
            status,
            prices,
        )
        self.trim = self.pages = self.word_count = self.running_time = None
        self.web_links: list[WebLink] | tuple = ()
        self.subtitle = None  # None: inherit the work's subtitle

    @property
    def typename(self) -> str:
        return vocab.FORMATS[self.format][0]


class DeliveryDate:
    __slots__ = ("id", "description", "date_due", "slipped_date")

    def __init__(self, id, description, date_due, slipped_date=None):
        self.id, self.description, self.date_due, self.slipped_date = id, description, date_due, slipped_date


class Contract:
    __slots__ = (
        "id",
        "name",
        "signed_date",
        "term",
        "delivery_dates",
        "rights",
        "flat_fee",
        "guaranteed_royalty",
        "works",
    )

    def __init__(self, id, name, signed_date, term, delivery_dates, rights, flat_fee, guaranteed_royalty):
        self.id, self.name, self.signed_date, self.term = id, name, signed_date, term
        self.delivery_dates, self.rights = (
            delivery_dates,
            rights,
        )  # rights: tuple of (right type, author cut, territories)
        self.flat_fee, self.guaranteed_royalty = flat_fee, guaranteed_royalty
        self.works: list[Work] = []


class Note:
    __slots__ = ("id", "text", "created_at", "external_ref")

    def __init__(self, id, text, created_at, external_ref=None):
        self.id, self.text, self.created_at, self.external_ref = id, text, created_at, external_ref


class Task:
    __slots__ = ("id", "work", "title", "status", "due_date", "completed_at", "assignee", "external_ref")

    def __init__(self, id, work, title, due_date, assignee=None, external_ref=None):
        self.id, self.work, self.title, self.due_date = id, work, title, due_date
        self.status, self.completed_at, self.assignee, self.external_ref = "OPEN", None, assignee, external_ref


class WebLink:
    __slots__ = ("id", "link", "role", "note")

    def __init__(self, id, link, role=None, note=None):
        self.id, self.link, self.role, self.note = id, link, role, note


class Work:
    __slots__ = (
        "id",
        "title",
        "title_prefix",
        "subtitle",
        "work_type",
        "imprint",
        "season",
        "marketing_tier",
        "stage",
        "lc_subject_heading",
        "doi",
        "in_house_ref",
        "salesforce_uid",
        "prizes",
        "series",
        "resources",
        "production_runs",
        "contributions",
        "products",
        "contracts",
        "notes",
        "tasks",
        "web_links",
        "subjects",
        "rights",
        "has_texts",
        "defects",
    )

    def __init__(self, id, title, title_prefix, work_type, imprint, season, marketing_tier, stage):
        self.id, self.title, self.title_prefix, self.work_type = id, title, title_prefix, work_type
        self.imprint, self.season, self.marketing_tier, self.stage = imprint, season, marketing_tier, stage
        self.subtitle = self.lc_subject_heading = self.doi = self.in_house_ref = self.salesforce_uid = None
        self.prizes = ()
        self.series = ()  # tuple of (membership id, series id, series name, number within series)
        self.resources = ()  # tuple of (id, url, caption)
        self.production_runs = ()  # tuple of (id, quantity, printer, delivery date)
        self.contributions: list[Contribution] = []
        self.products: list[Product] = []
        self.contracts: list[Contract] = []
        self.notes: list[Note] | tuple = ()
        self.tasks: list[Task] | tuple = ()
        self.web_links: list[WebLink] | tuple = ()
        self.subjects = ()  # tuple of (scheme, code, description, main, parent)
        self.rights = vocab.RIGHTS_PROFILES[0]
        self.has_texts = True
        self.defects = ()  # injected non-conformities (sandbox bookkeeping, not served)

    @property
    def full_title(self) -> str:
        return f"{self.title_prefix} {self.title}" if self.title_prefix else self.title

    @property
    def publication_date(self) -> date | None:
        dates = [p.publication_date for p in self.products if p.publication_date]
        return min(dates) if dates else None


def _error(field: str, *messages: str) -> dict:
    return {"field": field, "messages": list(messages)}


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Catalogue:
    """All records plus the indexes that searches and edits need; `lock` guards every access."""

    def __init__(self, seed: int, size: int, anchor: date):
        self.seed, self.size, self.anchor = seed, size, anchor
        self.lock = threading.RLock()
        self.works: dict[int, Work] = {}
        self.products: dict[int, Product] = {}
        self.persons: dict[int, Person] = {}
        self.contracts: dict[int, Contract] = {}
        self.tasks: dict[int, Task] = {}
        self.products_by_isbn: dict[str, Product] = {}
        self.delivery_dates: dict[int, DeliveryDate] = {}
        self.counters: dict[str, int] = {}
        self.format_count: dict[str, int] = {}

    def next_id(self, kind: str) -> int:
        value = self.counters.get(kind, 0) + 1
        self.counters[kind] = value
        return value

    # -- indexes -------------------------------------------------------------------------------
    def add_product(self, product: Product) -> None:
        self.products[product.id] = product
        self.format_count[product.format] = self.format_count.get(product.format, 0) + 1
        if product.isbn13:
            self.products_by_isbn.setdefault(normalise_isbn(product.isbn13) or product.isbn13, product)

    def invalid_share(self) -> float:
        return sum(1 for w in self.works.values() if w.defects) / max(len(self.works), 1)

    # -- edits (each returns a list of field errors; empty means applied) ------------------------
    def update_product(self, product: Product, changes: dict) -> list[dict]:
        errors = []
        if "isbn" in changes:
            raw = changes["isbn"]
            digits = normalise_isbn(raw) if raw else None
            if raw and not (digits and is_valid_isbn13(digits)):
                errors.append(_error("isbn", "is not a valid ISBN-13"))
            elif digits and digits in self.products_by_isbn and self.products_by_isbn[digits] is not product:
                errors.append(_error("isbn", "has already been taken"))
        if "subtitle" in changes and changes["subtitle"] is not None and len(changes["subtitle"]) > 250:
            errors.append(_error("subtitle", "is too long (maximum is 250 characters)"))
        errors += _web_link_errors(changes.get("webLinks"), product.web_links)
        if errors:
            return errors
        if "isbn" in changes:
            if product.isbn13:
                self.products_by_isbn.pop(normalise_isbn(product.isbn13) or product.isbn13, None)
            product.isbn13 = normalise_isbn(changes["isbn"]) if changes["isbn"] else None
            if product.isbn13:
                self.products_by_isbn[product.isbn13] = product
        if "publicationDate" in changes:
            product.publication_date = changes["publicationDate"]
        if "plannedPublicationDate" in changes:
            product.planned_date = changes["plannedPublicationDate"]
        if changes.get("onixPublishingStatusCode"):
            product.status = changes["onixPublishingStatusCode"].lstrip("_")
        if "subtitle" in changes:
            product.subtitle = changes["subtitle"]
        self._apply_web_links(changes.get("webLinks"), product)
        return []

    def update_work(self, work: Work, changes: dict) -> list[dict]:
        errors = []
        if "title" in changes and not (changes["title"] or "").strip():
            errors.append(_error("title", "can't be blank"))
        for field in ("season", "marketingTier"):
            if field in changes and changes[field] is not None and not changes[field].strip():
                errors.append(_error(field, "can't be blank"))
        errors += _web_link_errors(changes.get("webLinks"), work.web_links)
        if errors:
            return errors
        simple = {
            "title": "title",
            "lcSubjectHeading": "lc_subject_heading",
            "inHouseWorkReference": "in_house_ref",
            "season": "season",
            "marketingTier": "marketing_tier",
        }
        for field, attribute in simple.items():
            if field in changes:
                setattr(work, attribute, changes[field].strip() if field == "title" else changes[field])
        if "title" in changes:
            work.title_prefix = None
        self._apply_web_links(changes.get("webLinks"), work)
        return []

    def change_stage(self, work: Work, stage: str) -> list[dict]:
        if stage not in vocab.PROJECT_STAGES:
            return [_error("projectStage", f"is not one of: {', '.join(vocab.PROJECT_STAGES)}")]
        work.stage = stage
        return []

    def create_note(self, work: Work, text: str, external_ref: str | None) -> tuple[Note | None, list[dict]]:
        if not (text or "").strip():
            return None, [_error("noteText", "can't be blank")]
        if external_ref:
            for note in work.notes:
                if note.external_ref == external_ref:
                    return note, []
        note = Note(self.next_id("note"), text, _utcnow(), external_ref)
        work.notes = [*work.notes, note]
        return note, []

    def create_task(
        self, work: Work, title: str, due_date: date | None, assignee: str | None, external_ref: str | None
    ) -> tuple[Task | None, list[dict]]:
        if not (title or "").strip():
            return None, [_error("title", "can't be blank")]
        if external_ref:
            for task in work.tasks:
                if task.external_ref == external_ref:
                    return task, []
        task = Task(self.next_id("task"), work, title.strip(), due_date, assignee, external_ref)
        work.tasks = [*work.tasks, task]
        self.tasks[task.id] = task
        return task, []

    def set_task_status(self, task: Task, complete: bool) -> None:
        if complete and task.status != "COMPLETE":
            task.status, task.completed_at = "COMPLETE", _utcnow()
        elif not complete:
            task.status, task.completed_at = "OPEN", None

    def slip(self, kind: str, record_id: int, days: int) -> dict:
        """Move a delivery date (sets slippedDate) or a work's publication date by `days`; returns the new dates."""
        if kind == "delivery":
            delivery = self.delivery_dates[record_id]
            base = delivery.slipped_date or delivery.date_due
            delivery.slipped_date = _add_days(base, days)
            return {"id": delivery.id, "dateDue": delivery.date_due, "slippedDate": delivery.slipped_date}
        work = self.works[record_id]
        for product in work.products:
            if product.publication_date:
                product.publication_date = _add_days(product.publication_date, days)
        return {"id": work.id, "publicationDate": work.publication_date}

    def _apply_web_links(self, items: list[dict] | None, owner: Work | Product) -> None:
        links = list(owner.web_links)
        by_id = {str(link.id): link for link in links}
        for item in items or ():
            if item.get("id") is not None:
                link = by_id[str(item["id"])]
                for field in ("link", "role", "note"):
                    if field in item:
                        setattr(link, field, item[field])
            else:
                links.append(WebLink(self.next_id("web_link"), item["link"], item.get("role"), item.get("note")))
        owner.web_links = links


def _web_link_errors(items: list[dict] | None, existing: list[WebLink]) -> list[dict]:
    errors = []
    known = {str(link.id) for link in existing}
    for index, item in enumerate(items or ()):
        field = f"webLinks[{index}]"
        if item.get("id") is not None and str(item["id"]) not in known:
            errors.append(_error(f"{field}.id", "does not belong to this record"))
        link = item.get("link")
        if item.get("id") is None and not link:
            errors.append(_error(f"{field}.link", "can't be blank"))
        elif link is not None and not link.startswith(("http://", "https://")):
            errors.append(_error(f"{field}.link", "is not a valid URL"))
    return errors


def _add_days(value: date, days: int) -> date:
    return date.fromordinal(value.toordinal() + days)
