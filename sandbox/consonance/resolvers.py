"""GraphQL resolvers over the in-memory catalogue: searches that really filter, fields in Consonance's shapes.

`executable_schema()` builds the schema from the SDL and wires scalars, abstract types and one field
resolver that looks up `RESOLVERS[type][field]`, falling back to dict keys and attributes.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime
from functools import cache

from graphql import GraphQLError, GraphQLSchema, StringValueNode, build_schema

from . import profiles, vocab
from .isbn import hyphenate, is_valid_isbn13, isbn10_from_13, normalise_isbn
from .model import Catalogue, Product, Work

MAX_PER_PAGE = 500
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- schema wiring -------------------------------------------------------------------------------


@cache
def executable_schema(profile: str = "full") -> GraphQLSchema:
    """The schema of one sandbox profile (see profiles.py), wired to the same resolvers."""
    schema = build_schema(profiles.schema_text(profiles.check(profile)))
    # graphql-core 3.2 calls serialize/parse_*; 3.3 calls coerce_* (falling back to parse_literal): set both.
    date_scalar = schema.type_map["ISO8601Date"]
    date_scalar.serialize = date_scalar.coerce_output_value = _serialize_date
    date_scalar.parse_value = date_scalar.coerce_input_value = _parse_date
    date_scalar.parse_literal = lambda node, _variables=None: _parse_date(
        node.value if isinstance(node, StringValueNode) else None
    )
    datetime_scalar = schema.type_map["ISO8601DateTime"]
    datetime_scalar.serialize = datetime_scalar.coerce_output_value = _serialize_datetime
    # A server without the assumed product types calls every product a PhysicalBookProduct (the documented one).
    schema.type_map["Product"].resolve_type = lambda obj, _info, _type: (
        obj.typename if obj.typename in schema.type_map else "PhysicalBookProduct"
    )
    schema.type_map["Contact"].resolve_type = lambda _obj, _info, _type: "Person"
    return schema


def _parse_date(value) -> date:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise GraphQLError(f"ISO8601Date must be a string 'YYYY-MM-DD', not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise GraphQLError(f"ISO8601Date {value!r} is not a calendar date") from exc


def _serialize_date(value) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _serialize_datetime(value) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def field_resolver(source, info, **args):
    resolver = RESOLVERS.get(info.parent_type.name, {}).get(info.field_name)
    if resolver is not None:
        return resolver(source, info, **args)
    if isinstance(source, dict):
        return source.get(info.field_name)
    return getattr(source, info.field_name, None)


def _catalogue(info) -> Catalogue:
    return info.context["catalogue"]


# -- searches ------------------------------------------------------------------------------------


def _ids(values) -> set[int]:
    return {int(v) for v in values if str(v).isdigit()}


def _id(value) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None


def _icontains(haystack: str | None, needle: str) -> bool:
    return haystack is not None and needle.lower() in haystack.lower()


def _compare(value, predicate: str, target) -> bool:
    if value is None:
        return False
    return {
        "Eq": value == target,
        "Gt": value > target,
        "Gteq": value >= target,
        "Lt": value < target,
        "Lteq": value <= target,
    }[predicate]


def work_matches(work: Work, search: dict | None) -> bool:
    for key, target in (search or {}).items():
        if target is None:
            continue
        if key == "idEq" and work.id != _id(target) or key == "idIn" and work.id not in _ids(target):
            return False
        if (
            key == "titleEq"
            and work.full_title != target
            or key == "titleCont"
            and not _icontains(work.full_title, target)
        ):
            return False
        attribute = {
            "inHouseWorkReferenceEq": "in_house_ref",
            "projectStageNameEq": "stage",
            "seasonNameEq": "season",
            "imprintNameEq": "imprint",
            "marketingTierNameEq": "marketing_tier",
        }.get(key)
        if attribute and getattr(work, attribute) != target:
            return False
        attribute = {"projectStageNameIn": "stage", "seasonNameIn": "season"}.get(key)
        if attribute and getattr(work, attribute) not in target:
            return False
    return True


def product_matches(product: Product, search: dict | None) -> bool:
    for key, target in (search or {}).items():
        if target is None:
            continue
        if key == "idEq" and product.id != _id(target) or key == "idIn" and product.id not in _ids(target):
            return False
        if (
            key == "workIdEq"
            and product.work.id != _id(target)
            or key == "workIdIn"
            and product.work.id not in _ids(target)
        ):
            return False
        if key in ("isbn13Eq", "isbn13In"):
            wanted = {normalise_isbn(t) for t in ([target] if key == "isbn13Eq" else target)}
            if normalise_isbn(product.isbn13) not in wanted:
                return False
        if key == "fullTitleCont" and not _icontains(product.work.full_title, target):
            return False
        if key == "onix21ProductFormCodeEq" and vocab.FORMATS[product.format][1] != target:
            return False
        if key == "onix21ProductFormCodeIn" and vocab.FORMATS[product.format][1] not in target:
            return False
        if key == "onixPublishingStatusCodeEq" and f"_{product.status}" != target:
            return False
        if key == "onixPublishingStatusCodeIn" and f"_{product.status}" not in target:
            return False
        for prefix, attribute in (("publicationDate", "publication_date"), ("plannedPublicationDate", "planned_date")):
            if key.startswith(prefix) and key[len(prefix) :] in ("Eq", "Gt", "Gteq", "Lt", "Lteq"):
                if not _compare(getattr(product, attribute), key[len(prefix) :], target):
                    return False
    return True


def price_matches(price: tuple, search: dict | None) -> bool:
    currency, amount, price_type, qualifier = price
    for key, target in (search or {}).items():
        if target is None:
            continue
        if key.startswith("amount") and not _compare(amount, key[len("amount") :], target):
            return False
        if key == "currencyCodeEq" and currency != target or key == "currencyCodeIn" and currency not in target:
            return False
        if key == "onixPriceTypeCodeIn" and f"_{price_type}" not in target:
            return False
        if key == "onixPriceTypeQualifierCodeIn" and f"_{qualifier}" not in target:
            return False
    return True


def contact_matches(person, search: dict | None) -> bool:
    for key, target in (search or {}).items():
        if target is None:
            continue
        if key == "idEq" and person.id != _id(target) or key == "idIn" and person.id not in _ids(target):
            return False
        if key in ("personNameCont", "nameCont") and not _icontains(person.name, target):
            return False
        if key == "isniEq" and person.isni != target:
            return False
    return True


def contract_matches(contract, search: dict | None) -> bool:
    for key, target in (search or {}).items():
        if target is None:
            continue
        if key == "idEq" and contract.id != _id(target) or key == "idIn" and contract.id not in _ids(target):
            return False
        if key == "contractNameCont" and not _icontains(contract.name, target):
            return False
        work_ids = {w.id for w in contract.works}
        if key == "workIdEq" and _id(target) not in work_ids or key == "workIdIn" and not work_ids & _ids(target):
            return False
    return True


def _matching_products(cat: Catalogue, product_search, price_search, work_search):
    search = product_search or {}
    if search.get("idEq") is not None:
        candidates = [cat.products[i] for i in [_id(search["idEq"])] if i in cat.products]
    elif search.get("isbn13Eq"):
        found = cat.products_by_isbn.get(normalise_isbn(search["isbn13Eq"]) or search["isbn13Eq"])
        candidates = [found] if found else []
    else:
        candidates = cat.products.values()
    for product in candidates:
        if not product_matches(product, product_search):
            continue
        if price_search and not any(price_matches(p, price_search) for p in product.prices):
            continue
        if work_search and not work_matches(product.work, work_search):
            continue
        yield product


def _matching_works(cat: Catalogue, product_search, work_search):
    search = work_search or {}
    if search.get("idEq") is not None:
        candidates = [cat.works[i] for i in [_id(search["idEq"])] if i in cat.works]
    elif search.get("idIn") is not None:  # looked up by id, as a server's index would, not by a scan
        candidates = [cat.works[i] for i in sorted(_ids(search["idIn"])) if i in cat.works]
    elif product_search:
        seen, candidates = set(), []
        for product in _matching_products(cat, product_search, None, None):
            if product.work.id not in seen:
                seen.add(product.work.id)
                candidates.append(product.work)
        candidates.sort(key=lambda w: w.id)
    else:
        candidates = cat.works.values()
    return (work for work in candidates if work_matches(work, work_search))


def _page(items, page: int | None = None, per_page: int | None = None, first=None, after=None) -> list:
    """One page of `items` by whichever paging the profile's schema has; none at all: every item."""
    if first is not None or after is not None:
        after_id = _id(after) if after is not None else None
        if after is not None and after_id is None:
            raise GraphQLError("after must be the id of a record already read")
        if first is None or not 1 <= first <= MAX_PER_PAGE:
            raise GraphQLError(f"first must be between 1 and {MAX_PER_PAGE}")
        return list(itertools.islice((i for i in items if after_id is None or i.id > after_id), first))
    if page is None and per_page is None:
        return list(items)
    if page is None or page < 1:
        raise GraphQLError("page must be 1 or more")
    if per_page is None or not 1 <= per_page <= MAX_PER_PAGE:
        raise GraphQLError(f"perPage must be between 1 and {MAX_PER_PAGE}")
    start = (page - 1) * per_page
    return list(itertools.islice(items, start, start + per_page))


