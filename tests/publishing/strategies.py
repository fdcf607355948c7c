"""Hypothesis strategies for titles, rules and standards tables, shared by the property tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

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
    Title,
)
from addon.publishing.rules import RuleError, RuleKind, RuleSet, make_rule

# Awkward text: right-to-left, astral plane, markup, control characters and plain words.
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "Okafor, Amelia",
            "Amelia Okafor",
            "FIC009000",
            "FIC09",
            "<script>x</script>",
            "\u05e9\u05dc\u05d5\u05dd, \u05e2\u05d5\u05dc\u05dd",
            "\U0001f4da Books",
            "a" * 5001,
            "The Saltmarsh Chronicles #2",
            "No ISBN",
            "978-1-4028-9462-6",
        ]
    ),
)
maybe_texts = st.one_of(st.none(), texts)
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))

formats = st.builds(
    Format,
    product_id=st.text(min_size=1, max_size=8),
    kind=st.sampled_from(list(FormatKind)),
    isbn13=st.one_of(st.none(), st.sampled_from(["9781402894626", "9780306406157"])),
    isbn_raw=maybe_texts,
    publication_date=st.one_of(st.none(), dates),
    planned_publication_date=st.one_of(st.none(), dates),
    publishing_status=st.one_of(
        st.none(), st.builds(PublishingStatus, st.sampled_from(["01", "02", "04", "07", None]))
    ),
    prices=st.lists(
        st.builds(
            Price,
            st.decimals(min_value=0, max_value=100, places=2).map(Decimal),
            st.sampled_from(["GBP", "USD", "EUR", "gbp"]),
        ),
        max_size=3,
    ).map(tuple),
    subjects=st.lists(
        st.builds(Subject, st.sampled_from(["BISAC", "THEMA", "BIC", ""]), texts, maybe_texts, st.booleans()),
        max_size=3,
    ).map(tuple),
    description=maybe_texts,
    has_cover=st.booleans(),
)

titles = st.builds(
    Title,
    work_id=st.text(min_size=1, max_size=6),
    title=texts,
    subtitle=maybe_texts,
    stage=st.one_of(st.none(), st.builds(Stage, st.sampled_from(["Acquisition", "Proofs", "Published", "Odd"]))),
    season=maybe_texts,
    series=st.lists(texts, max_size=2).map(tuple),
    contributors=st.lists(st.builds(Contributor, texts), max_size=3).map(tuple),
    formats=st.lists(formats, max_size=4).map(tuple),
    contracts=st.lists(
        st.builds(
            Contract,
            st.just("c"),
            delivery_dates=st.lists(
                st.builds(DeliveryDate, st.one_of(st.none(), dates), st.one_of(st.none(), dates)), max_size=2
            ).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
)

FIELD_NAMES = [
    "ISBN",
    "Title",
    "Subtitle",
    "Series",
    "Contributor name",
    "Description",
    "Publication date",
    "Contract delivery date",
    "BISAC main subject",
    "Thema subjects",
    "Price (GBP)",
    "price usd",
    "Cover",
    "Imprint",
    "Season",
    "Subjects",
    "Publishing status",
]

_params = st.one_of(
    st.builds(lambda p: {"pattern": p}, st.sampled_from([r"^[A-Z]{3}\d{6}$", r"^.+, .+$", "x", r"\d", "(a+)+"])),
    st.builds(lambda v: {"values": v}, st.lists(st.sampled_from(["FIC000000", "FIC009000", "Lead", "x"]), max_size=3)),
    st.builds(lambda n: {"limit": n}, st.integers(min_value=-1, max_value=5000)),
    st.builds(
        lambda r, o: {"relation": r, "other": o},
        st.sampled_from(["after", "before", "on_or_after", "x"]),
        st.sampled_from(["contract delivery date", "publication date", "title"]),
    ),
    st.builds(lambda f: {"form": f}, st.sampled_from(["Surname, Forenames", "Forenames Surname", "odd"])),
    st.builds(lambda t: {"template": t}, st.sampled_from(["<Series> #<n>", "Book <n>", ""])),
    st.builds(
        lambda r, k, n: {"retailer": r, "requirement": k, "limit": n},
        st.sampled_from(["Amazon", "Kobo", ""]),
        st.sampled_from(["max_length", "required", "pattern"]),
        st.integers(min_value=0, max_value=200),
    ),
)


@st.composite
def rules(draw):
    """A valid rule, or None when the drawn combination is rejected by make_rule (as a table row would be)."""
    try:
        return make_rule(
            draw(st.sampled_from(FIELD_NAMES)),
            draw(st.sampled_from(list(RuleKind))),
            draw(_params),
            formats=draw(st.lists(st.sampled_from(["print", "ebook", "audio", "all"]), max_size=2)),
            retailers=draw(st.lists(st.sampled_from(["Amazon", "Kobo"]), max_size=1)),
            severity=draw(st.sampled_from(["error", "warning", "info"])),
        )
    except RuleError:
        return None


rule_sets = st.lists(rules(), max_size=12).map(lambda rs: RuleSet.of(r for r in rs if r is not None))

VALID_ROWS = [
    ("ISBN", "required", "", "", ""),
    ("ISBN", "valid ISBN", "print", "warning", "Fix it"),
    ("BISAC main subject", "one of: FIC000000, FIC009000", "", "", ""),
    ("Description", "max length 4000", "Amazon", "", ""),
    ("Description", "min length 20", "ebook", "info", ""),
    ("Publication date", "after: contract delivery date", "", "", ""),
    ("Contributor name", "name form: Surname, Forenames", "", "should", ""),
    ("Series", "series: <Series> #<n>", "", "", ""),
    ("Subtitle", "retailer Kobo: max length 200", "", "", ""),
    ("Price (GBP)", "required", "all", "error", ""),
]
INVALID_ROWS = [
    ("Colour", "required", "", "", ""),
    ("ISBN", "frobnicate", "", "", ""),
    ("", "required", "", "", ""),
    ("ISBN", "", "", "", ""),
    ("ISBN", "required", "Hardbak", "", ""),
    ("ISBN", "required", "", "sometimes", ""),
    ("Title", "pattern: (a+)+$", "", "", ""),
    ("BISAC", "one of: FIC09", "", "", ""),
    ("Page count", "required", "", "", ""),
    ("Series", "series: Book one", "", "", ""),
]
HEADER = ("Field", "Rule", "Applies to", "Severity", "Message")
