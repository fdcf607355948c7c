"""Fault injection over real HTTP: latency, 5xx (counted and by rate), 429 with Retry-After, hangs, and matching."""

from __future__ import annotations

import concurrent.futures
import time

import pytest
import requests

QUERY = "query Stages { projectStages { name } }"


def test_added_latency(fresh_sandbox, gql):
    fresh_sandbox.control.add_fault(latencyMs=300)
    started = time.monotonic()
    assert gql.post(QUERY).status_code == 200
    assert time.monotonic() - started >= 0.3
    fresh_sandbox.control.clear_faults()
    started = time.monotonic()
    gql.post(QUERY)
    assert time.monotonic() - started < 0.3


def test_next_n_requests_fail_with_5xx(fresh_sandbox, gql):
    fresh_sandbox.control.add_fault(errorCount=2, errorStatus=502)
    statuses = [gql.post(QUERY).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert fresh_sandbox.control.faults() == []


def test_error_rate_is_seeded(fresh_sandbox, gql):
    def run():
        fresh_sandbox.control.clear_faults()
        fresh_sandbox.control.add_fault(errorRate=0.5, seed=4)
        return [gql.post(QUERY).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert 3 <= first.count(503) <= 17 and set(first) == {200, 503}


def test_rate_limit_answers_429_with_retry_after_then_recovers(fresh_sandbox, gql):
    fresh_sandbox.control.add_fault(rateLimitCount=3, retryAfter=2)
    responses = [gql.post(QUERY) for _ in range(4)]
    assert [r.status_code for r in responses] == [429, 429, 429, 200]
    assert all(r.headers["Retry-After"] == "2" for r in responses[:3])
    assert responses[0].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_counted_faults_are_shared_exactly_between_concurrent_requests(fresh_sandbox, gql):
    fresh_sandbox.control.add_fault(rateLimitCount=5)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    requests.post(
                        fresh_sandbox.graphql_url,
                        json={"query": QUERY},
                        headers={"Authorization": f"Bearer {fresh_sandbox.api_key}"},
                        timeout=10,
                    ).status_code
                ),
                range(16),
            )
        )
    assert statuses.count(429) == 5 and statuses.count(200) == 11


def test_hang_outlasts_the_client_timeout(fresh_sandbox, gql):
    fresh_sandbox.control.add_fault(hangCount=1, hangSeconds=5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        gql.post(QUERY, timeout=0.4)
    assert time.monotonic() - started < 2
    fresh_sandbox.control.clear_faults()  # releases the hanging worker
    assert gql.post(QUERY).status_code == 200


def test_faults_match_by_operation_and_route(fresh_sandbox, gql):
    fresh_sandbox.control.add_fault(operation="Stages", errorCount=1)
    fresh_sandbox.control.add_fault(route="/elsewhere", errorCount=1)
    assert gql.post("query Other { worksCount }").status_code == 200
    assert gql.post(QUERY).status_code == 503
    assert gql.post(QUERY).status_code == 200
    assert [f["route"] for f in fresh_sandbox.control.faults()] == ["/elsewhere"]
    fresh_sandbox.control.add_fault(route="/graphql", rateLimitCount=1)
    assert gql.post("query Other { worksCount }").status_code == 429


def test_bad_fault_specs_are_rejected(fresh_sandbox):
    for spec in ({"errorRate": 2}, {"errorStatus": 404}, {"sometimes": True}):
        assert requests.post(f"{fresh_sandbox.url}/_sandbox/faults", json=spec, timeout=5).status_code == 400
