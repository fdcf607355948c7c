"""No stale truth after our own write: an approved stage move shows as pending (and is not offered
again) on every process until Consonance holds it, then every process shows the new stage at once,
not after its freshness window. Two apps share PostgreSQL and Redis, as two web processes do: the
process that wrote shows it on its next view, the other within the invalidation bound (each keeps
the marks it has read, dropped when the bus says they changed)."""

from __future__ import annotations

import pytest
import redis

from addon import create_app
from addon.jobs import outbox
from addon.platform import invalidation, own_writes
from tests.fixtures.processes import eventually, redis_commands_during


@pytest.fixture
def fit(site_fit):
    """A panel's tokens on the decision site's page (decisions are made on a real page)."""
    return site_fit


KEY = "own-writes-0123456789abcdef0123"


@pytest.fixture
def app_config(app_config, redis_url):
    app_config["OUTBOX_DELIVER_ON_COMMIT"] = "0"  # the test delivers the write itself
    app_config["REDIS_URL"] = redis_url
    return app_config


def panel(client, fit, work):
    response = client.post("/forge/macro/title-status", json={}, headers=fit(config={"title": str(work)}))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_an_approved_stage_is_pending_everywhere_then_new_everywhere(
    app, app_config, client, fit, forge_tenant, consonance
):
    other = create_app(app_config).test_client()  # a second web process
    work = next(
        w for w in range(10, 31) if consonance.control.work(w)["projectStage"] not in ("Published", "Production")
    )
    stage = consonance.control.work(work)["projectStage"]
    for process in (client, other):  # both processes hold the title in their caches, and its marks
        before = panel(process, fit, work)["viewModel"]
        assert before["title"]["stage"]["name"] == stage and before["pendingStage"] is None
    eventually(lambda: invalidation.bus(app).healthy and invalidation.bus(other.application).healthy)
    for process in (client, other):
        assert panel(process, fit, work)["viewModel"]["pendingStage"] is None  # now held as copies
    answer = client.post(
        "/forge/actions/decision",
        json={
            "workId": str(work),
            "decisionType": "approve_stage",
            "text": "",
            "idempotencyKey": KEY,
            "macro": "title-status",
        },
        headers=fit(),
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    to_stage = answer.get_json()["toStage"]

    def shows_pending(process) -> bool:
        pending = panel(process, fit, work)
        model = pending["viewModel"]
        assert model["title"]["stage"]["name"] == stage  # Consonance has not got it yet
        if model["pendingStage"] is None:
            return False
        assert model["pendingStage"]["to"] == to_stage
        assert f"Moving to {to_stage}: waiting for Consonance to confirm" in pending["html"]
        assert "approve_stage" not in [c["value"] for c in model["decisionChoices"]]  # not offered twice
        return True

    assert shows_pending(client)  # the process that took the decision: on its very next view
    eventually(lambda: shows_pending(other))

    assert outbox.drain()["delivered"] >= 1
    assert consonance.control.work(work)["projectStage"] == to_stage

    def shows_new_stage(process) -> bool:
        model = panel(process, fit, work)["viewModel"]
        return model["title"]["stage"]["name"] == to_stage and model["pendingStage"] is None

    assert shows_new_stage(client)  # the outbox wrote from this process: at once
    eventually(lambda: shows_new_stage(other))  # well inside the freshness window, yet it reads the new stage


def test_a_move_that_fails_for_good_is_no_longer_pending(app, app_config, client, fit, forge_tenant, consonance):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1  # one refused attempt marks the write failed
    work = next(
        w for w in range(10, 31) if consonance.control.work(w)["projectStage"] not in ("Published", "Production")
    )
    consonance.control.add_fault(operation="AddWorkNote", rateLimitCount=50, retryAfter=120)
    answer = client.post(
        "/forge/actions/decision",
        json={
            "workId": str(work),
            "decisionType": "approve_stage",
            "text": "",
            "idempotencyKey": KEY[::-1],
            "macro": "title-status",
        },
        headers=fit(),
    )
    assert answer.status_code == 201
    assert panel(client, fit, work)["viewModel"]["pendingStage"] is not None
    outbox.drain()
    model = panel(client, fit, work)["viewModel"]
    assert model["pendingStage"] is None  # not "pending" for a day: the admin page shows the failure
    assert "approve_stage" in [c["value"] for c in model["decisionChoices"]]


def test_each_process_answers_marks_from_memory_only_while_its_subscription_is_up(two_processes, redis_url):
    writer, reader = two_processes
    with reader.app_context():
        assert own_writes.pending_stage_move(1, "9") is None  # read from Redis; the process starts listening
        eventually(lambda: invalidation.bus(reader).healthy)
        assert own_writes.pending_stage_move(1, "9") is None  # now kept: "no mark" is an answer too
        assert redis_commands_during(redis_url, lambda: own_writes.pending_stage_move(1, "9")) == []
    with writer.app_context():
        own_writes.stage_move_pending(1, "9", "Editorial", "Production")
        assert own_writes.pending_stage_move(1, "9") == {"from": "Editorial", "to": "Production"}
    with reader.app_context():
        eventually(lambda: own_writes.pending_stage_move(1, "9") == {"from": "Editorial", "to": "Production"})
        invalidation.bus(reader).healthy = False  # subscription lost: a message may be missed, so read Redis
        commands = redis_commands_during(redis_url, lambda: own_writes.pending_stage_move(1, "9"))
        assert "GET c4c:marks:t1:stage-pending:9" in commands


def _lookup_trip(client, rider) -> None:
    """The macro cache's lookup trip, as far as a rider sees it: its commands go in the same pipeline."""
    with client.pipeline(transaction=False) as pipe:
        pipe.get("c4c:macro:t1:title:work:11")
        count = rider.on_lookup(pipe, ("c4c:macro:lock:t1:title:work:11", "token"))
        answers = pipe.execute(raise_on_error=False)
    rider.looked_up(answers[1 : 1 + count])


def test_a_first_view_reads_its_marks_in_the_cache_lookup_trip(two_processes, redis_url):
    writer, reader = two_processes
    client = redis.Redis.from_url(redis_url)
    with writer.app_context():
        own_writes.stage_move_pending(1, "11", "Editorial", "Production")
    with reader.app_context():
        own_writes.pending_stage_move(1, "0")  # the process starts listening
        eventually(lambda: invalidation.bus(reader).healthy)
        rider = own_writes.read_ahead(1, "11")
        _lookup_trip(client, rider)
        asked = redis_commands_during(
            redis_url,
            lambda: (own_writes.superseded(1, "11", 0.0), own_writes.pending_stage_move(1, "11")),
        )
        assert asked == []  # both answered from what the trip read
        assert own_writes.superseded(1, "11", 0.0) is False
        assert own_writes.pending_stage_move(1, "11") == {"from": "Editorial", "to": "Production"}
    with writer.app_context():
        own_writes.title_changed(1, "11", written_by_us=True)
    with reader.app_context():
        eventually(lambda: own_writes.superseded(1, "11", 0.0))  # the copies went when the bus said so
        eventually(lambda: own_writes.pending_stage_move(1, "11") is None)  # (each mark has its own message)


def test_marks_that_change_while_the_trip_is_out_are_not_kept_from_it(two_processes, redis_url):
    _, reader = two_processes
    client = redis.Redis.from_url(redis_url)
    with reader.app_context():
        own_writes.pending_stage_move(1, "0")
        eventually(lambda: invalidation.bus(reader).healthy)
        rider = own_writes.read_ahead(1, "12")
        with client.pipeline(transaction=False) as pipe:
            count = rider.on_lookup(pipe, ("lock", "token"))
            answers = pipe.execute()  # read: no marks
            own_writes.title_changed(1, "12")  # ... and a change lands before the answers are taken in
            rider.looked_up(answers[:count])
        assert own_writes.superseded(1, "12", 0.0) is True  # not the "no mark" the trip brought back


def test_without_a_live_subscription_nothing_is_read_ahead(two_processes, redis_url):
    _, reader = two_processes
    with reader.app_context():
        own_writes.pending_stage_move(1, "0")
        eventually(lambda: invalidation.bus(reader).healthy)
        invalidation.bus(reader).healthy = False
        rider = own_writes.read_ahead(1, "13")
        with redis.Redis.from_url(redis_url).pipeline(transaction=False) as pipe:
            assert rider.on_lookup(pipe, ("lock", "token")) == 0  # copies could not be trusted: the view reads
