"""Tenants and shared secrets cached per process (addon/platform/tenant_cache.py): a re-install with a
new secret and an uninstall are honoured at once where they happened and, in another process (a second
app on the same database and Redis), within INVALIDATION_BOUND_SECONDS."""

from __future__ import annotations

import time

import jwt
import pytest

from addon.platform import tenant_cache
from addon.platform.qsh import query_string_hash
from tests.fixtures.processes import eventually
from tests.platform.signing import connect_claims, install_payload, sign_rs256

QUERY = "pageId=1&title="
PATH = "/connect/macro/title-status"


def _install(client, install_key, secret, client_key="client-key-A", event="installed"):
    now = int(time.time())
    token = sign_rs256(
        {
            "iss": client_key,
            "aud": "https://addon.example.test",
            "iat": now,
            "exp": now + 180,
            "qsh": query_string_hash("POST", f"/connect/{event}"),
        },
        install_key,
        "install-1",
    )
    payload = install_payload(client_key, shared_secret=secret)
    response = client.post(f"/connect/{event}", json=payload, headers={"Authorization": f"JWT {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)


def _view(client, secret, client_key="client-key-A") -> int:
    token = jwt.encode(connect_claims(client_key, "GET", PATH, QUERY, qsh="context-qsh"), secret, algorithm="HS256")
    return client.get(f"{PATH}?{QUERY}&jwt={token}").status_code


OLD, NEW = "o" * 40, "n" * 40


def test_reinstall_with_new_secret_is_honoured_at_once_in_the_same_process(client, install_key):
    _install(client, install_key, OLD)
    assert _view(client, OLD) == 200  # cached now
    _install(client, install_key, NEW)
    assert _view(client, OLD) == 401
    assert _view(client, NEW) == 200


def test_uninstall_refuses_at_once_in_the_same_process(client, install_key):
    _install(client, install_key, OLD)
    assert _view(client, OLD) == 200
    _install(client, install_key, OLD, event="uninstalled")
    assert _view(client, OLD) == 401


@pytest.mark.parametrize("listening", [True, False], ids=["pubsub", "generation-read-per-request"])
def test_other_process_honours_reinstall_and_uninstall_within_the_bound(two_processes, install_key, listening):
    first, second = two_processes
    a, b = first.test_client(), second.test_client()
    _install(a, install_key, OLD)
    assert _view(a, OLD) == 200 and _view(b, OLD) == 200  # both processes hold the secret now
    if listening:
        bus_a = first.extensions["addon.platform.invalidation"]
        eventually(lambda: bus_a.healthy)
    else:
        with first.app_context():
            cache = tenant_cache.current()
        cache.bus = None  # as when its subscription is down
    _install(b, install_key, NEW)  # re-installed through the other process
    eventually(lambda: _view(a, OLD) == 401 and _view(a, NEW) == 200)
    _install(b, install_key, NEW, event="uninstalled")
    eventually(lambda: _view(a, NEW) == 401)


def test_a_process_whose_redis_is_unreadable_trusts_nothing_cached(client, install_key):
    _install(client, install_key, OLD)
    assert _view(client, OLD) == 200
    with client.application.app_context():
        cache = tenant_cache.current()

    class Broken:
        def mget(self, keys):
            raise ConnectionError("redis down")

    cache.redis, cache.bus = Broken(), None
    assert cache.generation(1) is None
    assert cache.get("connect", 1, None, str) is None
    assert _view(client, OLD) == 200  # read from the database instead


def test_entries_expire_after_the_ttl_even_without_any_change():
    clock = [0.0]
    cache = tenant_cache.TenantCache(clock=lambda: clock[0], ttl_seconds=60)
    with_generation = ("g", "e")
    cache.put("connect", 7, with_generation, "secret")
    assert cache.get("connect", 7, with_generation, str) == "secret"
    assert cache.get("connect", 7, ("other", "e"), str) is None
    clock[0] = 61
    assert cache.get("connect", 7, with_generation, str) is None
