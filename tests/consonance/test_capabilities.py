"""Capability discovery against each sandbox profile over HTTP: introspection and probing agree, probes
run nothing, and a gateway that meets a server before any check recovers without resending what was refused."""

from __future__ import annotations

import pytest

from addon.consonance import capabilities
from addon.consonance.capabilities import CapabilityProfile
from addon.consonance.errors import FeatureUnavailable
from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection, GraphQLTransport
from sandbox.consonance import profiles
from sandbox.consonance.testing import running_sandbox


@pytest.fixture(scope="module", params=[p for p in profiles.PROFILES if p != "introspection-refused"])
def server(request):
    with running_sandbox(SEED=7, SIZE=20, PROFILE=request.param) as running:
        yield running


def test_probing_finds_what_introspection_finds(server):
    transport = GraphQLTransport(ConsonanceConnection(server.url, server.api_key))
    server.control.clear_requests()
    before = (
        sum(len(w.notes) for w in server.state.works.values()),
        sum(len(w.tasks) for w in server.state.works.values()),
    )
    by_schema = capabilities._from_introspection(transport)
    by_probes, note = capabilities._from_probes(transport)
    assert note is None
    assert by_probes == by_schema
    after = (
        sum(len(w.notes) for w in server.state.works.values()),
        sum(len(w.tasks) for w in server.state.works.values()),
    )
    assert after == before  # the probes ran nothing (they are refused as a whole)
    probes = [r for r in server.control.requests() if r["operationName"] == "CapabilityProbe"]
    assert len(probes) == 2 and all(r["refused"] for r in probes)


def test_first_contact_before_any_check_recovers_once():
    with running_sandbox(SEED=7, SIZE=20, PROFILE="documented-only") as server:
        gateway = ConsonanceGateway(ConsonanceConnection(server.url, server.api_key))  # assumes the full schema
        title = gateway.title("3")
        assert title.title == server.control.work(3)["title"] and "Imprint" in title.unknown
        assert gateway.profile.source == "introspection" and not gateway.supports("notes")
        again = gateway.title("4")
        assert again.work_id == "4"
        with pytest.raises(FeatureUnavailable, match="createWorkNote"):
            gateway.add_note("3", "not for this server", "k-1")
        refused = [r["operationName"] for r in server.control.requests() if r["refused"]]
        assert refused == ["TitleByWorkId"]  # once, before the check; never again


def test_profile_round_trips_and_names_what_decides_each_feature():
    profile = CapabilityProfile.assumed()
    assert CapabilityProfile.from_dict(profile.as_dict()) == profile
    assert CapabilityProfile.from_dict({"present": "not a list"}) is None
    bare = CapabilityProfile(frozenset())
    notes = bare.feature("notes")
    assert not notes.available and notes.reason == "your Consonance does not accept the `createWorkNote` mutation"
    assert bare.pagination == "none" and bare.unknown_facts() >= {"Imprint", "Stage", "Contracts"}
    other = CapabilityProfile(profile.present - {"Mutation.createWorkNote"} | {"Mutation.addWorkNote"})
    assert other.supports("notes") is False  # addWorkNote alone lacks its externalRef
    other = CapabilityProfile(other.present | {"AddWorkNoteInput.externalRef"})
    assert other.supports("notes") and other.operation("AddWorkNote") == "AddWorkNoteAsContent"
    changes = other.changes_from(bare)
    assert "Decisions sent to Consonance as notes: now available" in changes


def test_a_server_that_changed_since_the_check_is_checked_again_once():
    """A profile found on a richer server, then the server loses fields: one refusal, one check, then only
    valid documents."""
    with running_sandbox(SEED=7, SIZE=20, PROFILE="cursor") as server:
        stale = ConsonanceGateway(ConsonanceConnection(server.url, server.api_key))
        stale.discover()
        stale._checked_at -= 3600  # checked an hour ago
        server.control.set_profile("documented-only")  # the server was upgraded (or downgraded) since
        assert stale.title("3").unknown
        assert stale.profile.pagination == "none"
        assert sum(1 for _ in stale.iter_fingerprints()) == 20
        refused = [r["operationName"] for r in server.control.requests() if r["refused"]]
        assert refused == ["TitleByWorkId"]


class OtherGraphQLServer:
    """Some other GraphQL API (not Consonance), answering as graphql-core does."""

    def __init__(self, sdl: str, introspection: bool):
        from graphql import build_schema

        self.schema, self.introspection = build_schema(sdl), introspection

    def execute(self, document, variables=None, operation_name=None):
        from graphql import graphql_sync

        from addon.consonance.errors import ConsonanceQueryError

        if not self.introspection and "__schema" in document:
            raise ConsonanceQueryError("introspection is disabled", errors=[{"message": "introspection is disabled"}])
        result = graphql_sync(self.schema, document, variable_values=variables)
        if result.errors:
            raise ConsonanceQueryError("refused", errors=[e.formatted for e in result.errors])
        return result.data


@pytest.mark.parametrize("introspection", [True, False])
def test_a_graphql_api_that_is_not_consonance_is_named_so(introspection):
    from addon.consonance.errors import ConsonanceQueryError

    other = OtherGraphQLServer("type Query { hello: String }\ntype Mutation { bye: String }", introspection)
    with pytest.raises(ConsonanceQueryError, match="is not a Consonance API \\(it has no work, works, product\\)"):
        capabilities.discover(other, "https://elsewhere.example")
