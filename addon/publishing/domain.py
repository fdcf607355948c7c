"""Plain domain objects for titles, formats, rights and workflow, free of any wire format or I/O.

The Consonance gateway builds these from API responses; flows, macros and rules only ever see these.
Every object is a frozen dataclass (collections are tuples), so they hash, compare and cache safely.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

# --- ISBNs ---------------------------------------------------------------------------------------

ISBN_MISSING = "missing ISBN"
ISBN_NO_ISBN = "No ISBN"
ISBN_BAD_CHECK_DIGIT = "bad ISBN-13 check digit"
ISBN_MALFORMED = "not a 13-digit ISBN"
ISBN_BAD_PREFIX = "ISBN-13 must start 978 or 979"

_ISBN_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
_NO_ISBN = re.compile(r"^\s*no\s*isbn\s*$", re.IGNORECASE)


def is_no_isbn(raw: str | None) -> bool:
    """Consonance stores the literal text "No ISBN" on products that deliberately have none."""
    return raw is not None and bool(_NO_ISBN.match(raw))


def strip_isbn(raw: str) -> str:
    """Drop hyphens, dashes and spaces: '978-1-4028-9462-6' -> '9781402894626'."""
    return _ISBN_SEPARATORS.sub("", raw).upper()


def isbn13_check_digit(first_twelve: str) -> int:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first_twelve))
    return (10 - total % 10) % 10


def is_valid_isbn13(value: str) -> bool:
    return (
        len(value) == 13
        and value.isdigit()
        and value[:3] in ("978", "979")
        and isbn13_check_digit(value[:12]) == int(value[12])
    )


def _isbn10_to_isbn13(value: str) -> str | None:
    if len(value) != 10 or not value[:9].isdigit() or not (value[9].isdigit() or value[9] == "X"):
        return None
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(value))
    if total % 11:
        return None
    stem = "978" + value[:9]
    return stem + str(isbn13_check_digit(stem))


def parse_isbn(raw: str | None) -> tuple[str | None, str | None]:
    """Return (normalised ISBN-13 or None, problem text or None) for whatever a record holds.

    A valid ISBN-10 is converted to its 978 ISBN-13; anything else that is not a valid
    ISBN-13 yields None plus the reason, so checks can report it in words.
    """
    if raw is None or not str(raw).strip():
        return None, ISBN_MISSING
    raw = str(raw)
    if is_no_isbn(raw):
        return None, ISBN_NO_ISBN
    digits = strip_isbn(raw)
    if len(digits) == 13 and digits.isdigit():
        if digits[:3] not in ("978", "979"):
            return None, ISBN_BAD_PREFIX
        return (digits, None) if is_valid_isbn13(digits) else (None, ISBN_BAD_CHECK_DIGIT)
    converted = _isbn10_to_isbn13(digits)
    if converted:
        return converted, None
    return None, ISBN_MALFORMED


def normalise_isbn(raw: str | None) -> str | None:
    """The valid ISBN-13 in `raw`, or None."""
    return parse_isbn(raw)[0]


# --- Formats ---------------------------------------------------------------------------------------


class FormatKind(str, enum.Enum):
    HARDBACK = "hardback"
    PAPERBACK = "paperback"
    EBOOK = "ebook"
    AUDIOBOOK = "audiobook"
    OTHER = "other"


_FORM_CODE_KINDS = {
    "BB": FormatKind.HARDBACK,
    "BC": FormatKind.PAPERBACK,
    "BD": FormatKind.PAPERBACK,  # loose-leaf: sold alongside paperbacks in practice
    "DG": FormatKind.EBOOK,
    "ED": FormatKind.EBOOK,
    "EA": FormatKind.EBOOK,
    "EB": FormatKind.EBOOK,
    "AJ": FormatKind.AUDIOBOOK,
    "AN": FormatKind.AUDIOBOOK,
    "AC": FormatKind.AUDIOBOOK,
    "AE": FormatKind.AUDIOBOOK,
    "AB": FormatKind.AUDIOBOOK,
}


def format_kind(form_code: str | None, typename: str | None = None) -> FormatKind:
    """Classify a product by its ONIX product form code, falling back on its GraphQL type name."""
    code = (form_code or "").lstrip("_").upper()
    if code in _FORM_CODE_KINDS:
        return _FORM_CODE_KINDS[code]
    if code.startswith("A"):
        return FormatKind.AUDIOBOOK
    if code.startswith(("D", "E")):
        return FormatKind.EBOOK
    name = (typename or "").lower()
    if "audio" in name:
        return FormatKind.AUDIOBOOK
    if "digital" in name or "ebook" in name or "electronic" in name:
        return FormatKind.EBOOK
    return FormatKind.OTHER


@dataclass(frozen=True)
class Price:
    amount: Decimal
    currency: str
    type_code: str | None = None  # ONIX price type without the GraphQL underscore, e.g. "02"


@dataclass(frozen=True)
class Subject:
    scheme: str  # BISAC, BIC, THEMA
    code: str
    description: str | None = None
    main: bool = False


@dataclass(frozen=True)
class PublishingStatus:
    code: str | None
    description: str | None = None


@dataclass(frozen=True)
class Format:
    product_id: str
    kind: FormatKind
    form_code: str | None = None
    typename: str | None = None
    isbn13: str | None = None
    isbn_problem: str | None = None
    isbn_raw: str | None = None
    publication_date: date | None = None
    planned_publication_date: date | None = None
    publishing_status: PublishingStatus | None = None
    prices: tuple[Price, ...] = ()
    subjects: tuple[Subject, ...] = ()
    description: str | None = None
    has_cover: bool = False
    for_sale_countries: tuple[str, ...] = ()
    not_for_sale_countries: tuple[str, ...] = ()
    sales_rights_description: str | None = None
    is_for_sale_worldwide: bool | None = None
    full_title: str | None = None

    @property
    def effective_publication_date(self) -> date | None:
        """The actual date if set, else the planned one."""
        return self.publication_date or self.planned_publication_date

    def price_in(self, currency: str) -> Price | None:
        return next((p for p in self.prices if p.currency == currency), None)

    @property
    def main_subjects(self) -> tuple[Subject, ...]:
        return tuple(s for s in self.subjects if s.main)


# --- Works, people, contracts ------------------------------------------------------------------


@dataclass(frozen=True)
class Contributor:
    """A contribution as Consonance stores it: `name` is the display form ("Arthur Marchetti") and
    `key_names` the surname part ("Marchetti", ONIX KeyNames); None when the record has no key names."""

    name: str
    role_code: str | None = None  # ONIX contributor role, e.g. "A01"
    role_label: str | None = None  # e.g. "By (author)"
    key_names: str | None = None

    @property
    def forenames(self) -> str | None:
        """The display name without its key names ("Arthur"), when the key names are its surname."""
        if not self.key_names or not self.name:
            return None
        name, key = " ".join(self.name.split()), " ".join(self.key_names.split())
        if name.endswith(key) and len(name) > len(key) and name[-len(key) - 1] == " ":
            return name[: -len(key) - 1].strip() or None
        if name.startswith(key + ","):
            return name[len(key) + 1 :].strip() or None
        return None

    @property
    def inverted_name(self) -> str | None:
        """ "Marchetti, Arthur": derived from the structured fields (None when they do not allow it)."""
        if not self.key_names:
            return None
        forenames = self.forenames
        key = " ".join(self.key_names.split())
        if forenames:
            return f"{key}, {forenames}"
        return key if " ".join(self.name.split()) == key else None


_ROLE_LABELS = {
    "A01": "By (author)",
    "A02": "With",
    "A12": "Illustrated by",
    "A13": "Photographs by",
    "A15": "Preface by",
    "A19": "Afterword by",
    "A23": "Foreword by",
    "A24": "Introduction by",
    "B01": "Edited by",
    "B06": "Translated by",
    "E07": "Read by",
}


def contributor_role_label(role_code: str | None) -> str | None:
    """A human label for the common ONIX contributor role codes (None if unknown)."""
    return _ROLE_LABELS.get((role_code or "").lstrip("_").upper())


def credit_line(contributors: Sequence[Contributor]) -> str:
    """The book's credit as a cover or catalogue gives it: "Sappho; translated by Anne Carson". Authors (and
    contributors whose role is not known) come first by name; every other role follows in words."""
    authors: list[str] = []
    others: dict[str, list[str]] = {}
    for contributor in contributors:
        label = contributor_role_label(contributor.role_code)
        if label is None or label.startswith("By"):
            authors.append(contributor.name)
        else:
            others.setdefault(label[0].lower() + label[1:], []).append(contributor.name)
    parts = [", ".join(authors)] if authors else []
    parts += [f"{label} {', '.join(names)}" for label, names in others.items()]
    return "; ".join(parts)


@dataclass(frozen=True)
class DeliveryDate:
    date_due: date | None
    slipped_date: date | None = None

    @property
    def is_slipped(self) -> bool:
        return self.slipped_date is not None and self.slipped_date != self.date_due

    @property
    def expected(self) -> date | None:
        return self.slipped_date or self.date_due


@dataclass(frozen=True)
class LicensedRight:
    right_type: str
    id: str | None = None
    territories: tuple[str, ...] = ()  # country codes; empty means worldwide


@dataclass(frozen=True)
class Contract:
    id: str
    name: str | None = None
    signed_date: date | None = None
    delivery_dates: tuple[DeliveryDate, ...] = ()
    licensed_rights: tuple[LicensedRight, ...] = ()


STAGE_ORDER = (  # the usual order, used only when Consonance's own stage list is not at hand
    "acquisition",
    "contracted",
    "writing",
    "manuscript delivered",
    "editorial",
    "copy-editing",
    "typesetting",
    "proofs",
    "production",
    "published",
)


@dataclass(frozen=True)
class Stage:
    """A project stage; `rank` orders stages from acquisition to published (None if unknown).

    `position` comes from Consonance's own stage list when known; otherwise the usual order is used.
    """

    name: str
    position: int | None = field(default=None, compare=False)

    @property
    def rank(self) -> int | None:
        if self.position is not None:
            return self.position
        key = self.name.strip().lower()
        return STAGE_ORDER.index(key) if key in STAGE_ORDER else None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Title:
    """A Consonance work with its formats (products), contributors and contracts."""

    work_id: str
    title: str
    subtitle: str | None = None
    imprint: str | None = None
    stage: Stage | None = None
    season: str | None = None
    marketing_tier: str | None = None
    series: tuple[str, ...] = ()
    contributors: tuple[Contributor, ...] = ()
    formats: tuple[Format, ...] = ()
    contracts: tuple[Contract, ...] = ()
    # Facts this tenant's Consonance cannot tell ("Imprint", "Contracts", ...): unknown, not empty.
    unknown: tuple[str, ...] = ()

    def consonance_url(self, host: str) -> str:
        """Link to this work in the tenant's Consonance web app."""
        return work_url(host, self.work_id)

    def format_by_isbn(self, isbn: str) -> Format | None:
        wanted = normalise_isbn(isbn)
        return next((f for f in self.formats if wanted and f.isbn13 == wanted), None)

    @property
    def earliest_publication_date(self) -> date | None:
        dates = [f.effective_publication_date for f in self.formats if f.effective_publication_date]
        return min(dates) if dates else None

    @property
    def rights_position(self) -> RightsPosition:
        return RightsPosition.derive(self.formats, self.contracts)


