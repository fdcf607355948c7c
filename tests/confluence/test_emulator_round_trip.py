"""The client against the Confluence emulator over real HTTP: pages, children across cursor pages,
a version conflict resolved by re-read, properties, labels, and an owned-region rewrite; every
exchange checked against Atlassian's OpenAPI documents."""

from __future__ import annotations

import pytest
import requests

from addon.confluence import storage as s
from addon.confluence.auth import ForgeAuth
from addon.confluence.client import ConfluenceClient
from addon.confluence.owned_regions import read_region, region_storage, replace_region
from sandbox.confluence import testing
from tests.confluence.openapi_check import validate_request, validate_response


@pytest.fixture
def recorded_client():
    exchanges = []
    with testing.running_emulator() as emu:
        installation = emu.install_forge("http://127.0.0.1:9")  # no app listening: lifecycle delivery just fails
        session = requests.Session()
        session.hooks["response"].append(lambda response, *a, **k: exchanges.append(response))
        client = ConfluenceClient(
            ForgeAuth(installation["apiBaseUrl"], emu.store.forge.system_token), session, max_total_wait=2
        )
        yield client, exchanges
    for response in exchanges:
        validate_request(response.request)
        if response.status_code < 400 and response.content:
            validate_response(response.request, response)


def test_round_trip_against_the_emulator(recorded_client):
    client, exchanges = recorded_client
    space = client.get_space_by_key("RTS") or client.create_space("RTS", "Round trip")
    people = s.document(s.heading(1, "Notes \u05e9\u05dc\u05d5\u05dd"), s.paragraph("written by people & kept"))
    home = client.create_page(
        space.id, "Round-trip home", people + region_storage("summary", s.paragraph("v1")), parent_id=space.homepage_id
    )
    for n in range(5):
        client.create_page(space.id, f"Child {n}", s.document(s.paragraph(str(n))), parent_id=home.id)
    assert [p.title for p in client.iter_children(home.id, limit=2)] == [f"Child {n}" for n in range(5)]
    assert sum("cursor=" in r.request.url for r in exchanges) >= 2  # really paged

    other = ConfluenceClient(client.auth)
    calls = []

    def rewrite(page):
        calls.append(page.version)
        if len(calls) == 1:  # someone else saves between our read and our write
            other.update_page(page, page.body + s.document(s.paragraph("late edit")))
        return replace_region(page.body, "summary", s.paragraph("v2"))

    updated = client.update_page_with_retry(home.id, rewrite)
    assert calls == [1, 2] and updated.version == 3
    assert any(r.status_code == 409 for r in exchanges)
    stored = client.get_page(home.id).body
    assert read_region(stored, "summary") == "<p>v2</p>"
    assert stored.startswith(people) and "late edit" in stored
    assert client.update_page_with_retry(home.id, lambda p: replace_region(p.body, "summary", "<p>v2</p>")).version == 3

    assert client.set_page_property(home.id, "consonance.title", {"workId": "W1"}).value == {"workId": "W1"}
    assert client.set_page_property(home.id, "consonance.title", {"workId": "W2"}).version == 2
    client.add_labels(home.id, ["title-home"])
    assert [label.name for label in client.get_labels(home.id)] == ["title-home"]


def test_a_429_storm_is_ridden_out_within_the_bound(recorded_client):
    """Confluence throttles two reads in a row: the client waits `Retry-After` and gets the page."""
    client, exchanges = recorded_client
    space = client.get_space_by_key("RTS") or client.create_space("RTS", "Round trip")
    page = client.create_page(
        space.id, "Throttled page", s.document(s.paragraph("steady")), parent_id=space.homepage_id
    )
    waits = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *a, **k: exchanges.append(response))
    client = ConfluenceClient(client.auth, session, sleep=waits.append)  # record the waits instead of sleeping
    emulator_url = client.auth.site_url
    requests.post(
        f"{emulator_url}/_emulator/faults",
        json={"method": "GET", "path": f"/pages/{page.id}$", "status": 429, "count": 2, "retry_after": 1},
        timeout=5,
    ).raise_for_status()
    assert client.get_page(page.id).body == s.document(s.paragraph("steady"))
    assert [r.status_code for r in exchanges[-3:]] == [429, 429, 200]
    assert waits == [1, 1]
