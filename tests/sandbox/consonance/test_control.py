"""Each `/_sandbox/` control endpoint over real HTTP, and that GraphQL reads see what it changed."""

from __future__ import annotations

import requests


def test_state_summarises_the_catalogue(fresh_sandbox):
    state = fresh_sandbox.control.state()
    assert state["seed"] == 11 and state["works"] == 40 and state["anchor"] == "2026-11-01"
    assert sum(state["stages"].values()) == 40 and 0 <= state["invalidShare"] < 1


def test_move_to_stage(fresh_sandbox, gql):
    assert fresh_sandbox.control.move_to_stage(7, "Copy-editing")["projectStage"] == "Copy-editing"
    assert gql.data("{ work(workSearch: {idEq: 7}) { projectStage } }")["work"]["projectStage"] == "Copy-editing"
    response = requests.post(f"{fresh_sandbox.url}/_sandbox/works/7/stage", json={"stage": "Nowhere"}, timeout=5)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "projectStage"
    assert (
        requests.post(f"{fresh_sandbox.url}/_sandbox/works/9999/stage", json={"stage": "Proofs"}, timeout=5).status_code
        == 404
    )


def test_acquire_a_title(fresh_sandbox, gql):
    acquired = fresh_sandbox.control.acquire_title("The Salt Road", "Northlight")
    assert acquired["id"] == 41 and acquired["projectStage"] == "Acquisition"
    work = gql.data(
        '{ works(workSearch: {projectStageNameEq: "Acquisition", titleCont: "Salt Road"}) '
        "{ id imprint products { isbn { isbn13 } plannedPublicationDate } } }"
    )["works"]
    assert work[0]["id"] == "41" and work[0]["imprint"] == "Northlight"
    assert all(p["isbn"] is None and p["plannedPublicationDate"] for p in work[0]["products"])
    assert gql.data("{ worksCount }")["worksCount"] == 41


def test_slip_publication_and_delivery_dates(fresh_sandbox, gql):
    query = "{ work(workSearch: {idEq: 2}) { products { publicationDate } contracts { deliveryDates { id dateDue slippedDate } } } }"
    before = gql.data(query)["work"]
    fresh_sandbox.control.slip_publication(2, 45)
    delivery_id = int(before["contracts"][0]["deliveryDates"][0]["id"])
    slipped = fresh_sandbox.control.slip_delivery(delivery_id, 20)
    after = gql.data(query)["work"]
    from datetime import date, timedelta

    for old, new in zip(before["products"], after["products"], strict=True):
        assert date.fromisoformat(new["publicationDate"]) - date.fromisoformat(old["publicationDate"]) == timedelta(
            days=45
        )
    delivery = after["contracts"][0]["deliveryDates"][0]
    old = before["contracts"][0]["deliveryDates"][0]
    base = date.fromisoformat(old["slippedDate"] or old["dateDue"])
    assert delivery["dateDue"] == old["dateDue"] and delivery["slippedDate"] == (base + timedelta(days=20)).isoformat()
    assert slipped["slippedDate"] == delivery["slippedDate"]


def test_complete_a_task(fresh_sandbox, gql):
    task = next(t for t in fresh_sandbox.state.tasks.values() if t.status == "OPEN")
    assert fresh_sandbox.control.complete_task(task.id)["status"] == "COMPLETE"
    tasks = gql.data("query($id: ID) { work(workSearch: {idEq: $id}) { tasks { id status } } }", {"id": task.work.id})[
        "work"
    ]["tasks"]
    assert {"id": str(task.id), "status": "COMPLETE"} in tasks


def test_reset_reseeds(fresh_sandbox, gql):
    gql.data(
        'mutation { changeWorkProjectStage(input: {workId: 1, projectStage: "Acquisition"}) { errors { field } } }'
    )
    fresh_sandbox.control.add_fault(rateLimitCount=5)
    assert fresh_sandbox.control.reset(seed=3, size=25) == {"seed": 3, "size": 25, "works": 25}
    assert fresh_sandbox.state.seed == 3 and fresh_sandbox.control.faults() == []
    assert gql.data("{ worksCount }")["worksCount"] == 25
    assert requests.post(f"{fresh_sandbox.url}/_sandbox/reset", json={"size": 5}, timeout=5).status_code == 400


def test_request_log_and_counters(fresh_sandbox, gql):
    fresh_sandbox.control.clear_requests()
    gql.data("query WorkStage($id: ID) { work(workSearch: {idEq: $id}) { projectStage } }", {"id": 3})
    gql.data("query WorkStage($id: ID) { work(workSearch: {idEq: $id}) { projectStage } }", {"id": 4})
    gql.data("{ worksCount }")
    requests.post(fresh_sandbox.graphql_url, json={"query": "{ worksCount }"}, timeout=5)  # no key
    log = fresh_sandbox.control.requests()
    assert [(e["operationName"], e["variables"], e["status"]) for e in log] == [
        ("WorkStage", {"id": 3}, 200),
        ("WorkStage", {"id": 4}, 200),
        (None, {}, 200),
        (None, None, 401),
    ]
    assert fresh_sandbox.control.requests(limit=1)[0]["status"] == 401
    counters = fresh_sandbox.control.counters()
    assert counters["byOperation"] == {"WorkStage": 2}
    assert counters["byRoute"] == {"/graphql": 4} and counters["byStatus"] == {"200": 3, "401": 1}
