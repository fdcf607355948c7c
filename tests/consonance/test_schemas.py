"""Wire dicts (as Consonance returns them) become domain objects with ISBNs, dates and money normalised."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from addon.consonance.schemas import CONTRACTS, NOTE, STAGES, TASK, TITLE, WEB_LINKS, fingerprint, onix_code
from addon.publishing.domain import ISBN_BAD_CHECK_DIGIT, ISBN_MISSING, ISBN_NO_ISBN, FormatKind


def product(**overrides) -> dict:
    base = {
        "__typename": "PhysicalBookProduct",
        "id": "101",
        "isbn": {"isbn13": "978-1-4028-9462-6", "isbn10": None, "isbnWithDashes": "978-1-4028-9462-6"},
        "fullTitle": "The Glass Orchard",
        "subtitle": "A Novel",
        "publicationDate": "2026-03-05",
        "plannedPublicationDate": "2026-03-01",
        "onix21ProductFormCode": "BB",
        "onixPublishingStatusCode": "_04",
        "onixPublishingStatus": {"code": "04", "description": "Active"},
        "prices": [{"amount": 16.99, "currencyCode": "GBP", "onixPriceTypeCode": "_02"}],
        "subjectCodes": [{"scheme": "BISAC", "code": "FIC009000", "description": "Fantasy", "main": True}],
        "marketingTexts": [{"externalText": "A story."}],
        "forSaleCountryCodes": ["GB"],
        "notForSaleCountryCodes": ["US"],
        "salesRightsDescription": "UK & Commonwealth",
        "isForSaleWorldwide": False,
        "someFieldAddedLater": {"x": 1},
    }
    base.update(overrides)
    return base


def work(**overrides) -> dict:
    base = {
        "id": "7",
        "title": "The Glass Orchard",
        "projectStage": "Editorial",
        "season": "Spring 2026",
        "marketingTier": "Lead",
        "imprint": "Harbour Press",
        "seriesMemberships": [{"seriesName": "Orchard Trilogy", "numberWithinSeries": 1}],
        "contributions": [
            {"onixContributorRoleCode": "A12", "sequenceNumber": 2, "contributor": {"name": "Ben Ink"}},
            {"onixContributorRoleCode": "A01", "sequenceNumber": 1, "contributor": {"name": "Ada Lark"}},
        ],
        "supportingResources": [{"url": "https://img.example/1.jpg", "caption": "Front cover"}],
        "products": [
            product(),
            product(
                id="102",
                __typename="DigitalProduct",
                onix21ProductFormCode="DG",
                isbn={"isbn13": "No ISBN"},
                prices=None,
            ),
        ],
    }
    base.update(overrides)
    return base


def test_work_becomes_title_with_formats_in_domain_terms():
    title = TITLE.load(work())
    assert (title.work_id, title.title, title.subtitle, title.imprint) == (
        "7",
        "The Glass Orchard",
        "A Novel",
        "Harbour Press",
    )
    assert title.stage.name == "Editorial" and title.season == "Spring 2026" and title.marketing_tier == "Lead"
    assert title.series == ("Orchard Trilogy",)
    assert [c.name for c in title.contributors] == ["Ada Lark", "Ben Ink"]  # by sequence number
    assert title.contributors[0].role_label == "By (author)"
    hardback, ebook = title.formats
    assert hardback.kind is FormatKind.HARDBACK and ebook.kind is FormatKind.EBOOK
    assert hardback.isbn13 == "9781402894626" and hardback.isbn_problem is None
    assert ebook.isbn13 is None and ebook.isbn_problem == ISBN_NO_ISBN and ebook.prices == ()
    assert hardback.publication_date == date(2026, 3, 5)
    assert hardback.publishing_status.code == "04" and hardback.publishing_status.description == "Active"
    assert hardback.prices[0].amount == Decimal("16.99") and hardback.prices[0].type_code == "02"
    assert hardback.subjects[0].main and hardback.description == "A story." and hardback.has_cover
    assert title.rights_position.not_for_sale_countries == ("US",)


def test_isbn_problems_are_reported_not_raised():
    title = TITLE.load(work(products=[product(isbn=None), product(id="2", isbn={"isbn13": "9781402894627"})]))
    assert [f.isbn_problem for f in title.formats] == [ISBN_MISSING, ISBN_BAD_CHECK_DIGIT]
    assert title.formats[1].isbn_raw == "9781402894627"


def test_missing_optional_parts_give_empty_values():
    title = TITLE.load({"id": "9", "title": None, "products": None, "projectStage": None})
    assert title.title == "" and title.formats == () and title.stage is None and not title.contributors


def test_contracts_notes_tasks_links_and_stages():
    (contract,) = CONTRACTS.load(
        [
            {
                "id": "c1",
                "contractName": "Author agreement",
                "signedDate": "2025-01-10",
                "deliveryDates": [{"dateDue": "2025-06-01", "slippedDate": "2025-07-15"}],
                "licensedRights": [{"id": "r1", "rightType": "Audio", "territoryCountryCodes": ["GB", "IE"]}],
            }
        ]
    )
    assert contract.delivery_dates[0].is_slipped and contract.licensed_rights[0].territories == ("GB", "IE")
    note = NOTE.load({"id": "n1", "noteText": "Approved", "createdAt": "2026-11-28T10:00:00Z", "externalRef": "k"})
    assert note.created_at == datetime(2026, 11, 28, 10, tzinfo=UTC) and note.external_ref == "k"
    task = TASK.load({"id": "t1", "title": "QC", "status": "COMPLETE", "dueDate": "2026-12-01", "externalRef": "gate"})
    assert task.is_done and task.due_date == date(2026, 12, 1)
    (link,) = WEB_LINKS.load([{"id": "w1", "link": "https://wiki.example/x", "role": "Rights guidance", "note": None}])
    assert link.url == "https://wiki.example/x"
    stages = STAGES.load([{"name": "Acquisition", "position": 1}, {"name": "Published", "position": 10}])
    assert [s.rank for s in stages] == [1, 10]


def test_fingerprint_of_a_work_tracks_dates():
    before = fingerprint(work())
    after = fingerprint(work(products=[product(plannedPublicationDate="2026-04-01")]))
    assert before.work_id == "7" and before.digest != after.digest


def test_onix_code_strips_only_a_leading_underscore_before_digits():
    assert onix_code("_04") == "04" and onix_code("BB") == "BB" and onix_code(None) is None
