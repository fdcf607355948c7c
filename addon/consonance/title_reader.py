"""A Consonance work as a Title, in microseconds when the answer has the shape the schema expects.

`schemas.TITLE.load` checks every field through marshmallow, ~2 ms per title, on the first view of every
title. `load_title` reads the same dict directly, checking each value's type as it goes, and builds exactly
what the schema builds; at the first value it does not expect (a wrong type, a date in another format, a
number it would have to interpret) it stops and hands the whole dict to the schema, which decides: the same
Title, or a ValidationError saying which field is wrong. tests/consonance/test_title_reader.py holds the two
to the same answers.
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from typing import Any

from addon.consonance import schemas
from addon.publishing.domain import (
    Contract,
    Contributor,
    DeliveryDate,
    Format,
    LicensedRight,
    Price,
    PublishingStatus,
    Stage,
    Subject,
    Title,
    contributor_role_label,
    format_kind,
    parse_isbn,
)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_MISSING: Any = object()


class _Unexpected(Exception):
    """A value the direct reader does not interpret itself: the schema reads the whole work."""


def load_title(work: dict) -> Title:
    """What `schemas.TITLE.load(work)` returns (or raises), without marshmallow on the common path."""
    try:
        return _title(work)
    except _Unexpected:
        return schemas.TITLE.load(work)


# --- values: each returns the loaded value or raises _Unexpected -----------------------------------------


def _text(data: dict, key: str, *, required: bool = False, nullable: bool = True) -> str | None:
    value = data.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise _Unexpected(key)
        return None
    if value is None:
        if not nullable:
            raise _Unexpected(key)
        return None
    if type(value) is not str:
        raise _Unexpected(key)
    return value


def _date(data: dict, key: str) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not str or not _ISO_DATE.match(value):
        raise _Unexpected(key)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Unexpected(key) from None


def _items(data: dict, key: str) -> list:
    value = data.get(key)
    if value is None:
        return []
    if type(value) is not list:
        raise _Unexpected(key)
    return value


def _mapping(value: Any, *, nullable: bool = True) -> dict | None:
    if value is None and nullable:
        return None
    if type(value) is not dict:
        raise _Unexpected("object")
    return value


def _texts(data: dict, key: str) -> tuple[str, ...]:
    items = _items(data, key)
    if any(type(item) is not str for item in items):
        raise _Unexpected(key)
    return tuple(items)


# --- the schema's objects --------------------------------------------------------------------------------


def _price(data: Any) -> Price:
    data = _mapping(data, nullable=False)
    assert data is not None
    amount = data.get("amount")
    if amount is not None:
        if type(amount) is int:
            amount = Decimal(str(amount))
        elif type(amount) is float and math.isfinite(amount):
            amount = Decimal(str(amount))
        else:
            raise _Unexpected("amount")
    return Price(
        amount=amount,
        currency=_text(data, "currencyCode", required=True, nullable=False),  # type: ignore[arg-type]
        type_code=schemas.onix_code(_text(data, "onixPriceTypeCode")),
    )


def _subject(data: Any) -> Subject:
    data = _mapping(data, nullable=False)
    assert data is not None
    main = data.get("main", False)
    if type(main) is not bool:
        raise _Unexpected("main")
    return Subject(
        scheme=_text(data, "scheme", nullable=False) or "",
        code=_text(data, "code", required=True, nullable=False),  # type: ignore[arg-type]
        description=_text(data, "description"),
        main=main,
    )


def _format(data: Any, has_cover: bool) -> Format:
    data = _mapping(data, nullable=False)
    assert data is not None
    isbn = _mapping(data.get("isbn")) or {}
    raw = isbn.get("isbn13") or isbn.get("isbnWithDashes") or isbn.get("isbn10")
    isbn13, problem = parse_isbn(raw)
    status_code = schemas.onix_code(_text(data, "onixPublishingStatusCode"))
    found_status = _mapping(data.get("onixPublishingStatus"))
    status: dict = {}
    if found_status is not None:  # the nested schema keeps only the keys it was given
        for key in ("code", "description"):
            if key in found_status:
                status[key] = _text(found_status, key)
    texts = []
    for text in _items(data, "marketingTexts"):
        external = _mapping(text, nullable=False).get("externalText")  # type: ignore[union-attr]
        if external:
            texts.append(external)
    worldwide = data.get("isForSaleWorldwide")
    if worldwide is not None and type(worldwide) is not bool:
        raise _Unexpected("isForSaleWorldwide")
    typename, form_code = _text(data, "__typename"), _text(data, "onix21ProductFormCode")
    return Format(
        product_id=_text(data, "id", required=True, nullable=False),  # type: ignore[arg-type]
        kind=format_kind(form_code, typename),
        form_code=form_code,
        typename=typename,
        isbn13=isbn13,
        isbn_problem=problem,
        isbn_raw=raw,
        publication_date=_date(data, "publicationDate"),
        planned_publication_date=_date(data, "plannedPublicationDate"),
        publishing_status=(
            PublishingStatus(
                code=schemas.onix_code(status.get("code")) or status_code, description=status.get("description")
            )
            if status or status_code
            else None
        ),
        prices=tuple(_price(p) for p in _items(data, "prices")),
        subjects=tuple(_subject(s) for s in _items(data, "subjectCodes")),
        description="\n\n".join(texts) if texts else None,
        for_sale_countries=_texts(data, "forSaleCountryCodes"),
        not_for_sale_countries=_texts(data, "notForSaleCountryCodes"),
        sales_rights_description=_text(data, "salesRightsDescription"),
        is_for_sale_worldwide=worldwide,
        full_title=_text(data, "fullTitle"),
        has_cover=has_cover,
    )


def _contribution(data: Any) -> tuple[int | None, Contributor]:
    data = _mapping(data, nullable=False)
    assert data is not None
    sequence = data.get("sequenceNumber")
    if sequence is not None and type(sequence) is not int:
        raise _Unexpected("sequenceNumber")
    role = schemas.onix_code(_text(data, "onixContributorRoleCode"))
    person = _mapping(data.get("contributor")) or {}
    return sequence, Contributor(
        name=(person.get("name") or "").strip(),
        role_code=role,
        role_label=contributor_role_label(role),
        key_names=(person.get("keyNames") or "").strip() or None,
    )


def _contract(data: Any) -> Contract:
    data = _mapping(data, nullable=False)
    assert data is not None
    deliveries = []
    for found in _items(data, "deliveryDates"):
        delivery = _mapping(found, nullable=False)
        assert delivery is not None
        deliveries.append(
            DeliveryDate(date_due=_date(delivery, "dateDue"), slipped_date=_date(delivery, "slippedDate"))
        )
    rights = []
    for found in _items(data, "licensedRights"):
        right = _mapping(found, nullable=False)
        assert right is not None
        rights.append(
            LicensedRight(
                right_type=_text(right, "rightType") or "",
                id=_text(right, "id"),
                territories=_texts(right, "territoryCountryCodes"),
            )
        )
    return Contract(
        id=_text(data, "id", required=True, nullable=False),  # type: ignore[arg-type]
        name=_text(data, "contractName"),
        signed_date=_date(data, "signedDate"),
        delivery_dates=tuple(deliveries),
        licensed_rights=tuple(rights),
    )


def _title(work: Any) -> Title:
    if type(work) is not dict:
        raise _Unexpected("work")
    products = _items(work, "products")
    for product in products:
        if type(product) is not dict:
            raise _Unexpected("products")
    subtitle = next((p.get("subtitle") for p in products if p.get("subtitle")), None)
    if subtitle is not None and type(subtitle) is not str:
        raise _Unexpected("subtitle")
    contributions = [_contribution(c) for c in _items(work, "contributions")]
    ordered = sorted(enumerate(contributions), key=lambda pair: (pair[1][0] is None, pair[1][0] or 0, pair[0]))
    resources = [_mapping(r, nullable=False) for r in _items(work, "supportingResources")]
    has_cover = any("cover" in (r.get("caption") or "").lower() for r in resources if r is not None)
    series = [_mapping(s, nullable=False) for s in _items(work, "seriesMemberships")]
    stage = _text(work, "projectStage")
    return Title(
        work_id=_text(work, "id", required=True, nullable=False),  # type: ignore[arg-type]
        title=_text(work, "title") or "",
        subtitle=subtitle,
        imprint=_text(work, "imprint"),
        stage=Stage(stage) if stage else None,
        season=_text(work, "season"),
        marketing_tier=_text(work, "marketingTier"),
        series=tuple(name for s in series if s is not None and (name := s.get("seriesName"))),
        contributors=tuple(c for _, (_, c) in ordered),
        formats=tuple(_format(p, has_cover) for p in products),
        contracts=tuple(_contract(c) for c in _items(work, "contracts")),
    )
