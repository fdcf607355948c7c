"""Every .graphql operation validates against the sandbox SDL, so a typo in a field name fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    graphql_sync,
    parse,
    validate,
    visit,
)

from addon.consonance import capabilities
from addon.consonance.operations import OPERATIONS_DIR, fragment_names, load_operation, operation_names
from sandbox.consonance import profiles

SDL_PATH = Path(__file__).resolve().parents[2] / "sandbox" / "consonance" / "schema.graphql"


@pytest.fixture(scope="module")
def schema():
    return build_schema(SDL_PATH.read_text(encoding="utf-8"))


def test_there_are_operations_and_fragments():
    assert {"TitleByWorkId", "CatalogueFingerprints", "AddWorkNote"} <= set(operation_names())
    assert "TitleFields" in fragment_names()


class SchemaOnly:
    """Answers the discovery's introspection from an SDL (the schema only: no resolvers, nothing else)."""

    def __init__(self, schema):
        self.schema = schema

    def execute(self, document, variables=None, operation_name=None):
        result = graphql_sync(self.schema, document, variable_values=variables)
        assert not result.errors, result.errors
        return result.data


@pytest.fixture(scope="module")
def profile_schemas():
    return {
        name: build_schema(profiles.schema_text(name)) for name in profiles.PROFILES if name != "introspection-refused"
    }


@pytest.mark.parametrize("name", [n for n in operation_names() if capabilities.CapabilityProfile.assumed().sends(n)])
def test_operation_is_valid_against_the_sandbox_schema(schema, name):
    """Every operation the app sends to the server it was written for (other spellings: the profiles test)."""
    operation = load_operation(name)
    errors = validate(schema, parse(operation.document))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("profile", [p for p in profiles.PROFILES if p != "introspection-refused"])
def test_every_operation_sent_to_a_profile_is_valid_there(profile_schemas, profile):
    """Built for what discovery finds on each server, nothing the app sends names what the server lacks."""
    schema = profile_schemas[profile]
    found = capabilities.CapabilityProfile(frozenset(capabilities._from_introspection(SchemaOnly(schema))))
    sent = [name for name in operation_names() if found.sends(name)]
    assert "TitleByWorkId" in sent and "CatalogueFingerprints" in sent
    for name in sent:
        errors = validate(schema, parse(load_operation(name, found.has).document))
        assert not errors, (name, [e.message for e in errors])


def test_documented_only_sends_no_write_it_lacks(profile_schemas):
    schema = profile_schemas["documented-only"]
    found = capabilities.CapabilityProfile(frozenset(capabilities._from_introspection(SchemaOnly(schema))))
    assert not [n for n in operation_names() if found.sends(n) and load_operation(n).kind == "mutation"]
    assert found.pagination == "none"


def assumed_names(sdl: str) -> set[str]:
    """Names the SDL marks `# assumption`: "Type", "Type.field" or "Type.field(arg)"."""
    marked: set[str] = set()
    current_type = current_field = None
    for line in sdl.splitlines():
        code, _, comment = line.partition("#")
        assumed = "assumption" in comment
        words = code.replace("(", " ( ").replace(":", " : ").split()
        if words and words[0] in {"type", "interface", "input", "enum", "scalar"} and len(words) > 1:
            current_type, current_field = words[1], None
            if assumed:
                marked.add(current_type)
        elif current_type and words and words[0] not in {"}", ")", "):"} and not code.lstrip().startswith(")"):
            if current_field and ")" not in code and "(" not in code and line.startswith("    "):
                if assumed:
                    marked.add(f"{current_type}.{current_field}({words[0]})")
                continue
            current_field = words[0]
            if "(" in code and ")" not in code:
                if assumed:
                    marked.add(f"{current_type}.{current_field}")
                continue  # arguments follow on their own lines
            if assumed:
                marked.add(f"{current_type}.{current_field}")
            current_field = None
        elif code.lstrip().startswith(")") and current_field:
            if assumed:
                marked.add(f"{current_type}.{current_field}")
            current_field = None
    return marked


def names_used(schema, document: str) -> set[str]:
    """Every type, field and argument an operation touches, in the same notation as assumed_names."""
    type_info = TypeInfo(schema)
    used: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node, *_):
            parent = type_info.get_parent_type()
            if parent is None:
                return
            used.add(f"{parent.name}.{node.name.value}")
            for argument in node.arguments or ():
                used.add(f"{parent.name}.{node.name.value}({argument.name.value})")
            field_type = type_info.get_type()
            if field_type is not None:
                used.add(get_named_type(field_type).name)

        def enter_object_field(self, node, *_):
            input_type = type_info.get_parent_input_type()
            if input_type is not None:
                named = get_named_type(input_type)
                used.add(named.name)
                used.add(f"{named.name}.{node.name.value}")

    visit(parse(document), TypeInfoVisitor(type_info, Collect()))
    return used


@pytest.mark.parametrize("name", operation_names())
def test_operation_relying_on_undocumented_api_says_so(schema, name):
    operation = load_operation(name)
    relies_on = names_used(schema, operation.document) & assumed_names(SDL_PATH.read_text(encoding="utf-8"))
    if relies_on:
        assert operation.assumptions, f"{name}.graphql uses {sorted(relies_on)} but has no '# assumption:' line"


def test_assumption_detection_sees_pagination_and_task_names(schema):
    marked = assumed_names(SDL_PATH.read_text(encoding="utf-8"))
    assert {"Query.works(perPage)", "Query.worksCount", "Work.tasks", "WorkTask", "Mutation.createWorkNote"} <= marked
    assert {"Query.contracts", "ISO8601Date"} <= marked
    assert "Query.work" not in marked and "Work.title" not in marked
    assert "Query.works(perPage)" in names_used(schema, load_operation("CatalogueFingerprints").document)


def test_a_misspelt_field_is_caught(schema):
    document = load_operation("TitleByWorkId").document.replace("plannedPublicationDate", "plannedPubDate")
    assert validate(schema, parse(document))


def test_every_fragment_is_used():
    used = {
        f for name in operation_names() for f in fragment_names() if f"fragment {f} " in load_operation(name).document
    }
    assert used == set(fragment_names())


def test_no_stray_files():
    assert {p.suffix for p in OPERATIONS_DIR.iterdir() if p.is_file()} <= {".graphql", ".py"}