def _first(items):
    return next(iter(items), None)


def _count(items) -> int:
    return sum(1 for _ in items)


QUERY = {
    "products": lambda _, info, productSearch=None, priceSearch=None, workSearch=None, page=None, perPage=None, **cursor: (
        _page(_matching_products(_catalogue(info), productSearch, priceSearch, workSearch), page, perPage, **cursor)
    ),
    "productsCount": lambda _, info, productSearch=None, priceSearch=None, workSearch=None: _count(
        _matching_products(_catalogue(info), productSearch, priceSearch, workSearch)
    ),
    "product": lambda _, info, productSearch=None: _first(
        _matching_products(_catalogue(info), productSearch, None, None)
    ),
    "works": lambda _, info, productSearch=None, workSearch=None, page=None, perPage=None, **cursor: _page(
        _matching_works(_catalogue(info), productSearch, workSearch), page, perPage, **cursor
    ),
    "worksCount": lambda _, info, productSearch=None, workSearch=None: _count(
        _matching_works(_catalogue(info), productSearch, workSearch)
    ),
    "work": lambda _, info, workSearch=None: _first(_matching_works(_catalogue(info), None, workSearch)),
    "contacts": lambda _, info, contactSearch=None, page=None, perPage=None, **cursor: _page(
        (p for p in _catalogue(info).persons.values() if contact_matches(p, contactSearch)), page, perPage, **cursor
    ),
    "contactsCount": lambda _, info, contactSearch=None: _count(
        p for p in _catalogue(info).persons.values() if contact_matches(p, contactSearch)
    ),
    "person": lambda _, info, id: _catalogue(info).persons.get(_id(id)),
    "contract": lambda _, info, contractSearch=None: _first(
        c for c in _catalogue(info).contracts.values() if contract_matches(c, contractSearch)
    ),
    "contracts": lambda _, info, contractSearch=None, page=None, perPage=None, **cursor: _page(
        (c for c in _catalogue(info).contracts.values() if contract_matches(c, contractSearch)), page, perPage, **cursor
    ),
    "contractsCount": lambda _, info, contractSearch=None: _count(
        c for c in _catalogue(info).contracts.values() if contract_matches(c, contractSearch)
    ),
    "projectStages": lambda _, info: [{"name": n, "position": i} for i, n in enumerate(vocab.PROJECT_STAGES, 1)],
}


