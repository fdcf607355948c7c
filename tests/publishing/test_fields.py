"""The field vocabulary: what people write maps to one field, and reads the right values."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from addon.publishing.domain import DeliveryDate, FormatKind, Subject
from addon.publishing.fields import field_spec, resolve_field
from tests.publishing.factories import make_format, make_title


@pytest.mark.parametrize(
    "written, key",
    [
        ("ISBN", "isbn"),
        ("ISBN-13", "isbn"),
        ("BISAC main subject", "main_subject:BISAC"),
        ("BISAC", "main_subject:BISAC"),
        ("Main BISAC subject", "main_subject:BISAC"),
        ("BISAC subjects", "subjects:BISAC"),
        ("Thema main subject", "main_subject:THEMA"),
        ("Contributor name", "contributor_name"),
        ("Author", "contributor_name"),
        ("Description", "description"),
        ("Blurb", "description"),
        ("Price (GBP)", "price:GBP"),
        ("GBP price", "price:GBP"),
        ("RRP £", "price:GBP"),
        ("price usd", "price:USD"),
        ("Price", "price:*"),
        ("Publication date", "publication_date"),
        ("Pub date:", "publication_date"),
        ("Series", "series"),
        ("Subtitle", "subtitle"),
        ("Page count", "page_count"),
        ("Contract delivery date", "delivery_date"),
        ("Cover image*", "cover"),
    ],
)
def test_names_people_write(written, key):
    assert resolve_field(written).key == key


@pytest.mark.parametrize("written", ["", "Colour", "Price (pounds sterling)", "bisac thing"])
def test_unknown_names(written):
    assert resolve_field(written) is None


def test_values_read_from_title_and_format():
    fmt = make_format(
        FormatKind.HARDBACK,
        subjects=(
            Subject("BISAC", "FIC009000", main=True),
            Subject("BISAC", "FIC022000"),
            Subject("THEMA", "FM", main=True),
        ),
    )
    title = make_title(formats=(fmt,), delivery=DeliveryDate(date(2026, 5, 1), date(2026, 7, 1)))
    read = lambda key, f=fmt: field_spec(key).read(title, f)  # noqa: E731
    assert read("main_subject:BISAC") == ("FIC009000",)
    assert read("subjects:BISAC") == ("FIC009000", "FIC022000")
    assert read("main_subject") == ("FIC009000", "FM")
    assert read("price:GBP") == ("18.99 GBP",)
    assert read("price:EUR") == ()
    assert read("delivery_date") == (date(2026, 7, 1),)
    assert read("publication_date") == (date(2027, 3, 4),)
    assert read("contributor_name") == ("Amelia Okafor", "Tomasz Lindqvist")
    assert read("isbn") == ("9781402894626",)
    assert read("cover") == ("cover image",)
    assert field_spec("isbn").read(title, replace(fmt, isbn13=None, isbn_raw=" No ISBN ")) == ()
    assert not field_spec("page_count").available
