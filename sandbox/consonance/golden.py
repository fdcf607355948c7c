"""The golden catalogue: 25 hand-written titles, each one situation a publisher meets, with what every
panel, hub and summary should say about it written down in docs/golden-catalogue.md.

Dates are days from the anchor (default: today), so a title "publishing in 5 weeks" always is. Select
it with `--catalogue golden` (CLI), `CATALOGUE="golden"` (server config) or `CONSONANCE_CATALOGUE=golden`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .catalogue import season_for
from .isbn import check_digit13
from .model import Catalogue, Contract, Contribution, DeliveryDate, Person, Product, Task, Work

SEED = 0  # not random: recorded so /_sandbox/state reads the same for both kinds of catalogue

_PRICES = {
    "hardback": (("GBP", 16.99, "02", "05"), ("USD", 27.0, "01", "05")),
    "paperback": (("GBP", 9.99, "02", "05"), ("USD", 17.0, "01", "05")),
    "ebook": (("GBP", 6.99, "02", "05"), ("USD", 12.99, "01", "05")),
    "audiobook": (("GBP", 19.99, "02", "05"), ("USD", 24.99, "01", "05")),
}
_SUBJECTS = {
    "Fiction": (("BISAC", "FIC019000", "FICTION / Literary", True, None), ("THEMA", "FB", "Fiction", True, "F")),
    "Children's": (
        ("BISAC", "JUV001000", "JUVENILE FICTION / Action & Adventure", True, None),
        ("THEMA", "YFC", "Children's adventure", True, "Y"),
    ),
    "Poetry": (("BISAC", "POE000000", "POETRY / General", True, None), ("THEMA", "DC", "Poetry", True, "D")),
    "Non-fiction": (("BISAC", "HIS037000", "HISTORY / World", True, None), ("THEMA", "NH", "History", True, "N")),
}


@dataclass
class Spec:
    """One golden title, in the words a production editor would use."""

    title: str
    stage: str
    formats: tuple[str, ...]
    publishes_in: int | None  # days from the anchor; None: no date set yet
    people: tuple[tuple[str, str | None, str], ...] = (("Ada Okafor", "Okafor", "A01"),)  # name, keyNames, role
    work_type: str = "Fiction"
    status: str | None = None  # ONIX status for every format; default from the date
    cover: bool = True
    description: bool = True
    isbns: bool = True
    isbn_override: dict[str, str | None] = field(default_factory=dict)  # format -> raw isbn13 value
    no_price: tuple[str, ...] = ()  # formats without prices
    statuses: dict[str, str] = field(default_factory=dict)  # format -> ONIX status
    later: dict[str, int] = field(default_factory=dict)  # format -> days after the first date
    planned_earlier_by: int = 0  # the planned date was this many days before the actual one
    delivery_due_in: int = -400  # manuscript due, days from the anchor
    delivery_slipped_to: int | None = None
    tasks: tuple[tuple[str, int, str, str | None], ...] = ()  # title, due in days, OPEN/COMPLETE, assignee
    season: str | None = None  # default: from the publication date


GOLDEN: tuple[Spec, ...] = (
    # --- published (the backlist) ----------------------------------------------------------------
    Spec("The Salt Road", "Published", ("hardback", "ebook"), -200),
    Spec("Winter Orchard", "Published", ("hardback", "ebook", "paperback"), -30, later={"paperback": 335}),
    Spec("Lanterns of Ys", "Published", ("paperback",), -1100, statuses={"paperback": "07"}),
    Spec(
        "Fragments",
        "Published",
        ("paperback", "ebook"),
        -500,
        people=(("Sappho", "Sappho", "A01"), ("Anne Carson", "Carson", "B06")),
        work_type="Poetry",
    ),
    # --- forthcoming, inside the announcement window -------------------------------------------------
    Spec("The Glass Cartographer", "Production", ("hardback", "ebook"), 35),
    Spec("Harbour Lights", "Proofs", ("hardback", "ebook"), 18),
    Spec("A Field of Larks", "Production", ("hardback", "ebook"), 28, cover=False, description=False),
    Spec("Quiet Hours", "Typesetting", ("hardback",), 100, cover=False),
    Spec("The Iron Psalter", "Copy-editing", ("hardback", "ebook"), 150, isbn_override={"ebook": None}),
    Spec("Paper Moons", "Editorial", ("hardback",), 170, work_type="Children's"),
    Spec("Ninefold", "Production", ("hardback", "ebook"), -5, status="02"),
    Spec("Delayed Harvest", "Copy-editing", ("hardback",), 160, planned_earlier_by=60),
    # --- early titles ----------------------------------------------------------------------------
    Spec(
        "The Long Meadow",
        "Acquisition",
        ("hardback", "ebook"),
        600,
        isbns=False,
        no_price=("hardback", "ebook"),
        delivery_due_in=300,
    ),
    Spec("Tidewater", "Writing", ("hardback", "ebook"), 250, delivery_due_in=-30, delivery_slipped_to=20),
    Spec("Salt and Saffron", "Contracted", ("hardback",), 400, delivery_due_in=-10, work_type="Non-fiction"),
    Spec("The Unwritten Map", "Contracted", ("hardback",), None, delivery_due_in=200, isbns=False),
    # --- contributor shapes ------------------------------------------------------------------------
    Spec(
        "The Marchetti Letters",
        "Production",
        ("hardback", "ebook"),
        40,
        people=(("Arthur Marchetti", "Arthur Marchetti", "A01"),),
    ),
    Spec(
        "A House in Seville",
        "Production",
        ("paperback", "ebook"),
        60,
        people=(("Elena de la Cruz", "de la Cruz", "A01"), ("Tom Hale", "Hale", "B06")),
    ),
    Spec("North of Nowhere", "Proofs", ("hardback",), 80, people=(("Imogen Hart", None, "A01"),)),
    # --- overdue to-dos ---------------------------------------------------------------------------
    Spec(
        "The Copper Bell",
        "Typesetting",
        ("hardback", "ebook"),
        120,
        tasks=(
            ("Approve cover", -10, "OPEN", "Priya"),
            ("Send proofs to author", -3, "COMPLETE", "Priya"),
            ("Brief the sales team", 14, "OPEN", "Sam"),
        ),
    ),
    Spec("Moths of Kent", "Production", ("paperback",), 45, tasks=(("Confirm print order", -2, "OPEN", None),)),
    # --- formats -----------------------------------------------------------------------------------
    Spec("The Listening Room", "Production", ("hardback", "audiobook"), 30, no_price=("audiobook",)),
    Spec("Northern Tales", "Production", ("paperback", "ebook"), 50, statuses={"ebook": "01"}, no_price=("ebook",)),
    Spec("Broken Spines", "Production", ("hardback", "ebook"), 60, isbn_override={"ebook": "978-0-00-000000-1"}),
    Spec("The Quiet Press", "Production", ("paperback", "ebook"), 90, isbn_override={"ebook": "No ISBN"}),
)


def build_golden(anchor: date | None = None) -> Catalogue:
    """The golden catalogue around `anchor` (default: today, so offsets read as written)."""
    anchor = anchor or datetime.now(UTC).date()
    catalogue = Catalogue(SEED, len(GOLDEN), anchor)
    for spec in GOLDEN:
        _add(catalogue, spec)
    return catalogue


def _day(anchor: date, days: int) -> date:
    return date.fromordinal(anchor.toordinal() + days)


def _isbn(product_id: int) -> str:
    first12 = f"97819990{product_id:04d}"
    return first12 + check_digit13(first12)


def _add(cat: Catalogue, spec: Spec) -> None:
    anchor = cat.anchor
    work_id = cat.next_id("work")
    first = _day(anchor, spec.publishes_in) if spec.publishes_in is not None else None
    season = spec.season or season_for(first or _day(anchor, 700))
    work = Work(work_id, spec.title, None, spec.work_type, "Harrow & Finch", season, "Core", spec.stage)
    work.in_house_ref = f"GOLD-{work_id:03d}"
    work.subjects = _SUBJECTS[spec.work_type]
    work.has_texts = spec.description
    if spec.cover:
        work.resources = (
            (cat.next_id("resource"), f"https://covers.sandbox.consonance.test/golden/{work_id}.jpg", "Front cover"),
        )
    for sequence, (name, key_names, role) in enumerate(spec.people, start=1):
        person = Person(cat.next_id("person"), name, key_names)
        cat.persons[person.id] = person
        work.contributions.append(Contribution(cat.next_id("contribution"), role, person, sequence))
    for fmt in spec.formats:
        product_id = cat.next_id("product")
        day = _day(first, spec.later.get(fmt, 0)) if first else None
        default_status = "02" if day is None or day > anchor else "04"
        status = spec.statuses.get(fmt) or spec.status or default_status
        isbn = _isbn(product_id) if spec.isbns else None
        if fmt in spec.isbn_override:
            isbn = spec.isbn_override[fmt]
        planned = _day(day, -spec.planned_earlier_by) if day else None
        prices = () if fmt in spec.no_price else _PRICES[fmt]
        product = Product(product_id, work, fmt, isbn, day, planned, status, prices)
        work.products.append(product)
        cat.add_product(product)
    due = _day(anchor, spec.delivery_due_in)
    delivery = DeliveryDate(
        cat.next_id("delivery_date"),
        "Full manuscript",
        due,
        _day(anchor, spec.delivery_slipped_to) if spec.delivery_slipped_to is not None else None,
    )
    cat.delivery_dates[delivery.id] = delivery
    author = spec.people[0][0]
    contract = Contract(
        cat.next_id("contract"),
        f"{author}: {spec.title}",
        _day(anchor, -700),
        "Life of copyright",
        [delivery],
        (("World English", 80.0, ()), ("Audio", 75.0, ())),
        None,
        10000.0,
    )
    contract.works.append(work)
    work.contracts.append(contract)
    cat.contracts[contract.id] = contract
    tasks = []
    for title, due_in, status, assignee in spec.tasks:
        task = Task(cat.next_id("task"), work, title, _day(anchor, due_in), assignee)
        if status == "COMPLETE":
            task.status = "COMPLETE"
            task.completed_at = datetime.combine(_day(anchor, due_in), datetime.min.time(), tzinfo=UTC)
        tasks.append(task)
        cat.tasks[task.id] = task
    work.tasks = tasks
    cat.works[work.id] = work
