"""The field vocabulary: names people write in a standards table, mapped to values on a Title or Format.

Editors write "Price (GBP)", "BISAC main subject" or "Pub date"; the rule engine needs one key per
field and a way to read its values. Keeping the mapping here lets the vocabulary grow in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .domain import Format, Title, is_no_isbn

TITLE = "title"
FORMAT = "format"
TEXT = "text"
DATE = "date"
FLAG = "flag"

Reader = Callable[[Title, "Format | None"], tuple[object, ...]]

BISAC_CODE = re.compile(r"^[A-Z]{3}\d{6}$")


@dataclass(frozen=True)
class FieldSpec:
    """One checkable field: `level` says whether it is read once per title or once per format."""

    key: str
    label: str
    level: str
    value_type: str
    read: Reader
    available: bool = True  # False: people may name it, but the Consonance record we read does not carry it yet
    is_bisac: bool = False


def _texts(*values: object) -> tuple[str, ...]:
    return tuple(v.strip() for v in values if isinstance(v, str) and v.strip())


def _isbn(_: Title, fmt: Format | None) -> tuple[object, ...]:
    if fmt is None:
        return ()
    if fmt.isbn13:
        return (fmt.isbn13,)
    raw = fmt.isbn_raw
    return _texts(raw) if raw and not is_no_isbn(raw) else ()


def _delivery(title: Title, _: Format | None) -> tuple[object, ...]:
    """The latest expected manuscript delivery across the title's contracts (slipped date if slipped)."""
    dates = [d.expected for c in title.contracts for d in c.delivery_dates if d.expected]
    return (max(dates),) if dates else ()


def _subjects(scheme: str | None, main_only: bool) -> Reader:
    def read(_: Title, fmt: Format | None) -> tuple[object, ...]:
        if fmt is None:
            return ()
        return _texts(
            *(
                s.code
                for s in fmt.subjects
                if (scheme is None or s.scheme.upper() == scheme) and (s.main or not main_only)
            )
        )

    return read


def _price(currency: str | None) -> Reader:
    def read(_: Title, fmt: Format | None) -> tuple[object, ...]:
        if fmt is None:
            return ()
        return tuple(
            f"{p.amount} {p.currency}"
            for p in fmt.prices
            if p.amount is not None and (currency is None or p.currency.upper() == currency)
        )

    return read


def _dates(*values: object) -> tuple[date, ...]:
    return tuple(v for v in values if isinstance(v, date))


_STATIC: dict[str, FieldSpec] = {
    spec.key: spec
    for spec in (
        FieldSpec("isbn", "ISBN", FORMAT, TEXT, _isbn),
        FieldSpec("title", "Title", TITLE, TEXT, lambda t, f: _texts(t.title)),
        FieldSpec("subtitle", "Subtitle", TITLE, TEXT, lambda t, f: _texts(t.subtitle)),
        FieldSpec("series", "Series", TITLE, TEXT, lambda t, f: _texts(*t.series)),
        FieldSpec(
            "contributor_name", "Contributor name", TITLE, TEXT, lambda t, f: _texts(*(c.name for c in t.contributors))
        ),
        FieldSpec("imprint", "Imprint", TITLE, TEXT, lambda t, f: _texts(t.imprint)),
        FieldSpec("season", "Season", TITLE, TEXT, lambda t, f: _texts(t.season)),
        FieldSpec("description", "Description", FORMAT, TEXT, lambda t, f: _texts(f.description) if f else ()),
        FieldSpec(
            "publication_date",
            "Publication date",
            FORMAT,
            DATE,
            lambda t, f: _dates(f.effective_publication_date) if f else (),
        ),
        FieldSpec(
            "planned_publication_date",
            "Planned publication date",
            FORMAT,
            DATE,
            lambda t, f: _dates(f.planned_publication_date) if f else (),
        ),
        FieldSpec("delivery_date", "Contract delivery date", TITLE, DATE, _delivery),
        FieldSpec(
            "publishing_status",
            "Publishing status",
            FORMAT,
            TEXT,
            lambda t, f: _texts(f.publishing_status.code) if f and f.publishing_status else (),
        ),
        FieldSpec("cover", "Cover", FORMAT, FLAG, lambda t, f: ("cover image",) if f and f.has_cover else ()),
        FieldSpec("subjects", "Subjects", FORMAT, TEXT, _subjects(None, False)),
        FieldSpec("main_subject", "Main subject", FORMAT, TEXT, _subjects(None, True)),
        FieldSpec(
            "page_count",
            "Page count",
            FORMAT,
            TEXT,
            lambda t, f: _texts(str(getattr(f, "page_count", "") or "")) if f else (),
            available="page_count" in Format.__dataclass_fields__,
        ),
    )
}

