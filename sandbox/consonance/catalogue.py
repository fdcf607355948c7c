"""Deterministic generator of a realistic publishing catalogue (10 to 50,000 works).

Each work draws from its own RNG seeded by (seed, work id), and ids are handed out in work order, so
the same seed always gives the same data and a smaller catalogue is a prefix of a larger one.
About 12% of works carry injected non-conformities (see DEFECT_SHARE and docs/consonance-sandbox.md).
"""

from __future__ import annotations

import bisect
import gc
import logging
import random
from datetime import UTC, date, datetime, time

from . import vocab
from .isbn import check_digit13, hyphenate
from .model import Catalogue, Contract, Contribution, DeliveryDate, Note, Person, Product, Task, Work

log = logging.getLogger("sandbox.consonance.catalogue")

MIN_SIZE, MAX_SIZE = 10, 50_000
DEFECT_SHARE = 0.12
DEFECT_KINDS = (
    "missing_isbn",
    "no_isbn_literal",
    "hyphenated_isbn",
    "bad_subject",
    "name_order",
    "missing_price",
    "missing_description",
)

# Shared immutable rows: generated records point at these rather than allocating their own.
_PRICES = {
    fmt: tuple((("GBP", gbp, "02", "05"), ("USD", usd, "01", "05")) for gbp, usd in points)
    for fmt, points in vocab.PRICE_POINTS.items()
}
_SUBJECTS = {
    work_type: tuple(
        (
            ("BISAC", vocab.BISAC[b][0], vocab.BISAC[b][1], True, None),
            ("THEMA", vocab.THEMA[t][0], vocab.THEMA[t][1], True, vocab.THEMA[t][2]),
        )
        for b, t in pairs
    )
    for work_type, pairs in vocab.SUBJECT_PAIRS.items()
}
_BAD_SUBJECTS = tuple(("BISAC", code, description, True, None) for code, description in vocab.BAD_SUBJECT_CODES)
_BIC = tuple(("BIC", code, description, False, None) for code, description in vocab.BIC)


def default_anchor() -> date:
    """Dates are generated around the first day of the current month, so a demo never goes stale."""
    today = datetime.now(UTC).date()
    return today.replace(day=1)


def build_catalogue(seed: int = 42, size: int = 500, anchor: date | None = None) -> Catalogue:
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, not {size}")
    catalogue = Catalogue(seed, size, anchor or default_anchor())
    generator = _Generator(catalogue)
    # The build makes ~1M long-lived objects and no garbage cycles: pausing the cyclic collector keeps
    # it linear (otherwise repeated full collections over the growing heap dominate at 50,000 works).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(size):
            generator.work()
    finally:
        if collecting:
            gc.enable()
    log.info("built catalogue", extra={"seed": seed, "size": size, "products": len(catalogue.products)})
    return catalogue


def acquire_title(catalogue: Catalogue, title: str | None = None, imprint: str | None = None) -> Work:
    """A newly acquired title: Acquisition stage, planned formats without ISBNs, an unsigned contract."""
    work = _Generator(catalogue).work(acquired=True)
    if title:
        work.title_prefix, work.title = None, title
    if imprint:
        work.imprint = imprint
    return work


def season_for(day: date) -> str:
    return f"{('Spring', 'Summer', 'Autumn')[(day.month - 1) // 4]} {day.year}"


def stage_for(days_ahead: int) -> str:
    """The stage a title on schedule would be in, given days until publication."""
    thresholds = (
        (0, "Published"),
        (60, "Production"),
        (120, "Proofs"),
        (180, "Typesetting"),
        (240, "Copy-editing"),
        (300, "Editorial"),
        (365, "Manuscript delivered"),
        (480, "Writing"),
        (600, "Contracted"),
    )
    for limit, stage in thresholds:
        if days_ahead <= limit:
            return stage
    return "Acquisition"


