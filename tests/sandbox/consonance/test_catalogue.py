"""The generated catalogue: deterministic, prefix-stable, valid ISBNs, and a documented share of bad records."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.consonance import vocab
from sandbox.consonance.catalogue import DEFECT_KINDS, acquire_title, build_catalogue
from sandbox.consonance.isbn import check_digit13, is_valid_isbn13, normalise_isbn

ANCHOR = date(2026, 11, 1)


def _fingerprint(catalogue) -> list[tuple]:
    return [
        (
            w.id,
            w.full_title,
            w.stage,
            w.season,
            w.imprint,
            w.marketing_tier,
            w.defects,
            tuple((p.id, p.format, p.isbn13, p.publication_date, p.planned_date, p.prices) for p in w.products),
            tuple((c.role, c.person.name, c.person.key_names) for c in w.contributions),
            tuple((d.date_due, d.slipped_date) for c in w.contracts for d in c.delivery_dates),
            tuple((t.title, t.status, t.due_date) for t in w.tasks),
            w.subjects,
            w.series,
        )
        for w in catalogue.works.values()
    ]


def test_same_seed_gives_the_same_data():
    assert _fingerprint(build_catalogue(5, 300, ANCHOR)) == _fingerprint(build_catalogue(5, 300, ANCHOR))


def test_different_seeds_give_different_data():
    assert _fingerprint(build_catalogue(5, 100, ANCHOR)) != _fingerprint(build_catalogue(6, 100, ANCHOR))


def test_a_smaller_catalogue_is_a_prefix_of_a_larger_one():
    small, large = build_catalogue(5, 50, ANCHOR), build_catalogue(5, 400, ANCHOR)
    assert _fingerprint(small) == _fingerprint(large)[:50]


@pytest.mark.parametrize("size", [9, 50_001])
def test_size_is_bounded(size):
    with pytest.raises(ValueError):
        build_catalogue(1, size, ANCHOR)


def test_every_well_formed_isbn_has_a_valid_check_digit_and_isbns_are_unique():
    catalogue = build_catalogue(3, 2000, ANCHOR)
    digits = [normalise_isbn(p.isbn13) for p in catalogue.products.values() if p.isbn13 and p.isbn13 != "No ISBN"]
    assert len(digits) > 4000
    assert all(is_valid_isbn13(d) for d in digits)
    assert len(set(digits)) == len(digits)


def test_check_digit_matches_a_published_isbn():
    assert check_digit13("978014044913") == "6"  # 978-0-14-044913-6, Penguin Classics
    assert not is_valid_isbn13("9780140449137")


def test_invalid_share_is_about_twelve_percent_and_each_kind_appears():
    catalogue = build_catalogue(3, 5000, ANCHOR)
    assert 0.10 <= catalogue.invalid_share() <= 0.14
    seen = {kind for work in catalogue.works.values() for kind in work.defects}
    assert seen == set(DEFECT_KINDS)


def test_defects_are_visible_in_the_data():
    catalogue = build_catalogue(3, 3000, ANCHOR)
    bisac_codes = {code for code, _, _ in vocab.BISAC}
    for work in catalogue.works.values():
        isbns = [p.isbn13 for p in work.products]
        if "missing_isbn" in work.defects:
            assert None in isbns
        if "no_isbn_literal" in work.defects:
            assert "No ISBN" in isbns
        if "hyphenated_isbn" in work.defects:
            assert any(i and "-" in i for i in isbns)
        if "bad_subject" in work.defects:
            assert any(s[0] == "BISAC" and s[1] not in bisac_codes for s in work.subjects)
        if "name_order" in work.defects:
            person = work.contributions[[c.role for c in work.contributions].index("A01")].person
            assert person.key_names == person.name and " " in person.key_names
        if "missing_price" in work.defects:
            assert any(p.prices == () for p in work.products)
        if "missing_description" in work.defects:
            assert not work.has_texts
        if not work.defects:
            assert all(i and i.isdigit() for i in isbns) and all(p.prices for p in work.products)
            assert all(s[1] in bisac_codes for s in work.subjects if s[0] == "BISAC")


def test_realistic_spread_of_stages_formats_and_dates():
    catalogue = build_catalogue(9, 3000, ANCHOR)
    stages = {w.stage for w in catalogue.works.values()}
    assert stages == set(vocab.PROJECT_STAGES)
    assert set(catalogue.format_count) == {"hardback", "paperback", "ebook", "audiobook"}
    for work in catalogue.works.values():
        first = work.publication_date
        if work.stage == "Published":
            assert first <= ANCHOR
        else:
            assert first > ANCHOR
        assert work.season.split()[0] in ("Spring", "Summer", "Autumn")
    slipped_deliveries = [d for d in catalogue.delivery_dates.values() if d.slipped_date]
    assert slipped_deliveries and all(d.slipped_date > d.date_due for d in slipped_deliveries)
    assert any(p.planned_date < p.publication_date for p in catalogue.products.values())
    assert any(w.series for w in catalogue.works.values())
    roles = {c.role for w in catalogue.works.values() for c in w.contributions}
    assert {"A01", "A12"} <= roles


def test_acquiring_a_title_adds_an_acquisition_stage_work_without_isbns():
    catalogue = build_catalogue(2, 20, ANCHOR)
    work = acquire_title(catalogue, "The Salt Road")
    assert work.id == 21 and catalogue.works[21] is work
    assert work.stage == "Acquisition" and work.full_title == "The Salt Road"
    assert work.products and all(p.isbn13 is None for p in work.products)
    assert all(p.id in catalogue.products for p in work.products)
    assert work.contracts[0].signed_date is None