_ALIASES: dict[str, str] = {
    "isbn": "isbn",
    "isbn 13": "isbn",
    "isbn13": "isbn",
    "ean": "isbn",
    "isbn/ean": "isbn",
    "isbn 13 number": "isbn",
    "product isbn": "isbn",
    "title": "title",
    "work title": "title",
    "main title": "title",
    "title text": "title",
    "subtitle": "subtitle",
    "sub title": "subtitle",
    "series": "series",
    "series name": "series",
    "series title": "series",
    "series names": "series",
    "contributor name": "contributor_name",
    "contributor names": "contributor_name",
    "contributor": "contributor_name",
    "contributors": "contributor_name",
    "author": "contributor_name",
    "authors": "contributor_name",
    "author name": "contributor_name",
    "author names": "contributor_name",
    "contributor name form": "contributor_name",
    "imprint": "imprint",
    "imprint name": "imprint",
    "season": "season",
    "publishing season": "season",
    "description": "description",
    "blurb": "description",
    "marketing description": "description",
    "long description": "description",
    "short description": "description",
    "copy": "description",
    "marketing copy": "description",
    "product description": "description",
    "publication date": "publication_date",
    "pub date": "publication_date",
    "pubdate": "publication_date",
    "publication": "publication_date",
    "published date": "publication_date",
    "date of publication": "publication_date",
    "planned publication date": "planned_publication_date",
    "planned pub date": "planned_publication_date",
    "contract delivery date": "delivery_date",
    "delivery date": "delivery_date",
    "delivery": "delivery_date",
    "manuscript delivery date": "delivery_date",
    "ms delivery date": "delivery_date",
    "manuscript delivery": "delivery_date",
    "contracted delivery date": "delivery_date",
    "publishing status": "publishing_status",
    "status": "publishing_status",
    "onix status": "publishing_status",
    "cover": "cover",
    "cover image": "cover",
    "jacket": "cover",
    "front cover": "cover",
    "jacket image": "cover",
    "subjects": "subjects",
    "subject": "subjects",
    "subject codes": "subjects",
    "subject code": "subjects",
    "main subject": "main_subject",
    "main subject code": "main_subject",
    "primary subject": "main_subject",
    "page count": "page_count",
    "pages": "page_count",
    "extent": "page_count",
    "number of pages": "page_count",
}

_SCHEMES = {"bisac": "BISAC", "bic": "BIC", "thema": "THEMA"}
_SUBJECT_FIELD = re.compile(
    r"^(?P<main1>main |primary )?(?P<scheme>bisac|bic|thema)(?P<main2> main| primary)?"
    r"(?: (?:subject|subjects|code|codes|category|categories|subject code|subject codes|heading))?"
    r"(?P<main3> \(main\))?$"
)
_CURRENCY_SYMBOLS = {"£": "GBP", "$": "USD", "us$": "USD", "€": "EUR", "a$": "AUD", "c$": "CAD", "nz$": "NZD"}
_PRICE_WORDS = {"price", "rrp", "retail price", "list price", "recommended retail price"}


def normalise_name(name: str) -> str:
    """Lower case, single spaces, without the decorations people add ("*", trailing ":", underscores)."""
    text = name.replace("_", " ").replace("-", " ").replace("*", " ").strip().rstrip(":").lower()
    return " ".join(text.split())


def _price_field(name: str) -> str | None:
    """Read names like "Price (GBP)", "GBP price", "RRP £", "Price" into "price:GBP" (or "price:*")."""
    text = re.sub(r"[()\[\]]", " ", name)
    words = text.split()
    rest = " ".join(words)
    for word in sorted(_PRICE_WORDS, key=len, reverse=True):
        if re.search(rf"(^| ){re.escape(word)}( |$)", rest):
            rest = re.sub(rf"(^| ){re.escape(word)}( |$)", " ", rest).strip()
            break
    else:
        return None
    rest = re.sub(r"^in ", "", rest).strip()
    if not rest:
        return "price:*"
    if rest in _CURRENCY_SYMBOLS:
        return f"price:{_CURRENCY_SYMBOLS[rest]}"
    if re.fullmatch(r"[a-z]{3}", rest):
        return f"price:{rest.upper()}"
    return None


def resolve_field(name: str) -> FieldSpec | None:
    """The field a person means by `name` ("BISAC main subject", "Price (USD)", "pub date"), or None."""
    key = normalise_name(name or "")
    if not key:
        return None
    if key in _ALIASES:
        return _STATIC[_ALIASES[key]]
    match = _SUBJECT_FIELD.match(key)
    if match:
        main = bool(match.group("main1") or match.group("main2") or match.group("main3")) or key in _SCHEMES
        return field_spec(f"{'main_subject' if main else 'subjects'}:{_SCHEMES[match.group('scheme')]}")
    price = _price_field(key)
    return field_spec(price) if price else None


@lru_cache(maxsize=512)
def field_spec(key: str) -> FieldSpec | None:
    """The spec for a canonical key: a static one, "price:GBP", "main_subject:BISAC" or "subjects:THEMA"."""
    if key in _STATIC:
        return _STATIC[key]
    kind, _, arg = key.partition(":")
    if kind == "price" and (arg == "*" or re.fullmatch(r"[A-Z]{3}", arg)):
        label = "Price" if arg == "*" else f"Price ({arg})"
        return FieldSpec(key, label, FORMAT, TEXT, _price(None if arg == "*" else arg))
    if kind in ("main_subject", "subjects") and arg in _SCHEMES.values():
        main = kind == "main_subject"
        label = f"{arg if arg != 'THEMA' else 'Thema'} {'main subject' if main else 'subjects'}"
        return FieldSpec(key, label, FORMAT, TEXT, _subjects(arg, main), is_bisac=arg == "BISAC")
    return None


def known_field_names() -> list[str]:
    """Example names for help text, one per field."""
    return [spec.label for spec in _STATIC.values() if spec.available] + [
        "BISAC main subject",
        "Thema main subject",
        "Price (GBP)",
        "Price (USD)",
    ]