# -- products ------------------------------------------------------------------------------------


def _isbn(product: Product, _info):
    raw = product.isbn13
    if raw is None:
        return None
    digits = normalise_isbn(raw)
    if not (digits and is_valid_isbn13(digits)):
        return {"isbn13": raw, "isbn10": None, "isbnWithDashes": raw}
    return {"isbn13": raw, "isbn10": isbn10_from_13(digits), "isbnWithDashes": hyphenate(digits, 3)}


def _authorship(product: Product, _info) -> str:
    parts = []
    for contribution in sorted(product.work.contributions, key=lambda c: c.sequence):
        label = vocab.ROLE_CODES.get(contribution.role, "By")
        parts.append(f"{label.split(' ')[0] if contribution.role == 'A01' else label} {contribution.person.name}")
    return "; ".join(parts)


def _date_string(attribute: str):
    def resolve(product: Product, _info, directives: str | None = None):
        value = getattr(product, attribute)
        return value.strftime(directives or "%Y-%m-%d") if value else None

    return resolve


def _prices(product: Product, _info, priceSearch=None):
    return [
        {
            "id": product.id * 10 + index,
            "amount": amount,
            "currencyCode": currency,
            "effectiveFrom": product.planned_date,
            "effectiveTo": None,
            "onixPriceTypeCode": f"_{price_type}",
            "onixPriceTypeQualifierCode": f"_{qualifier}",
        }
        for index, (currency, amount, price_type, qualifier) in enumerate(product.prices)
        if price_matches((currency, amount, price_type, qualifier), priceSearch)
    ]


