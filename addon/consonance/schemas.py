"""Marshmallow schemas turning Consonance's GraphQL response dicts into publishing domain objects.

This is where wire quirks are absorbed: camelCase names, ONIX enum underscores, "No ISBN" and
hyphenated ISBNs, dates as strings, money as decimals. Unknown fields are ignored so a richer
response never breaks a reader.
"""

from __future__ import annotations

from dataclasses import replace

from marshmallow import EXCLUDE, Schema, fields, post_load, pre_load

from addon.publishing.domain import (
    Contract,
    Contributor,
    DeliveryDate,
    Format,
    LicensedRight,
    Note,
    Price,
    PublishingStatus,
    Stage,
    Subject,
    Task,
    Title,
    TitleFingerprint,
    WebLink,
    contributor_role_label,
    format_kind,
    parse_isbn,
)


def onix_code(value: str | None) -> str | None:
    """GraphQL writes ONIX codes that start with a digit with a leading underscore: `_04` -> `04`."""
    if value is None:
        return None
    return value[1:] if value.startswith("_") and value[1:2].isdigit() else value


class _Wire(Schema):
    class Meta:
        unknown = EXCLUDE


class _List(fields.List):
    """A list field that reads a JSON null as an empty tuple (the domain uses tuples)."""

    def __init__(self, inner, **kwargs):
        super().__init__(inner, load_default=(), allow_none=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return ()
        return tuple(super()._deserialize(value, attr, data, **kwargs))


class PriceSchema(_Wire):
    amount = fields.Decimal(allow_none=True)
    currency = fields.String(data_key="currencyCode", required=True)
    type_code = fields.String(data_key="onixPriceTypeCode", allow_none=True)

    @post_load
    def build(self, data, **_):
        return Price(amount=data.get("amount"), currency=data["currency"], type_code=onix_code(data.get("type_code")))


class SubjectSchema(_Wire):
    scheme = fields.String(load_default="")
    code = fields.String(required=True)
    description = fields.String(allow_none=True)
    main = fields.Boolean(load_default=False)

    @post_load
    def build(self, data, **_):
        return Subject(
            scheme=data.get("scheme") or "",
            code=data["code"],
            description=data.get("description"),
            main=bool(data.get("main")),
        )


class OnixCodeSchema(_Wire):
    code = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class FormatSchema(_Wire):
    """A product (`PhysicalBookProduct`, `DigitalProduct`, `AudioProduct`) as a Format."""

    product_id = fields.String(data_key="id", required=True)
    typename = fields.String(data_key="__typename", allow_none=True)
    isbn = fields.Dict(allow_none=True)
    full_title = fields.String(data_key="fullTitle", allow_none=True)
    publication_date = fields.Date(data_key="publicationDate", allow_none=True)
    planned_publication_date = fields.Date(data_key="plannedPublicationDate", allow_none=True)
    form_code = fields.String(data_key="onix21ProductFormCode", allow_none=True)
    status_code = fields.String(data_key="onixPublishingStatusCode", allow_none=True)
    status = fields.Nested(OnixCodeSchema, data_key="onixPublishingStatus", allow_none=True)
    prices = _List(fields.Nested(PriceSchema))
    subjects = _List(fields.Nested(SubjectSchema), data_key="subjectCodes")
    marketing_texts = _List(fields.Dict(), data_key="marketingTexts")
    for_sale_countries = _List(fields.String(), data_key="forSaleCountryCodes")
    not_for_sale_countries = _List(fields.String(), data_key="notForSaleCountryCodes")
    sales_rights_description = fields.String(data_key="salesRightsDescription", allow_none=True)
    is_for_sale_worldwide = fields.Boolean(data_key="isForSaleWorldwide", allow_none=True)

    @post_load
    def build(self, data, **_):
        isbn = data.get("isbn") or {}
        raw = isbn.get("isbn13") or isbn.get("isbnWithDashes") or isbn.get("isbn10")
        isbn13, problem = parse_isbn(raw)
        status_code = onix_code(data.get("status_code"))
        status = data.get("status") or {}
        texts = [t.get("externalText") for t in (data.get("marketing_texts") or ()) if t.get("externalText")]
        return Format(
            product_id=data["product_id"],
            kind=format_kind(data.get("form_code"), data.get("typename")),
            form_code=data.get("form_code"),
            typename=data.get("typename"),
            isbn13=isbn13,
            isbn_problem=problem,
            isbn_raw=raw,
            publication_date=data.get("publication_date"),
            planned_publication_date=data.get("planned_publication_date"),
            publishing_status=(
                PublishingStatus(
                    code=onix_code(status.get("code")) or status_code, description=status.get("description")
                )
                if status or status_code
                else None
            ),
            prices=data.get("prices") or (),
            subjects=data.get("subjects") or (),
            description="\n\n".join(texts) if texts else None,
            for_sale_countries=tuple(data.get("for_sale_countries") or ()),
            not_for_sale_countries=tuple(data.get("not_for_sale_countries") or ()),
            sales_rights_description=data.get("sales_rights_description"),
            is_for_sale_worldwide=data.get("is_for_sale_worldwide"),
            full_title=data.get("full_title"),
        )


class ContributorSchema(_Wire):
    role_code = fields.String(data_key="onixContributorRoleCode", allow_none=True)
    sequence = fields.Integer(data_key="sequenceNumber", allow_none=True)
    contributor = fields.Dict(allow_none=True)

    @post_load
    def build(self, data, **_):
        role = onix_code(data.get("role_code"))
        person = data.get("contributor") or {}
        contributor = Contributor(
            name=(person.get("name") or "").strip(),
            role_code=role,
            role_label=contributor_role_label(role),
            key_names=(person.get("keyNames") or "").strip() or None,
        )
        return data.get("sequence"), contributor


class DeliveryDateSchema(_Wire):
    date_due = fields.Date(data_key="dateDue", allow_none=True)
    slipped_date = fields.Date(data_key="slippedDate", allow_none=True)

    @post_load
    def build(self, data, **_):
        return DeliveryDate(date_due=data.get("date_due"), slipped_date=data.get("slipped_date"))


class LicensedRightSchema(_Wire):
    id = fields.String(allow_none=True)
    right_type = fields.String(data_key="rightType", allow_none=True)
    territories = _List(fields.String(), data_key="territoryCountryCodes")

    @post_load
    def build(self, data, **_):
        return LicensedRight(
            right_type=data.get("right_type") or "", id=data.get("id"), territories=tuple(data.get("territories") or ())
        )


class ContractSchema(_Wire):
    id = fields.String(required=True)
    name = fields.String(data_key="contractName", allow_none=True)
    signed_date = fields.Date(data_key="signedDate", allow_none=True)
    delivery_dates = _List(fields.Nested(DeliveryDateSchema), data_key="deliveryDates")
    licensed_rights = _List(fields.Nested(LicensedRightSchema), data_key="licensedRights")

    @post_load
    def build(self, data, **_):
        return Contract(
            id=data["id"],
            name=data.get("name"),
            signed_date=data.get("signed_date"),
            delivery_dates=data.get("delivery_dates") or (),
            licensed_rights=data.get("licensed_rights") or (),
        )


class TitleSchema(_Wire):
    """A work with its products (and, when selected, contracts) as a Title."""

    work_id = fields.String(data_key="id", required=True)
    title = fields.String(allow_none=True)
    stage = fields.String(data_key="projectStage", allow_none=True)
    season = fields.String(allow_none=True)
    marketing_tier = fields.String(data_key="marketingTier", allow_none=True)
    imprint = fields.String(allow_none=True)
    series = _List(fields.Dict(), data_key="seriesMemberships")
    contributions = _List(fields.Nested(ContributorSchema))
    resources = _List(fields.Dict(), data_key="supportingResources")
    formats = _List(fields.Nested(FormatSchema), data_key="products")
    contracts = _List(fields.Nested(ContractSchema))

    subtitle = fields.String(allow_none=True)

    @pre_load
    def subtitle_from_products(self, data, **_):
        """Works carry no subtitle in the API; their products do, so take the first one given."""
        products = data.get("products") or ()
        subtitle = next((p.get("subtitle") for p in products if p.get("subtitle")), None)
        return {**data, "subtitle": subtitle}

    @post_load
    def build(self, data, **_):
        contributions = data.get("contributions") or ()
        ordered = sorted(enumerate(contributions), key=lambda pair: (pair[1][0] is None, pair[1][0] or 0, pair[0]))
        has_cover = any(_is_cover(r) for r in (data.get("resources") or ()))
        formats = tuple(replace(f, has_cover=has_cover) for f in (data.get("formats") or ()))
        return Title(
            work_id=data["work_id"],
            title=data.get("title") or "",
            subtitle=data.get("subtitle"),
            imprint=data.get("imprint"),
            stage=Stage(data["stage"]) if data.get("stage") else None,
            season=data.get("season"),
            marketing_tier=data.get("marketing_tier"),
            series=tuple(s.get("seriesName") for s in (data.get("series") or ()) if s.get("seriesName")),
            contributors=tuple(c for _, (_, c) in ordered),
            formats=formats,
            contracts=data.get("contracts") or (),
        )


def _is_cover(resource: dict) -> bool:
    """A supporting resource counts as the cover when its caption says so."""
    return "cover" in (resource.get("caption") or "").lower()


class NoteSchema(_Wire):
    id = fields.String(required=True)
    text = fields.String(data_key="noteText", allow_none=True)
    created_at = fields.DateTime(data_key="createdAt", allow_none=True)
    external_ref = fields.String(data_key="externalRef", allow_none=True)

    @post_load
    def build(self, data, **_):
        return Note(
            id=data["id"],
            text=data.get("text") or "",
            created_at=data.get("created_at"),
            external_ref=data.get("external_ref"),
        )


class TaskSchema(_Wire):
    id = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    due_date = fields.Date(data_key="dueDate", allow_none=True)
    external_ref = fields.String(data_key="externalRef", allow_none=True)
    assignee = fields.String(allow_none=True)

    @post_load
    def build(self, data, **_):
        return Task(
            id=data["id"],
            title=data["title"],
            status=data["status"],
            due_date=data.get("due_date"),
            external_ref=data.get("external_ref"),
            assignee=(data.get("assignee") or "").strip() or None,
        )


class WebLinkSchema(_Wire):
    id = fields.String(allow_none=True)
    url = fields.String(data_key="link", required=True)
    role = fields.String(allow_none=True)
    note = fields.String(allow_none=True)

    @post_load
    def build(self, data, **_):
        return WebLink(id=data.get("id"), url=data["url"], role=data.get("role"), note=data.get("note"))


class StageSchema(_Wire):
    name = fields.String(required=True)
    position = fields.Integer(allow_none=True)

    @post_load
    def build(self, data, **_):
        return Stage(name=data["name"], position=data.get("position"))


TITLE = TitleSchema()
TITLES = TitleSchema(many=True)
CONTRACTS = ContractSchema(many=True)
FORMATS = FormatSchema(many=True)
NOTE = NoteSchema()
TASK = TaskSchema()
TASKS = TaskSchema(many=True)
WEB_LINKS = WebLinkSchema(many=True)
STAGES = StageSchema(many=True)


def fingerprint(work: dict) -> TitleFingerprint:
    """The change fingerprint of one work as the fingerprint query returns it."""
    return TitleFingerprint.of(TITLE.load(work))