def work_url(host: str, work_id: str) -> str:
    return f"{host.rstrip('/')}/works/{work_id}"


@dataclass(frozen=True)
class RightsPosition:
    """Where a title may be sold and which rights are licensed, from its formats and contracts."""

    for_sale_countries: tuple[str, ...] = ()
    not_for_sale_countries: tuple[str, ...] = ()
    world_rights: bool = False
    sales_rights_descriptions: tuple[str, ...] = ()
    licensed_right_types: tuple[str, ...] = ()
    contract_names: tuple[str, ...] = ()

    @classmethod
    def derive(cls, formats: Sequence[Format], contracts: Sequence[Contract]) -> RightsPosition:
        for_sale = sorted({c for f in formats for c in f.for_sale_countries})
        not_for_sale = sorted({c for f in formats for c in f.not_for_sale_countries})
        descriptions = sorted({f.sales_rights_description for f in formats if f.sales_rights_description})
        right_types = sorted({r.right_type for c in contracts for r in c.licensed_rights})
        return cls(
            for_sale_countries=tuple(for_sale),
            not_for_sale_countries=tuple(not_for_sale),
            world_rights=any(f.is_for_sale_worldwide for f in formats),
            sales_rights_descriptions=tuple(descriptions),
            licensed_right_types=tuple(right_types),
            contract_names=tuple(c.name for c in contracts if c.name),
        )

    def may_sell_in(self, country: str) -> bool:
        country = country.upper()
        if country in self.not_for_sale_countries:
            return False
        return self.world_rights or country in self.for_sale_countries


