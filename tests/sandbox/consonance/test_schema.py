"""The SDL parses and carries every name Consonance documents (documented_names.toml), in the documented shapes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLInterfaceType, GraphQLObjectType, build_schema, get_named_type

from sandbox.consonance import SCHEMA_PATH

DOCUMENTED = tomllib.loads((Path(__file__).with_name("documented_names.toml")).read_text())
SDL = SCHEMA_PATH.read_text()


@pytest.fixture(scope="module")
def schema():
    return build_schema(SDL)


def _fields(schema, type_name: str) -> set[str]:
    return set(schema.type_map[type_name].fields)


@pytest.mark.parametrize("type_name", sorted(DOCUMENTED["types"]))
def test_every_documented_field_exists(schema, type_name):
    documented = DOCUMENTED["types"][type_name]
    names = documented["fields"] + documented.get("physical_only", [])
    assert len(names) > 3
    missing = [name for name in names if name not in _fields(schema, type_name)]
    assert not missing, f"{type_name} lacks documented fields {missing}"
    for field, subfields in documented.get("subfields", {}).items():
        target = get_named_type(schema.type_map[type_name].fields[field].type)
        absent = [s for s in subfields if s not in target.fields]
        assert not absent, f"{type_name}.{field} lacks {absent}"


def test_product_interface_fields_are_on_every_product_type(schema):
    product = schema.type_map["Product"]
    assert isinstance(product, GraphQLInterfaceType)
    implementations = schema.get_implementations(product).objects
    assert {t.name for t in implementations} == {"PhysicalBookProduct", "DigitalProduct", "AudioProduct"}
    for name in DOCUMENTED["types"]["PhysicalBookProduct"]["physical_only"]:
        assert name in _fields(schema, "PhysicalBookProduct")


def test_query_roots_take_the_documented_search_arguments(schema):
    query = schema.query_type.fields
    roots = DOCUMENTED["query_roots"]
    assert set(roots) == {"products", "product", "works", "work", "contacts", "person", "contract"}
    for root, arguments in roots.items():
        assert root in query, f"query root {root} missing"
        for argument in arguments:
            assert argument in query[root].args, f"{root} lacks argument {argument}"
    for type_name, fields in DOCUMENTED["search_inputs"].items():
        for field in fields:
            assert field in schema.type_map[type_name].fields, f"{type_name} lacks {field}"


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
    documented_roots = set(DOCUMENTED["query_roots"])
    lines = SDL.splitlines()
    for root in set(schema.query_type.fields) - documented_roots:
        line = next(line for line in lines if re.match(rf"\s+{root}\b", line))
        assert "# assumption" in line, f"root {root} is undocumented but not marked"
    for name in ("createWorkNote", "createWorkTask", "completeWorkTask", "reopenWorkTask", "changeWorkProjectStage"):
        assert name not in DOCUMENTED["mutations"]["documented"]
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