def marketing_texts(work: Work) -> list[tuple[str, str]]:
    """Texts are derived from the work on demand rather than stored: they are the bulk of a catalogue's bytes."""
    if not work.has_texts:
        return []
    author = work.contributions[0].person.name if work.contributions else "the author"
    genre = next((s[2].split(": ")[-1].lower() for s in work.subjects if s[0] == "THEMA"), "book")
    texts = [
        ("SHORT_DESCRIPTION", f"{work.full_title}: a {genre} from {author}."),
        (
            "DESCRIPTION",
            f"<p>{work.full_title} is the new {work.work_type.lower()} title from {author}, "
            f"published by {work.imprint} in {work.season}.</p>",
        ),
    ]
    if work.marketing_tier in ("Lead", "Key"):
        texts.append(("KEY_SELLING_POINTS", f"<ul><li>{work.marketing_tier} title for {work.season}</li></ul>"))
    texts.append(("BIOGRAPHICAL_NOTE", f"{author} lives and writes in {vocab.PLACES[work.id % len(vocab.PLACES)]}."))
    return texts


def _marketing_texts(product: Product, _info, variantIn=None):
    return [
        {"id": product.id * 10 + index, "variant": variant, "externalText": text}
        for index, (variant, text) in enumerate(marketing_texts(product.work))
        if not variantIn or variant in variantIn
    ]


def _subject_codes(owner, _info, schemesIn=None, mainOnly=False):
    work = owner.work if isinstance(owner, Product) else owner
    return [
        {"scheme": scheme, "code": code, "description": description, "main": main, "parentCode": parent}
        for scheme, code, description, main, parent in work.subjects
        if (not schemesIn or scheme in schemesIn) and (main or not mainOnly)
    ]


def _dimension(index: int):
    def resolve(product: Product, _info, unit: str | None = None):
        if not product.trim:
            return None
        millimetres = product.trim[index]
        return {None: float(millimetres), "CM": round(millimetres / 10, 2), "IN": round(millimetres / 25.4, 2)}[unit]

    return resolve


def _pages(combine):
    def resolve(product: Product, _info):
        return combine(*product.pages) if product.pages else None

    return resolve


def _onix_code(table: dict, code: str, deprecated=frozenset()):
    return {"code": code, "description": table.get(code), "notes": None, "isDeprecated": code in deprecated}


