"""The SDL parses and carries every name the Consonance reference documents, in the documented shapes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLInterfaceType, GraphQLObjectType, build_schema, get_named_type

from sandbox.consonance import SCHEMA_PATH

REFERENCE = Path("/work/shared/reference/consonance-api.md")
SDL = SCHEMA_PATH.read_text()


@pytest.fixture(scope="module")
def schema():
    return build_schema(SDL)


def _reference() -> str:
    if not REFERENCE.exists():
        pytest.skip("the Consonance reference is not on this machine")
    return REFERENCE.read_text()


def _section(text: str, heading: str) -> str:
    start = text.index(heading) + len(heading)
    return text[start : text.index("\n\n", start)]


def _code_items(fragment: str) -> list[str]:
    """Backticked items, leaving out those inside a prose aside like "(argument `unit: CM | IN`)"."""
    items, depth = [], 0
    for index, part in enumerate(fragment.split("`")):
        if index % 2 == 0:
            depth += part.count("(") - part.count(")")
        elif depth == 0:
            items.append(part)
    return items


def _top_level_names(fragment: str) -> list[str]:
    """Backticked field names at the top level of a list like "`id`, `isbn { isbn13 }`, `prices(...) {...}`"."""
    names = []
    for item in _code_items(fragment):
        match = re.match(r"(__typename|[a-z][A-Za-z0-9]*)", item)
        if match:
            names.append(match.group(1))
    return names


def _subfields(fragment: str) -> dict[str, list[str]]:
    """field -> names inside its first `{ ... }` selection, e.g. isbn -> [isbn13, isbn10, isbnWithDashes]."""
    result = {}
    for item in _code_items(fragment):
        match = re.match(r"([a-z][A-Za-z0-9]*)(?:\([^)]*\))?\s*\{([^{}]*)\}", item)
        if match:
            result[match.group(1)] = [w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", match.group(2)) if w != "..."]
    return result


def _fields(schema, type_name: str) -> set[str]:
    return set(schema.type_map[type_name].fields)


@pytest.mark.parametrize(
    "heading,type_name",
    [
        ("Product fields seen:", "PhysicalBookProduct"),
        ("Work fields seen:", "Work"),
        ("Contract fields seen:", "Contract"),
        ("Contact fields seen:", "Person"),
    ],
)
def test_every_documented_field_exists(schema, heading, type_name):
    fragment = _section(_reference(), heading)
    names = [n for n in _top_level_names(fragment) if n not in ("__typename", "work") or type_name == "Work"]
    assert len(names) > 3
    missing = [name for name in names if name not in _fields(schema, type_name)]
    assert not missing, f"{type_name} lacks documented fields {missing}"
    if type_name == "PhysicalBookProduct":
        assert "parentCode" in fragment and "parentCode" in schema.type_map["SubjectCode"].fields
    for field, subfields in _subfields(fragment).items():
        if field not in _fields(schema, type_name):
            continue
        target = get_named_type(schema.type_map[type_name].fields[field].type)
        absent = [s for s in subfields if s not in target.fields]
        assert not absent, f"{type_name}.{field} lacks {absent}"


def test_product_interface_fields_are_on_every_product_type(schema):
    product = schema.type_map["Product"]
    assert isinstance(product, GraphQLInterfaceType)
    implementations = schema.get_implementations(product).objects
    assert {t.name for t in implementations} == {"PhysicalBookProduct", "DigitalProduct", "AudioProduct"}
    physical_only = _top_level_names(_section(_reference(), "and on `PhysicalBookProduct`:"))
    for name in physical_only:
        assert name in _fields(schema, "PhysicalBookProduct")


def _top_level_arguments(call: str) -> list[str]:
    """Argument names of "root(a: {...}, b: {...})" at nesting depth 1 only."""
    names, depth, token = [], 0, ""
    for ch in call:
        if ch in "({[":
            depth += 1
            token = ""
        elif ch in ")}]":
            depth -= 1
        elif ch == ":" and depth == 1 and token.strip():
            names.append(token.strip())
        elif ch == ",":
            token = ""
        else:
            token = token + ch if ch.isalnum() or ch == " " else ""
    return names


def test_query_roots_take_the_documented_search_arguments(schema):
    text = _reference()
    query = schema.query_type.fields
    roots = re.findall(r"^- `([a-z]+)(\(.*?\))`", _section(text, "Query roots seen"), flags=re.M)
    roots += re.findall(r", `([a-z]+)(\(.*?\))`", _section(text, "Query roots seen"))
    assert len(roots) >= 7
    for root, call in roots:
        assert root in query, f"query root {root} missing"
        for argument in _top_level_arguments(call):
            assert argument in query[root].args, f"{root} lacks argument {argument}"
    for root in ("products", "product", "works", "work", "contacts", "person", "contract"):
        assert root in query
    # Search input fields used in the reference's examples.
    used = {
        "ProductSearch": ["onix21ProductFormCodeIn", "publicationDateGt", "isbn13Eq"],
        "PriceSearch": ["amountLteq", "currencyCodeIn", "onixPriceTypeCodeIn", "onixPriceTypeQualifierCodeIn"],
        "WorkSearch": ["titleCont", "idEq"],
        "ContactSearch": ["personNameCont"],
        "ContractSearch": ["idEq"],
    }
    for type_name, fields in used.items():
        for field in fields:
            assert field in text and field in schema.type_map[type_name].fields


def test_onix_enums_use_a_leading_underscore(schema):
    for name in ("OnixPriceTypeCode", "OnixPriceTypeQualifierCode", "OnixPublishingStatusCode"):
        enum = schema.type_map[name]
        assert isinstance(enum, GraphQLEnumType)
        assert all(value.startswith("_") and value[1:].isdigit() for value in enum.values)
    assert "_02" in schema.type_map["OnixPriceTypeCode"].values
    assert "_05" in schema.type_map["OnixPriceTypeQualifierCode"].values
    assert {"BB", "BC"} <= set(schema.type_map["Onix21ProductFormCode"].values)
    assert {"BIC", "THEMA", "BISAC"} == set(schema.type_map["SubjectScheme"].values)


def test_date_strings_take_directives_and_dimensions_take_a_unit(schema):
    product = schema.type_map["PhysicalBookProduct"].fields
    for name in ("publicationDateString", "plannedPublicationDateString"):
        assert "directives" in product[name].args
    for name in ("productHeight", "productWidth"):
        assert str(product[name].args["unit"].type) == "DimensionUnit"
    assert set(schema.type_map["DimensionUnit"].values) == {"CM", "IN"}


def test_mutations_return_payloads_with_field_errors(schema):
    mutations = schema.mutation_type.fields
    for name in (
        "updateProduct",
        "updateWork",
        "createWorkNote",
        "createWorkTask",
        "completeWorkTask",
        "changeWorkProjectStage",
    ):
        payload = get_named_type(mutations[name].type)
        errors = get_named_type(payload.fields["errors"].type)
        assert set(errors.fields) == {"field", "messages"}
    assert "product" in get_named_type(mutations["updateProduct"].type).fields
    assert "work" in get_named_type(mutations["updateWork"].type).fields
    assert str(mutations["updateProduct"].args["input"].type) == "UpdateProductInput!"


def test_every_undocumented_definition_is_marked_as_an_assumption(schema):
    reference = _reference()
    documented_roots = {"products", "product", "works", "work", "contacts", "person", "contract"}
    lines = SDL.splitlines()
    for root in set(schema.query_type.fields) - documented_roots:
        line = next(line for line in lines if re.match(rf"\s+{root}\b", line))
        assert "# assumption" in line, f"root {root} is undocumented but not marked"
    for name in ("createWorkNote", "createWorkTask", "completeWorkTask", "reopenWorkTask", "changeWorkProjectStage"):
        assert name not in reference
        assert "# assumption" in next(line for line in lines if line.strip().startswith(f"{name}("))
    for type_name in ("WorkTask", "ProjectStage"):
        assert "# assumption" in next(line for line in lines if line.startswith(f"type {type_name} "))
    # Types the docs name (Work.prizes, ...) but whose shape they do not show: every field but the id is marked.
    for type_name in ("Prize", "SeriesMembership", "ProductionRun"):
        start = lines.index(next(line for line in lines if line.startswith(f"type {type_name} ")))
        body = lines[start + 1 : lines.index("}", start)]
        assert all("# assumption" in line for line in body if not line.strip().startswith("id:")), type_name
    assert "429" in SDL and "Retry-After" in SDL and "page: Int = 1" in SDL


def test_no_updated_at_anywhere(schema):
    for named in schema.type_map.values():
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            assert "updatedAt" not in named.fields, named.name
