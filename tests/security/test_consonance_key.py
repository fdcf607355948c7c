"""The saved Consonance key goes to the address it was saved with and nowhere else (issue #13, hole 2).

Each attack is a real request through the app (Forge admin calls, as the admin page sends them) with a
real listener on loopback standing in for the attacker's service: it records every request, so each test
asserts both the refusal and that the key never arrived.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.wrappers import Request, Response

from addon.gateways import NotConfigured, gateways
from addon.platform import tenants
from addon.settings.service import get_settings, update_settings
from tests.servers import serving

CONSONANCE_CATALOGUE = {"SIZE": 20}  # the admin tests' catalogue

SAVED_KEY_HOST_FIELD = "consonance_api_key"


class Listener:
    """A service on loopback that records what reached it and answers as told."""

    def __init__(self):
        self.seen: list[dict] = []
        self.answer = lambda request: Response("SECRET-BANNER redis_version:7.2 -ERR unknown command", status=404)
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.seen.append({"path": request.path, "authorization": request.headers.get("Authorization")})
        return self.answer(request)(environ, start_response)

    def keys_seen(self) -> list[str]:
        return [s["authorization"] for s in self.seen if s["authorization"]]


@pytest.fixture(scope="module")
def listeners():
    first, second = Listener(), Listener()
    with serving(first) as url_one, serving(second) as url_two:
        yield (first, url_one), (second, url_two)


@pytest.fixture
def listener(listeners):
    for item, _ in listeners:
        item.seen.clear()
        item.answer = Listener().answer
    return listeners[0]


@pytest.fixture
def app_config(app_config, consonance_server, listeners):
    """Only the Consonance sandbox and the first listener are allowed over http on loopback."""
    hosts = [urlsplit(consonance_server.url).netloc, urlsplit(listeners[0][1]).netloc]
    app_config["CONSONANCE_ALLOWED_HOSTS"] = ",".join(hosts)
    return app_config


@pytest.fixture
def connected(client, forge, admin_tenant, consonance):
    """The tenant connected to the sandbox through the admin page, as an admin does it."""
    form = {"consonance_host": consonance.url, "consonance_api_key": consonance.api_key}
    response = client.post("/forge/admin/settings", json={"form": form}, headers=forge())
    assert response.status_code == 200, response.get_json()
    return admin_tenant


def try_host(client, forge, **form):
    return client.post("/forge/admin/test-connection", json={"form": form}, headers=forge())


def test_test_connection_to_a_new_host_needs_the_key_typed_again(client, forge, connected, listener):
    listener_state, url = listener
    response = try_host(client, forge, consonance_host=url)
    assert response.status_code == 422
    assert (
        "saved key is only ever sent to the address it was saved with"
        in response.get_json()["errors"][SAVED_KEY_HOST_FIELD]
    )
    assert listener_state.seen == []


def test_saving_a_new_host_without_the_key_keeps_everything_as_it_was(client, forge, connected, consonance, listener):
    listener_state, url = listener
    response = client.post("/forge/admin/settings", json={"form": {"consonance_host": url}}, headers=forge())
    assert response.status_code == 422
    assert "Paste the API key again" in response.get_json()["errors"][SAVED_KEY_HOST_FIELD]
    assert get_settings(connected).consonance_host == consonance.url
    assert tenants.get_secret(connected, tenants.CONSONANCE_API_KEY) == consonance.api_key
    assert listener_state.seen == []


def test_the_saved_host_still_tests_with_the_saved_key(client, forge, connected, consonance):
    body = try_host(client, forge, consonance_host=consonance.url).get_json()
    assert body["ok"] is True and body["keySource"] == "saved"


def test_a_host_changed_behind_the_forms_back_gets_no_key(connected, listener):
    """Whatever path changes the saved host, the key stays with the address it was saved for."""
    listener_state, url = listener
    update_settings(connected, {"consonance_host": url}, actor="somebody")
    with pytest.raises(NotConfigured):
        gateways().consonance(connected)
    assert listener_state.seen == []


def test_the_key_is_bound_to_the_address_as_saved(client, forge, connected, consonance):
    """The same address written with a trailing slash is the same address: no key needed, and it works."""
    form = {"consonance_host": consonance.url + "/"}
    assert client.post("/forge/admin/settings", json={"form": form}, headers=forge()).status_code == 200
    assert tenants.consonance_key_host(connected) == consonance.url
    assert gateways().consonance(connected).title("3") is not None


@pytest.mark.parametrize(
    "host",
    [
        "http://127.0.0.1:6379",  # loopback, not allowed (Redis's port)
        "https://127.0.0.1:6379",
        "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "https://10.0.0.8",
        "https://[::1]:6379",
        "https://[::ffff:127.0.0.1]:6379",  # IPv4-mapped IPv6
        "https://[fe80::1]",
        "https://2130706433",  # 127.0.0.1 in decimal
        "https://0x7f000001",  # in hex
        "https://0177.0.0.1",  # in octal
        "https://127.1",  # short form
        "https://localhost:6379",
        "https://user@127.0.0.1:6379",  # userinfo trick
        "https://web.consonance.app@127.0.0.1:6379",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "127.0.0.1:6379",  # no scheme
        "//127.0.0.1:6379",
    ],
)
def test_addresses_the_key_may_not_go_to_are_refused_before_anything_is_sent(client, forge, connected, host):
    response = try_host(client, forge, consonance_host=host, consonance_api_key="typed-key-1234")
    assert response.status_code == 422
    body = response.get_json()
    assert body["ok"] is False and body["errors"]["consonance_host"]
    saved = client.post(
        "/forge/admin/settings",
        json={"form": {"consonance_host": host, "consonance_api_key": "typed-key-1234"}},
        headers=forge(),
    )
    assert saved.status_code == 422 and saved.get_json()["errors"]["consonance_host"]
    assert tenants.get_secret(connected, tenants.CONSONANCE_API_KEY) != "typed-key-1234"


def test_plain_http_to_a_host_not_allowed_is_refused_and_nothing_is_sent(client, forge, connected, listeners):
    (_, _), (second, url) = listeners  # the second listener is not in the allow-list
    second.seen.clear()
    response = try_host(client, forge, consonance_host=url, consonance_api_key="typed-key-1234")
    assert response.status_code == 422
    assert "https://" in response.get_json()["errors"]["consonance_host"]
    assert second.seen == []


def test_a_service_that_is_not_consonance_is_named_so_and_never_quoted(client, forge, connected, listener):
    listener_state, url = listener
    response = try_host(client, forge, consonance_host=url, consonance_api_key="typed-key-1234")
    body = response.get_json()
    assert body["ok"] is False
    assert "is not a Consonance API" in body["headline"]
    assert "SECRET-BANNER" not in response.get_data(as_text=True)
    assert "redis_version" not in response.get_data(as_text=True)
    assert [c["detail"] for c in body["checks"] if not c["ok"]][0] == "Not a Consonance API."


def test_a_graphql_error_from_a_strange_host_is_not_quoted(client, forge, connected, listener):
    listener_state, url = listener
    listener_state.answer = lambda request: Response(
        '{"errors": [{"message": "<img src=x onerror=alert(1)> internal: db=10.0.0.5"}]}',
        status=200,
        content_type="application/json",
    )
    response = try_host(client, forge, consonance_host=url, consonance_api_key="typed-key-1234")
    assert "10.0.0.5" not in response.get_data(as_text=True) and "onerror" not in response.get_data(as_text=True)
    assert "is not a Consonance API" in response.get_json()["headline"]


def test_a_refused_key_is_named_so(client, forge, connected, listener):
    listener_state, url = listener
    listener_state.answer = lambda request: Response("go away, admin@internal", status=401)
    body = try_host(client, forge, consonance_host=url, consonance_api_key="typed-key-1234").get_json()
    assert body["headline"].startswith("Consonance refused this API key")
    assert "admin@internal" not in str(body)


def test_a_redirect_is_not_followed_with_the_key(client, forge, connected, listeners):
    (first, url_one), (second, url_two) = listeners
    first.seen.clear()
    second.seen.clear()
    first.answer = lambda request: Response("", status=307, headers={"Location": f"{url_two}/graphql"})
    body = try_host(client, forge, consonance_host=url_one, consonance_api_key="typed-key-1234").get_json()
    assert body["ok"] is False and "is not a Consonance API" in body["headline"]
    assert second.seen == []  # the redirect's target got nothing, key or otherwise


def test_a_name_that_does_not_resolve_says_so(client, forge, connected):
    body = try_host(
        client, forge, consonance_host="https://no-such-host.invalid", consonance_api_key="typed-key-1234"
    ).get_json()
    assert body["ok"] is False and "No computer answers to the name no-such-host.invalid" in body["headline"]