PRODUCT = {
    "isbn": _isbn,
    "fullTitle": lambda p, _: p.work.full_title,
    "titlePrefix": lambda p, _: p.work.title_prefix,
    "titleWithoutPrefix": lambda p, _: p.work.title,
    "subtitle": lambda p, _: p.work.subtitle if p.subtitle is None else p.subtitle,
    "authorshipDescription": _authorship,
    "productAuthorshipDescription": _authorship,
    "publicationDate": lambda p, _: p.publication_date,
    "plannedPublicationDate": lambda p, _: p.planned_date,
    "publicationDateString": _date_string("publication_date"),
    "plannedPublicationDateString": _date_string("planned_date"),
    "onix21ProductFormCode": lambda p, _: vocab.FORMATS[p.format][1],
    "onix21ProductForm": lambda p, _: _onix_code(vocab.ONIX21_PRODUCT_FORMS, vocab.FORMATS[p.format][1]),
    "onixPublishingStatusCode": lambda p, _: f"_{p.status}",
    "onixPublishingStatus": lambda p, _: _onix_code(
        vocab.ONIX_PUBLISHING_STATUSES, p.status, vocab.DEPRECATED_STATUSES
    ),
    "prices": _prices,
    "marketingTexts": _marketing_texts,
    "inHouseFormat": lambda p, _: p.format,
    "inHouseEdition": lambda p, _: p.format,
    "forSaleCountryCodes": lambda p, _: list(p.work.rights[1]),
    "notForSaleCountryCodes": lambda p, _: list(p.work.rights[2]),
    "salesRightsDescription": lambda p, _: p.work.rights[0],
    "isForSaleWorldwide": lambda p, _: p.work.rights[3],
    "work": lambda p, _: p.work,
    "webLinks": lambda p, _: p.web_links,
    "subjectCodes": _subject_codes,
    "imprint": lambda p, _: p.work.imprint,
    "productHeight": _dimension(0),
    "productWidth": _dimension(1),
    "approximatePageCount": _pages(lambda front, main, back, inserts: (front + main + back + 15) // 16 * 16),
    "productionPageCount": _pages(lambda front, main, back, inserts: (front + main + back + inserts + 15) // 16 * 16),
    "mainContentPageCount": _pages(lambda front, main, back, inserts: main),
    "frontMatterPageCount": _pages(lambda front, main, back, inserts: front),
    "backMatterPageCount": _pages(lambda front, main, back, inserts: back),
    "totalNumberedPages": _pages(lambda front, main, back, inserts: front + main + back),
    "contentPageCount": _pages(lambda front, main, back, inserts: main),
    "totalUnnumberedInsertPageCount": _pages(lambda front, main, back, inserts: inserts),
    "wordCount": lambda p, _: p.word_count,
    "runningTimeMinutes": lambda p, _: p.running_time,
}

IN_HOUSE_FORMAT = {
    "name": lambda fmt, _: vocab.FORMATS[fmt][2],
    "code": lambda fmt, _: vocab.FORMATS[fmt][3],
    "productsCount": lambda fmt, info: _catalogue(info).format_count.get(fmt, 0),
    "inHouseEditions": lambda fmt, _: [fmt],
}
IN_HOUSE_EDITION = {
    "name": lambda fmt, _: vocab.FORMATS[fmt][4],
    "code": lambda fmt, _: vocab.FORMATS[fmt][5],
    "inHouseFormats": lambda fmt, _: [fmt],
}


# -- works, contracts, contacts --------------------------------------------------------------------

WORK = {
    "title": lambda w, _: w.full_title,
    "lcSubjectHeading": lambda w, _: w.lc_subject_heading,
    "identifyingDoi": lambda w, _: w.doi,
    "inHouseWorkReference": lambda w, _: w.in_house_ref,
    "workType": lambda w, _: w.work_type,
    "projectStage": lambda w, _: w.stage,
    "marketingTier": lambda w, _: w.marketing_tier,
    "prizes": lambda w, _: [{"id": i, "name": n, "year": y, "achievement": a} for i, n, y, a in w.prizes],
    "seriesMemberships": lambda w, _: [
        {"id": m, "seriesName": name, "numberWithinSeries": number, "series": {"id": s, "name": name}}
        for m, s, name, number in w.series
    ],
    "supportingResources": lambda w, _: [{"id": i, "url": url, "caption": caption} for i, url, caption in w.resources],
    "productionRuns": lambda w, _: [
        {"id": i, "quantity": q, "printer": p, "deliveryDate": d} for i, q, p, d in w.production_runs
    ],
    "salesforceUid": lambda w, _: w.salesforce_uid,
    "webLinks": lambda w, _: w.web_links,
    "tasks": lambda w, _, statusIn=None: [t for t in w.tasks if not statusIn or t.status in statusIn],
    "todos": lambda w, _, statusIn=None: [t for t in w.tasks if not statusIn or t.status in statusIn],  # other-names
}
CONTRIBUTION = {
    "onixContributorRoleCode": lambda c, _: c.role,
    "sequenceNumber": lambda c, _: c.sequence,
    "contributor": lambda c, _: c.person,
}
PERSON = {"keyNames": lambda p, _: p.key_names}
NOTE = {
    "noteText": lambda n, _: n.text,
    "content": lambda n, _: n.text,
    "createdAt": lambda n, _: n.created_at,
    "externalRef": lambda n, _: n.external_ref,
}
TASK = {
    "dueDate": lambda t, _: t.due_date,
    "completedAt": lambda t, _: t.completed_at,
    "externalRef": lambda t, _: t.external_ref,
}
CONTRACT = {
    "contractName": lambda c, _: c.name,
    "signedDate": lambda c, _: c.signed_date,
    "deliveryDates": lambda c, _: c.delivery_dates,
    "msDeliveryDate": lambda c, _: c.delivery_dates[0].date_due if c.delivery_dates else None,
    "licensedRights": lambda c, _: [
        {"id": c.id * 10 + i, "rightType": r, "authorCut": cut, "territoryCountryCodes": list(t)}
        for i, (r, cut, t) in enumerate(c.rights)
    ],
    "flatFeeValue": lambda c, _: c.flat_fee,
    "guaranteedRoyaltyValue": lambda c, _: c.guaranteed_royalty,
}
DELIVERY_DATE = {"dateDue": lambda d, _: d.date_due, "slippedDate": lambda d, _: d.slipped_date}


# -- mutations -------------------------------------------------------------------------------------


def _not_found(field: str = "id") -> list[dict]:
    return [{"field": field, "messages": ["not found"]}]


def _update_product(_, info, input):
    cat = _catalogue(info)
    product = cat.products.get(_id(input["id"]))
    if product is None:
        return {"product": None, "errors": _not_found()}
    errors = cat.update_product(product, {k: v for k, v in input.items() if k != "id"})
    return {"product": product, "errors": errors}


def _update_work(_, info, input):
    cat = _catalogue(info)
    work = cat.works.get(_id(input["id"]))
    if work is None:
        return {"work": None, "errors": _not_found()}
    return {"work": work, "errors": cat.update_work(work, {k: v for k, v in input.items() if k != "id"})}


def _create_work_note(_, info, input):
    cat = _catalogue(info)
    work = cat.works.get(_id(input["workId"]))
    if work is None:
        return {"note": None, "work": None, "errors": _not_found("workId")}
    text = input["noteText"] if "noteText" in input else input["content"]  # `content` in the other-names profile
    note, errors = cat.create_note(work, text, input.get("externalRef"))
    return {"note": note, "work": work, "errors": errors}


def _create_work_task(_, info, input):
    cat = _catalogue(info)
    work = cat.works.get(_id(input["workId"]))
    if work is None:
        return {"task": None, "errors": _not_found("workId")}
    task, errors = cat.create_task(
        work, input["title"], input.get("dueDate"), input.get("assignee"), input.get("externalRef")
    )
    return {"task": task, "errors": errors}


def _set_task_status(complete: bool):
    def resolve(_, info, input):
        cat = _catalogue(info)
        task = cat.tasks.get(_id(input["id"]))
        if task is None:
            return {"task": None, "errors": _not_found()}
        cat.set_task_status(task, complete)
        return {"task": task, "errors": []}

    return resolve


def _change_stage(_, info, input):
    cat = _catalogue(info)
    work = cat.works.get(_id(input["workId"]))
    if work is None:
        return {"work": None, "errors": _not_found("workId")}
    return {"work": work, "errors": cat.change_stage(work, input["projectStage"])}


MUTATION = {
    "updateProduct": _update_product,
    "updateWork": _update_work,
    "createWorkNote": _create_work_note,
    "createWorkTask": _create_work_task,
    "completeWorkTask": _set_task_status(True),
    "reopenWorkTask": _set_task_status(False),
    "changeWorkProjectStage": _change_stage,
    # the other-names profile spells these differently (see profiles.py)
    "addWorkNote": _create_work_note,
    "createWorkTodo": _create_work_task,
    "completeWorkTodo": _set_task_status(True),
    "reopenWorkTodo": _set_task_status(False),
}

RESOLVERS = {
    "Query": QUERY,
    "Mutation": MUTATION,
    "PhysicalBookProduct": PRODUCT,
    "DigitalProduct": PRODUCT,
    "AudioProduct": PRODUCT,
    "InHouseFormat": IN_HOUSE_FORMAT,
    "InHouseEdition": IN_HOUSE_EDITION,
    "Work": WORK,
    "Contribution": CONTRIBUTION,
    "Person": PERSON,
    "Note": NOTE,
    "WorkTask": TASK,
    "WorkTodo": TASK,
    "WorkTodoPayload": {"todo": lambda payload, _: payload["task"]},
    "Contract": CONTRACT,
    "DeliveryDate": DELIVERY_DATE,
}
