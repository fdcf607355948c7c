"""The sandbox's profiles are the servers they claim to be: documented-only is what Consonance's docs show
(documented_names.toml) and nothing more; the variants rename or re-page exactly what they say."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from graphql import build_schema

from sandbox.consonance import profiles

DOCUMENTED = tomllib.loads((Path(__file__).with_name("documented_names.toml")).read_text())


def _schema(name):
    return build_schema(profiles.schema_text(name))


def test_documented_only_has_the_documented_roots_mutations_and_fields_only():
    schema = _schema("documented-only")
    roots = {name: sorted(field.args) for name, field in schema.query_type.fields.items()}
    assert roots == {name: sorted(args) for name, args in DOCUMENTED["query_roots"].items()}
    assert sorted(schema.mutation_type.fields) == sorted(DOCUMENTED["mutations"]["documented"])
    for type_name, spec in DOCUMENTED["types"].items():
        allowed = set(spec.get("fields", ())) | set(spec.get("physical_only", ())) | {"id", "work"}
        assert set(schema.type_map[type_name].fields) <= allowed, type_name
    assert "DigitalProduct" not in schema.type_map and "WorkTask" not in schema.type_map
    assert "DESCRIPTION" not in schema.type_map["MarketingTextVariant"].values


def test_the_variants_change_what_they_say_and_nothing_else():
    full, cursor, names = _schema("full"), _schema("cursor"), _schema("other-names")
    assert set(cursor.query_type.fields["works"].args) == {"productSearch", "workSearch", "first", "after"}
    assert "worksCount" not in cursor.query_type.fields
    assert set(cursor.type_map["Work"].fields) == set(full.type_map["Work"].fields)
    mutations = set(names.mutation_type.fields)
    assert {"addWorkNote", "createWorkTodo", "completeWorkTodo", "reopenWorkTodo"} <= mutations
    assert not {"createWorkNote", "createWorkTask"} & mutations
    assert "todos" in names.type_map["Work"].fields and "tasks" not in names.type_map["Work"].fields
    assert "noteText" not in names.type_map["Note"].fields and "content" in names.type_map["Note"].fields


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown sandbox profile"):
        profiles.check("legacy")
