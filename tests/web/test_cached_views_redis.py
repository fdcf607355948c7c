"""With Redis, as in production, a repeat view of a title costs no Redis round trip on either transport:
the tenant's generation, the cached title and our own-write marks are all answered from the process's
copies while its invalidation-bus subscription is up. Counted by Redis itself (MONITOR), not by the app."""

from __future__ import annotations

import jwt
import pytest
import redis
from prometheus_client import REGISTRY

from addon import gateways
from addon.platform import invalidation, tenants
from tests.fixtures.macros import connect_tenant_to
from tests.fixtures.processes import eventually, heard_all_sent_before, redis_commands_during
from tests.platform.signing import connect_claims

CONNECT_PATH = "/connect/macro/title-status"
QUERY = "pageId=42&pageVersion=3&spaceKey=PUB&macroId=m-1&outputType=display&title=5"


@pytest.fixture
def app_config(app_config, redis_url):
    app_config["REDIS_URL"] = redis_url
    return app_config


def lane_served() -> float:
    return REGISTRY.get_sample_value("c4c_macro_lane_requests_total", {"outcome": "served"}) or 0.0


def _warm_then_count(app, redis_url, view) -> list[str]:
    """The Redis commands of one view once the title is cached and the bus is up (the first views read
    what the process does not hold yet: the title, the marks), checking that the lane answered it."""
    assert view().status_code == 200  # the route: reads Consonance, fills the shared cache
    eventually(lambda: invalidation.bus(app) is not None and invalidation.bus(app).healthy)
    heard_all_sent_before(app)  # the first view's own write announcement, which drops this process's copy
    for _ in range(2):
        assert view().status_code == 200
    served = lane_served()
    answers = []
    commands = redis_commands_during(redis_url, lambda: answers.append(view()))
    assert answers[0].status_code == 200 and "c4c-panel--title-status" in answers[0].get_data(as_text=True)
    assert lane_served() == served + 1
    return commands


def test_a_cached_forge_view_makes_no_redis_command(app, client, fit, forge_tenant, redis_url):
    headers = fit(config={"title": "5"})
    commands = _warm_then_count(
        app, redis_url, lambda: client.post("/forge/macro/title-status", json={}, headers=headers)
    )
    assert commands == []


def test_a_cached_connect_view_makes_no_redis_command(app, client, connect_install, consonance, redis_url):
    site = connect_install()
    connect_tenant_to(tenants.find_tenant(tenants.CONNECT, site["clientKey"]), consonance)
    claims = connect_claims(site["clientKey"], "GET", CONNECT_PATH, "", qsh="context-qsh")
    token = jwt.encode(claims, site["sharedSecret"], algorithm="HS256")
    commands = _warm_then_count(app, redis_url, lambda: client.get(f"{CONNECT_PATH}?{QUERY}&jwt={token}"))
    assert commands == []


def test_the_count_sees_what_a_view_does_send(app, client, fit, forge_tenant, redis_url):
    """The counter is not blind: a Refresh (which asks the shared cache's rate limit) is seen."""
    headers = fit(config={"title": "5"})
    assert client.post("/forge/macro/title-status", json={}, headers=headers).status_code == 200
    commands = redis_commands_during(
        redis_url, lambda: client.post("/forge/macro/title-status", json={"refresh": True}, headers=headers)
    )
    assert any(command.startswith("SET c4c:macro:rate:") for command in commands), commands


def test_a_first_view_writes_without_waking_anyone_and_a_refresh_announces_from_its_write(
    app, client, fit, forge_tenant, redis_url
):
    """A first view writes the title for every process from one script: no separate PUBLISH, no SCRIPT EXISTS
    check, and no message either (no process can hold a copy of a title Redis never had). A Refresh replaces
    the entry, and its write's own script tells the other processes."""
    warm = fit(config={"title": "5"})
    assert client.post("/forge/macro/title-status", json={}, headers=warm).status_code == 200
    eventually(lambda: invalidation.bus(app) is not None and invalidation.bus(app).healthy)
    listener = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(invalidation.CHANNEL)
    eventually(lambda: listener.get_message(timeout=0.05) is None and listener.subscribed)
    headers = fit(config={"title": "6"})
    answers = []
    commands = redis_commands_during(
        redis_url, lambda: answers.append(client.post("/forge/macro/title-status", json={}, headers=headers))
    )
    assert answers[0].status_code == 200 and "c4c-panel--title-status" in answers[0].get_data(as_text=True)
    sent = [command for command in commands if not command.startswith("lua: ")]
    assert not any(command.startswith(("PUBLISH", "SCRIPT")) for command in sent), sent
    assert any(command.startswith("lua: set c4c:macro:") and "title:work:6" in command for command in commands)
    assert not any(command.startswith("lua: publish") for command in commands), commands

    refreshed = redis_commands_during(
        redis_url,
        lambda: answers.append(client.post("/forge/macro/title-status", json={"refresh": True}, headers=headers)),
    )
    assert answers[1].status_code == 200
    assert not any(command.startswith("PUBLISH c4c:invalidate macro:") for command in refreshed), refreshed
    assert any(
        command.startswith("lua: publish c4c:invalidate macro:") and "title:work:6" in command for command in refreshed
    ), refreshed
    heard = []
    eventually(
        lambda: (
            heard.append(listener.get_message(timeout=0.1))
            or any(message and message["data"].decode().endswith("title:work:6") for message in heard)
        )
    )
    listener.close()


def test_a_first_view_goes_to_redis_twice_and_leaves_no_place_taken(
    app, client, fit, forge_tenant, redis_url, monkeypatch
):
    """Look up (with the Consonance request's place in the budget and the title's own-write marks), then,
    once the server has the answer, write (with the place given back): two round trips, counted as the
    app's connections send them."""
    warm = fit(config={"title": "5"})
    assert client.post("/forge/macro/title-status", json={}, headers=warm).status_code == 200
    eventually(lambda: invalidation.bus(app) is not None and invalidation.bus(app).healthy)
    trips: list[str] = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(connection, command, check_health=True):
        first = command if isinstance(command, bytes) else b"".join(command[:2])
        trips.append(first.split(b"\r\n")[2].decode())  # *N, $len, then the first command's name
        return send(connection, command, check_health)

    headers = fit(config={"title": "6"})
    with app.app_context():
        budget = gateways.gateways().budget(forge_tenant)
        used_before = budget.usage().used_this_minute
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    answer = client.post("/forge/macro/title-status", json={}, headers=headers, buffered=False)
    assert answer.status_code == 200 and trips == ["EVAL"], trips  # the write waits until the answer is taken
    assert "c4c-panel--title-status" in answer.get_data(as_text=True)
    monkeypatch.undo()
    assert trips == ["EVAL", "EVAL"], trips
    with app.app_context():
        usage = budget.usage()
    assert (usage.in_flight, usage.used_this_minute) == (0, used_before + 1)
