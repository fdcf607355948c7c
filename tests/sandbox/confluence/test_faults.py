"""Fault injection (429 with rate-limit headers, 5xx, latency), the 5 MB limit and the request log."""

from __future__ import annotations

import time

import requests


def test_429_for_the_next_n_matching_requests_then_normal(api, emulator, space):
    requests.post(
        f"{emulator.url}/_emulator/faults",
        json={"path": r"^/wiki/api/v2/spaces", "method": "GET", "status": 429, "count": 2, "retry_after": 3},
    )
    first = api.get(f"{emulator.url}/wiki/api/v2/spaces")
    second = api.get(f"{emulator.url}/wiki/api/v2/spaces")
    third = api.get(f"{emulator.url}/wiki/api/v2/spaces")
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["Retry-After"] == "3"
    assert first.headers["X-RateLimit-NearLimit"] == "true"
    assert first.headers["X-RateLimit-Reset"].endswith("Z")
    # other routes are untouched
    assert api.get(f"{emulator.url}/wiki/api/v2/spaces/{space['id']}").status_code == 200


def test_5xx_and_latency_faults(api, emulator, space):
    emulator.emulator.faults.add(path=r"/pages$", method="POST", status=503, count=1)
    emulator.emulator.faults.add(path=r"/spaces/", latency_ms=150, count=1)
    payload = {
        "spaceId": space["id"],
        "status": "current",
        "title": "T",
        "body": {"representation": "storage", "value": ""},
    }
    assert api.post(f"{emulator.url}/wiki/api/v2/pages", json=payload).status_code == 503
    assert api.post(f"{emulator.url}/wiki/api/v2/pages", json=payload).status_code == 200
    started = time.monotonic()
    assert api.get(f"{emulator.url}/wiki/api/v2/spaces/{space['id']}").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_bodies_over_5_mb_are_refused_with_413(api, emulator, space):
    big = "x" * (5 * 1024 * 1024 + 1)
    payload = {
        "spaceId": space["id"],
        "status": "current",
        "title": "Big",
        "body": {"representation": "storage", "value": big},
    }
    response = requests.post(f"{emulator.url}/wiki/api/v2/pages", json=payload, headers=api.headers)
    assert response.status_code == 413


def test_request_log_records_method_path_and_status(api, emulator):
    requests.delete(f"{emulator.url}/_emulator/requests")
    api.get(f"{emulator.url}/wiki/api/v2/spaces", params={"keys": "TST"})
    log = requests.get(f"{emulator.url}/_emulator/requests").json()
    assert [(e["method"], e["path"], e["query"], e["status"], e["auth"]) for e in log] == [
        ("GET", "/wiki/api/v2/spaces", "keys=TST", 200, "Bearer")
    ]