# --- Workflow write-backs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    id: str
    text: str
    created_at: datetime | None = None
    work_id: str | None = None
    external_ref: str | None = None  # the idempotency key it was written with


@dataclass(frozen=True)
class Task:
    """A Consonance to-do; `external_ref` ties it to the Confluence gate that created it."""

    id: str
    title: str
    status: str
    due_date: date | None = None
    external_ref: str | None = None
    work_id: str | None = None
    assignee: str | None = None  # the person Consonance shows the to-do against, when it says

    @property
    def is_done(self) -> bool:
        return self.status.lower() in {"done", "complete", "completed"}


@dataclass(frozen=True)
class WebLink:
    id: str | None
    url: str
    role: str | None = None
    note: str | None = None


# --- Change detection ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FormatFingerprint:
    """The parts of a format that dates, readiness and metadata checks depend on."""

    product_id: str
    kind: FormatKind
    isbn13: str | None
    isbn_problem: str | None
    publication_date: date | None
    planned_publication_date: date | None
    status_code: str | None
    price_currencies: tuple[str, ...]
    subject_codes: tuple[str, ...]
    has_description: bool
    has_cover: bool
    for_sale_countries: tuple[str, ...] = ()
    not_for_sale_countries: tuple[str, ...] = ()
    is_for_sale_worldwide: bool | None = None

    @classmethod
    def of(cls, fmt: Format) -> FormatFingerprint:
        return cls(
            product_id=fmt.product_id,
            kind=fmt.kind,
            isbn13=fmt.isbn13,
            isbn_problem=fmt.isbn_problem,
            publication_date=fmt.publication_date,
            planned_publication_date=fmt.planned_publication_date,
            status_code=fmt.publishing_status.code if fmt.publishing_status else None,
            price_currencies=tuple(sorted({p.currency for p in fmt.prices})),
            subject_codes=tuple(sorted(f"{s.scheme}:{s.code}{'*' if s.main else ''}" for s in fmt.subjects)),
            has_description=bool(fmt.description and fmt.description.strip()),
            has_cover=fmt.has_cover,
            for_sale_countries=tuple(sorted(fmt.for_sale_countries)),
            not_for_sale_countries=tuple(sorted(fmt.not_for_sale_countries)),
            is_for_sale_worldwide=fmt.is_for_sale_worldwide,
        )