class _Generator:
    """Appends works to a catalogue; per-work randomness comes only from (seed, work id)."""

    def __init__(self, catalogue: Catalogue):
        self.cat = catalogue
        if not hasattr(catalogue, "_generation"):
            catalogue._generation = {"authors": [], "series": []}
        self.state = catalogue._generation

    def work(self, acquired: bool = False) -> Work:
        cat = self.cat
        work_id = cat.next_id("work")
        rng = random.Random(cat.seed * 1_000_003 + work_id)
        anchor = cat.anchor
        days_ahead = _between(rng, 540, 720) if acquired else _between(rng, -3 * 365, 2 * 365)
        publication = _add_days(anchor, days_ahead)
        work_type = _weighted(rng, vocab.WORK_TYPES, _WORK_TYPE_WEIGHTS)
        stage = "Acquisition" if acquired else stage_for(days_ahead)
        if not acquired and stage not in ("Published", "Acquisition") and rng.random() < 0.1:
            behind = vocab.PROJECT_STAGES.index(stage) - _between(rng, 1, 2)  # running late: a release risk
            stage = vocab.PROJECT_STAGES[max(behind, 1)]
        prefix, title = _title(rng)
        work = Work(
            work_id,
            title,
            prefix,
            work_type,
            _pick(rng, vocab.IMPRINTS if work_type != "Children's" else ("Wren Children's", "Lantern Books")),
            season_for(publication),
            _weighted(rng, vocab.MARKETING_TIERS, _TIER_WEIGHTS),
            stage,
        )
        defects = () if acquired or rng.random() >= DEFECT_SHARE else _defects(rng)
        work.defects = defects
        if rng.random() < 0.3:
            work.subtitle = _pick(rng, vocab.SUBTITLES)
        work.in_house_ref = f"{''.join(w[0] for w in work.imprint.split() if w[0].isalpha())}-{work_id:05d}"
        if rng.random() < 0.3:
            work.doi = f"10.55555/sandbox.{work_id}"
        if rng.random() < 0.2:
            work.salesforce_uid = f"a0B{rng.getrandbits(48):012x}"
        subjects = _pick(rng, _SUBJECTS[work.work_type])
        if rng.random() < 0.3:
            subjects = subjects + (_pick(rng, _BIC),)
        if "bad_subject" in defects:
            subjects = (_pick(rng, _BAD_SUBJECTS),) + subjects[1:]
        work.subjects = subjects
        if work_type == "Non-fiction" and rng.random() < 0.5:
            work.lc_subject_heading = subjects[0][2].split(" / ")[0].title()
        work.rights = _weighted(rng, vocab.RIGHTS_PROFILES, _RIGHTS_WEIGHTS)
        work.has_texts = "missing_description" not in defects
        self._contributors(work, rng, "name_order" in defects)
        self._series(work, rng)
        self._products(work, rng, publication, days_ahead, acquired, defects)
        self._contract(work, rng, publication, acquired)
        self._extras(work, rng, publication, days_ahead)
        cat.works[work.id] = work
        return work

    def _contributors(self, work: Work, rng: random.Random, wrong_order: bool) -> None:
        authors = self.state["authors"]
        if authors and not wrong_order and rng.random() < 0.2:
            author = authors[rng.randrange(max(0, len(authors) - 500), len(authors))]
        else:
            author = self._person(rng, wrong_order)
            if not wrong_order:
                authors.append(author)
        roles = [("A01", author)]
        extra = rng.random()
        if work.work_type == "Children's" and extra < 0.6:
            roles.append(("A12", self._person(rng)))
        elif work.work_type == "Non-fiction" and extra < 0.15:
            roles.append(("A23", self._person(rng)))
        elif work.work_type == "Fiction" and extra < 0.1:
            roles.append(("B06", self._person(rng)))
        elif work.work_type == "Poetry" and extra < 0.3:
            roles.insert(0, ("B01", self._person(rng)))
        for sequence, (role, person) in enumerate(roles, start=1):
            work.contributions.append(Contribution(self.cat.next_id("contribution"), role, person, sequence))

    def _person(self, rng: random.Random, wrong_order: bool = False) -> Person:
        forename, surname = _pick(rng, vocab.FORENAMES), _pick(rng, vocab.SURNAMES)
        key_names = f"{forename} {surname}" if wrong_order else surname
        isni = f"0000000{rng.randrange(10**9):09d}" if rng.random() < 0.4 else None
        person = Person(self.cat.next_id("person"), f"{forename} {surname}", key_names, isni, _pick(rng, vocab.GENDERS))
        self.cat.persons[person.id] = person
        return person

    def _series(self, work: Work, rng: random.Random) -> None:
        if rng.random() >= 0.15:
            return
        open_series = self.state["series"]
        if open_series and rng.random() < 0.6:
            entry = open_series[rng.randrange(max(0, len(open_series) - 20), len(open_series))]
            entry[2] += 1
        else:
            entry = [self.cat.next_id("series"), f"The {_pick(rng, vocab.NOUNS)} {_pick(rng, vocab.SERIES_WORDS)}", 1]
            open_series.append(entry)
        work.series = ((self.cat.next_id("series_membership"), entry[0], entry[1], entry[2]),)

    def _products(
        self, work: Work, rng: random.Random, publication: date, days_ahead: int, acquired: bool, defects: tuple
    ) -> None:
        if work.work_type == "Poetry":
            formats = ["paperback", "ebook"]
        elif work.work_type == "Children's":
            formats = [_pick(rng, ("hardback", "paperback"))] + (["ebook"] if rng.random() < 0.5 else [])
        else:
            formats = ["hardback", "ebook", "paperback"] if rng.random() < 0.6 else ["paperback", "ebook"]
        if work.work_type != "Poetry" and rng.random() < (0.2 if work.work_type == "Children's" else 0.45):
            formats.append("audiobook")
        slipped = 0 if acquired or rng.random() >= 0.15 else _between(rng, 30, 120)
        words = _between(rng, 5_000, 40_000) if work.work_type == "Children's" else _between(rng, 20_000, 140_000)
        for fmt in formats:
            product_id = self.cat.next_id("product")
            day = _add_days(publication, 365) if fmt == "paperback" and formats[0] == "hardback" else publication
            status = "02" if day > self.cat.anchor else ("07" if days_ahead < -900 and rng.random() < 0.3 else "04")
            prices = _pick(rng, _PRICES[fmt])
            isbn = None if acquired else _isbn13(product_id)
            product = Product(product_id, work, fmt, isbn, day, _add_days(day, -slipped), status, prices)
            if fmt in ("hardback", "paperback"):
                product.trim = _pick(rng, vocab.TRIM_SIZES[fmt])
                main = max(16, words // 330)
                product.pages = (_between(rng, 6, 16), main, _between(rng, 2, 16), _pick(rng, (0, 0, 0, 8, 16)))
            if fmt != "audiobook":
                product.word_count = words
            else:
                product.running_time = words // 155
            work.products.append(product)
        if defects:
            self._break_products(work, rng, defects)
        for product in work.products:
            self.cat.add_product(product)

    def _break_products(self, work: Work, rng: random.Random, defects: tuple) -> None:
        product = _pick(rng, work.products)
        if "missing_isbn" in defects:
            product.isbn13 = None
        elif "no_isbn_literal" in defects:
            product.isbn13 = "No ISBN"
        elif "hyphenated_isbn" in defects:
            product.isbn13 = hyphenate(product.isbn13, 3)
        if "missing_price" in defects:
            _pick(rng, work.products).prices = ()

    def _contract(self, work: Work, rng: random.Random, publication: date, acquired: bool) -> None:
        cat = self.cat
        ms_due = _add_days(publication, -_between(rng, 270, 400))
        deliveries = [DeliveryDate(cat.next_id("delivery_date"), "Full manuscript", ms_due)]
        if rng.random() < 0.4:
            deliveries.append(
                DeliveryDate(
                    cat.next_id("delivery_date"),
                    _pick(rng, vocab.DELIVERY_DESCRIPTIONS[1:]),
                    _add_days(ms_due, _between(rng, 45, 90)),
                )
            )
        for delivery in deliveries:
            if not acquired and rng.random() < 0.2:
                delivery.slipped_date = _add_days(delivery.date_due, _between(rng, 14, 120))
            cat.delivery_dates[delivery.id] = delivery
        rights = tuple(
            (right, float(_pick(rng, (50, 75, 80, 85, 90))), ("US", "CA") if right == "US" else ())
            for right in rng.sample(vocab.RIGHT_TYPES, _between(rng, 2, 4))
        )
        author = work.contributions[0].person
        signed = None if acquired else _add_days(publication, -_between(rng, 420, 900))
        contract = Contract(
            cat.next_id("contract"),
            f"{author.name}: {work.full_title}",
            signed,
            _pick(rng, vocab.CONTRACT_TERMS),
            deliveries,
            rights,
            float(_pick(rng, (1500, 3000))) if rng.random() < 0.05 else None,
            float(_pick(rng, (2000, 5000, 10000, 25000, 50000, 100000))),
        )
        contract.works.append(work)
        work.contracts.append(contract)
        cat.contracts[contract.id] = contract

    def _extras(self, work: Work, rng: random.Random, publication: date, days_ahead: int) -> None:
        cat = self.cat
        stage_index = vocab.PROJECT_STAGES.index(work.stage)
        if stage_index >= vocab.PROJECT_STAGES.index("Editorial"):
            work.resources = (
                (
                    cat.next_id("resource"),
                    f"https://covers.sandbox.consonance.test/works/{work.id}/front.jpg",
                    "Front cover",
                ),
            )
        if work.stage == "Published" and any(p.trim for p in work.products):
            work.production_runs = tuple(
                (
                    cat.next_id("production_run"),
                    _pick(rng, (1500, 3000, 5000, 10000)),
                    _pick(rng, vocab.PRINTERS),
                    _add_days(publication, -_between(rng, 20, 40) + 200 * n),
                )
                for n in range(_between(rng, 1, 2))
            )
            if rng.random() < 0.02:
                name, achievement = _pick(rng, vocab.PRIZES)
                work.prizes = ((cat.next_id("prize"), name, publication.year, achievement),)
        if work.stage != "Published" and rng.random() < 0.5:
            tasks = []
            for title in rng.sample(vocab.TASK_TITLES, _between(rng, 1, 3)):
                due = _add_days(cat.anchor, _between(rng, -30, 90))
                task = Task(cat.next_id("task"), work, title, due, _pick(rng, vocab.FORENAMES))
                if due < cat.anchor and rng.random() < 0.6:
                    task.status = "COMPLETE"
                    task.completed_at = datetime.combine(due, time(16, 0), tzinfo=UTC)
                tasks.append(task)
                cat.tasks[task.id] = task
            work.tasks = tasks
        if rng.random() < 0.2:
            signed = work.contracts[0].signed_date or cat.anchor
            work.notes = [
                Note(
                    cat.next_id("note"),
                    f"Acquired for the {work.season} list; {work.marketing_tier.lower()} tier.",
                    datetime.combine(signed, time(10, 0), tzinfo=UTC),
                )
            ]


def _defects(rng: random.Random) -> tuple[str, ...]:
    """One defect (70%) or two; at most one of the ISBN kinds, since they compete for the same field."""
    first = _pick(rng, DEFECT_KINDS)
    if rng.random() < 0.7:
        return (first,)
    isbn_kinds = ("missing_isbn", "no_isbn_literal", "hyphenated_isbn")
    others = [k for k in DEFECT_KINDS if k != first and not (first in isbn_kinds and k in isbn_kinds)]
    return first, _pick(rng, others)


def _title(rng: random.Random) -> tuple[str | None, str]:
    pattern = rng.randrange(5)
    adjective, noun = _pick(rng, vocab.ADJECTIVES), _pick(rng, vocab.NOUNS)
    if pattern == 0:
        return "The", f"{adjective} {noun}"
    if pattern == 1:
        return "The", f"{noun} of {_pick(rng, vocab.PLACES)}"
    if pattern == 2:
        return "A", f"{adjective} {noun}"
    if pattern == 3:
        return None, f"{_pick(rng, vocab.FORENAMES)}'s {noun}"
    return None, f"{adjective} {noun}s"


def _isbn13(product_id: int) -> str:
    first12 = f"9781{910 + product_id // 100_000:03d}{product_id % 100_000:05d}"
    return first12 + check_digit13(first12)


_WORK_TYPE_WEIGHTS = (0.55, 0.85, 0.97, 1.0)  # cumulative: Fiction 55%, Non-fiction 30%, Children's 12%, Poetry 3%
_TIER_WEIGHTS = (0.05, 0.20, 0.60, 1.0)  # Lead 5%, Key 15%, Core 40%, Standard 40%
_RIGHTS_WEIGHTS = (0.35, 0.70, 0.90, 1.0)


def _weighted(rng: random.Random, options, cumulative):
    return options[bisect.bisect_right(cumulative, rng.random())]


def _pick(rng: random.Random, options):
    """rng.choice without its overhead (the generator calls it ~20 times per work)."""
    return options[int(rng.random() * len(options))]


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


_DATES: dict[int, date] = {}


def _add_days(value: date, days: int) -> date:
    """Dates are interned: a catalogue has a few thousand distinct days but ~10 date fields per work."""
    ordinal = value.toordinal() + days
    day = _DATES.get(ordinal)
    if day is None:
        day = _DATES[ordinal] = date.fromordinal(ordinal)
    return day
