"""Domain objects: ISBN handling, format classification, rights derivation and fingerprints."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from addon.publishing.domain import (
    ISBN_BAD_CHECK_DIGIT,
    ISBN_BAD_PREFIX,
    ISBN_MALFORMED,
    ISBN_MISSING,
    ISBN_NO_ISBN,
    Contract,
    Contributor,
    DeliveryDate,
    Format,
    FormatKind,
    LicensedRight,
    Price,
    PublishingStatus,
    RightsPosition,
    Stage,
    Subject,
    Task,
    Title,
    TitleFingerprint,
    format_kind,
    is_valid_isbn13,
    isbn13_check_digit,
    normalise_isbn,
    parse_isbn,
    watches_key_names,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("978-1-4028-9462-6", ("9781402894626", None)),
        (" 978 1 4028 9462 6 ", ("9781402894626", None)),
        ("9781402894626", ("9781402894626", None)),
        ("978–1–4028–9462–6", ("9781402894626", None)),  # en dashes pasted from a document
        ("0-306-40615-2", ("9780306406157", None)),  # valid ISBN-10 converted
        ("No ISBN", (None, ISBN_NO_ISBN)),
        ("no isbn", (None, ISBN_NO_ISBN)),
        ("", (None, ISBN_MISSING)),
        (None, (None, ISBN_MISSING)),
        ("9781402894627", (None, ISBN_BAD_CHECK_DIGIT)),
        ("97814028946", (None, ISBN_MALFORMED)),
        ("TBC", (None, ISBN_MALFORMED)),
        ("5012345678900", (None, ISBN_BAD_PREFIX)),  # a valid EAN that is not a book number
    ],
)
def test_parse_isbn(raw, expected):
    assert parse_isbn(raw) == expected


@given(st.sampled_from(["978", "979"]), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_check_digit_completes_any_twelve_digits_to_a_valid_isbn(prefix, rest):
    stem = prefix + rest
    isbn = stem + str(isbn13_check_digit(stem))
    assert is_valid_isbn13(isbn)
    wrong = stem + str((int(isbn[-1]) + 1) % 10)
    assert not is_valid_isbn13(wrong)
    assert normalise_isbn(f"{isbn[:3]}-{isbn[3:]}") == isbn


@pytest.mark.parametrize(
    "code, typename, kind",
    [
        ("BB", "PhysicalBookProduct", FormatKind.HARDBACK),
        ("BC", "PhysicalBookProduct", FormatKind.PAPERBACK),
        ("DG", "DigitalProduct", FormatKind.EBOOK),
        ("AJ", None, FormatKind.AUDIOBOOK),
        ("_AN", None, FormatKind.AUDIOBOOK),
        (None, "AudioProduct", FormatKind.AUDIOBOOK),
        (None, "DigitalProduct", FormatKind.EBOOK),
        ("PC", "PhysicalBookProduct", FormatKind.OTHER),
    ],
)
def test_format_kind(code, typename, kind):
    assert format_kind(code, typename) is kind


def _format(**overrides) -> Format:
    base = dict(
        product_id="p1",
        kind=FormatKind.HARDBACK,
        form_code="BB",
        isbn13="9781402894626",
        publication_date=date(2025, 3, 6),
        planned_publication_date=date(2025, 3, 1),
        publishing_status=PublishingStatus("04", "Active"),
        prices=(Price(Decimal("20.00"), "GBP", "02"), Price(Decimal("28.99"), "USD", "01")),
        subjects=(Subject("BISAC", "FIC009000", "Fiction / Fantasy", True),),
        description="A novel.",
        has_cover=True,
        for_sale_countries=("GB", "IE"),
        not_for_sale_countries=("US",),
    )
    base.update(overrides)
    return Format(**base)


def _title(**overrides) -> Title:
    base = dict(
        work_id="42",
        title="The Glass Orchard",
        stage=Stage("Production"),
        season="Spring 2025",
        contributors=(Contributor("Ada Lark", "A01", "By (author)"),),
        formats=(_format(), _format(product_id="p2", kind=FormatKind.EBOOK, form_code="DG", has_cover=False)),
        contracts=(
            Contract(
                "c1",
                "Author agreement",
                date(2024, 1, 5),
                (DeliveryDate(date(2024, 6, 1), date(2024, 8, 1)),),
                (LicensedRight("Audio"), LicensedRight("Translation")),
            ),
        ),
    )
    base.update(overrides)
    return Title(**base)


def test_format_helpers():
    fmt = _format(publication_date=None)
    assert fmt.effective_publication_date == date(2025, 3, 1)
    assert fmt.price_in("USD").amount == Decimal("28.99")
    assert fmt.price_in("EUR") is None
    assert [s.code for s in fmt.main_subjects] == ["FIC009000"]


def test_title_helpers():
    title = _title()
    assert title.consonance_url("https://acme.consonance.app/") == "https://acme.consonance.app/works/42"
    assert title.format_by_isbn("978-1-4028-9462-6").product_id == "p1"
    assert title.format_by_isbn("No ISBN") is None
    assert title.earliest_publication_date == date(2025, 3, 6)


def test_delivery_date_slip():
    assert DeliveryDate(date(2024, 6, 1), date(2024, 8, 1)).is_slipped
    assert DeliveryDate(date(2024, 6, 1), date(2024, 8, 1)).expected == date(2024, 8, 1)
    assert not DeliveryDate(date(2024, 6, 1)).is_slipped


def test_rights_position_unions_formats_and_contracts():
    rights = _title().rights_position
    assert rights.for_sale_countries == ("GB", "IE")
    assert rights.not_for_sale_countries == ("US",)
    assert rights.licensed_right_types == ("Audio", "Translation")
    assert rights.contract_names == ("Author agreement",)
    assert rights.may_sell_in("gb") and not rights.may_sell_in("US") and not rights.may_sell_in("FR")
    world = RightsPosition.derive([_format(is_for_sale_worldwide=True, not_for_sale_countries=("CN",))], [])
    assert world.world_rights and world.may_sell_in("FR") and not world.may_sell_in("CN")


def test_stage_rank_orders_known_stages():
    assert Stage("Acquisition").rank < Stage("Production").rank < Stage("Published").rank
    assert Stage("Somewhere else").rank is None
    assert Stage("Somewhere else", position=3).rank == 3
    assert Stage("Editorial", position=5) == Stage("Editorial")  # position is metadata, not identity


def test_task_done_statuses():
    assert Task("t1", "QC", "DONE").is_done
    assert not Task("t1", "QC", "open").is_done


def test_fingerprint_is_hashable_and_digest_tracks_watched_fields():
    title = _title()
    fp = TitleFingerprint.of(title)
    assert {fp: 1}[TitleFingerprint.of(_title())] == 1
    assert fp.digest == TitleFingerprint.of(_title()).digest
    assert len(fp.digest) == 32 and watches_key_names(fp.digest)
    changes = [
        _title(stage=Stage("Published")),
        _title(formats=(_format(planned_publication_date=date(2025, 4, 1)),) + _title().formats[1:]),
        _title(formats=(_format(has_cover=False),) + _title().formats[1:]),
        _title(formats=(_format(isbn13=None, isbn_problem=ISBN_NO_ISBN),) + _title().formats[1:]),
        _title(contributors=(Contributor("Lark, Ada", "A01"),)),
        _title(contributors=(Contributor("Ada Lark", "A01", key_names="Lark"),)),  # key names decide a check
    ]
    digests = {TitleFingerprint.of(t).digest for t in changes}
    assert fp.digest not in digests and len(digests) == len(changes)


def test_fingerprint_ignores_format_order():
    title = _title()
    reordered = _title(formats=tuple(reversed(title.formats)))
    assert TitleFingerprint.of(title).digest == TitleFingerprint.of(reordered).digest


def test_fingerprint_digest_is_stable_across_runs():
    # A fixed digest guards against accidental changes to the hashing scheme (which would make every
    # stored fingerprint look changed after a deploy).
    # The digest stored before key names were watched must still be recognised (`digest_before_key_names`).
    fp = TitleFingerprint("1", "T", "Editorial", None, None, (("Ada Lark", "A01", "Lark"),), ())
    import hashlib

    expected_payload = (
        '{"contributors":[["Ada Lark","A01","Lark"]],"formats":[],"licensed_rights":[],"marketing_tier":null,'
        '"season":null,"stage":"Editorial","title":"T","work_id":"1"}'
    )
    assert fp.digest == "k" + hashlib.sha256(expected_payload.encode()).hexdigest()[:31]
    before = expected_payload.replace('["Ada Lark","A01","Lark"]', '["Ada Lark","A01"]')
    assert fp.digest_before_key_names == hashlib.sha256(before.encode()).hexdigest()[:32]
    assert not watches_key_names(fp.digest_before_key_names)


def test_the_credit_line_names_authors_then_other_roles_in_words():
    from addon.publishing.domain import Contributor, credit_line

    assert credit_line([Contributor("Sappho", "A01"), Contributor("Anne Carson", "B06")]) == (
        "Sappho; translated by Anne Carson"
    )
    assert (
        credit_line(
            [
                Contributor("Elena de la Cruz", "A01"),
                Contributor("Tom Hale", "B06"),
                Contributor("Ana Li", "A12"),
                Contributor("Sam Roe", "A01"),
                Contributor("Jo Park", None),  # a role nobody recorded: named with the authors
            ]
        )
        == "Elena de la Cruz, Sam Roe, Jo Park; translated by Tom Hale; illustrated by Ana Li"
    )
    assert credit_line([]) == ""