@dataclass(frozen=True)
class TitleFingerprint:
    """A compact summary of one work; its `digest` changes whenever anything the flows watch does."""

    work_id: str
    title: str
    stage: str | None
    season: str | None
    marketing_tier: str | None
    # (name, role code, key names): the key names decide whether a name can be inverted (a metadata check)
    contributors: tuple[tuple[str, str | None, str | None], ...] = ()
    formats: tuple[FormatFingerprint, ...] = field(default=())
    licensed_rights: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (right type, territories), sorted

    @classmethod
    def of(cls, title: Title) -> TitleFingerprint:
        return cls(
            work_id=title.work_id,
            title=title.title,
            stage=title.stage.name if title.stage else None,
            season=title.season,
            marketing_tier=title.marketing_tier,
            contributors=tuple((c.name, c.role_code, c.key_names) for c in title.contributors),
            formats=tuple(sorted((FormatFingerprint.of(f) for f in title.formats), key=lambda f: f.product_id)),
            licensed_rights=tuple(
                sorted(
                    {(r.right_type, tuple(sorted(r.territories))) for c in title.contracts for r in c.licensed_rights}
                )
            ),
        )

    @property
    def digest(self) -> str:
        """A stable digest (same content, same digest across processes and versions of Python). It starts
        with "k", which no digest stored before key names were watched does (those are all hex)."""
        return "k" + _digest_of(_plain(self))[:31]

    @property
    def digest_before_key_names(self) -> str:
        """The digest as it was computed before contributors' key names were watched: a snapshot stored then
        with this digest holds the same data, fingerprinted the old way."""
        plain = _plain(self)
        assert isinstance(plain, dict)
        plain["contributors"] = [contributor[:2] for contributor in plain["contributors"]]
        return _digest_of(plain)[:32]

    @property
    def publication_dates(self) -> tuple[date, ...]:
        return tuple(
            sorted({d for f in self.formats for d in (f.publication_date or f.planned_publication_date,) if d})
        )


def watches_key_names(digest: str) -> bool:
    """Whether a stored fingerprint digest was computed with contributors' key names (see `digest`)."""
    return digest.startswith("k")


def _digest_of(plain: object) -> str:
    payload = json.dumps(plain, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    """Turn dataclasses, enums, tuples and dates into JSON-ready values for hashing."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
