"""The address policy for the Consonance key: names are judged by every address they resolve to, numeric
tricks are refused, allowed hosts are exact, and a connection that lands somewhere private carries nothing."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Response

from addon.consonance import errors
from addon.consonance.errors import ConsonanceAuthError, ConsonanceQueryError, ConsonanceUnavailable
from addon.consonance.host_policy import (
    HostPolicy,
    HostRefused,
    is_public,
    parse_allowed_hosts,
)
from addon.consonance.transport import ConsonanceConnection, GraphQLTransport
from addon.consonance.wire import AddressRefused, KeptConnections
from tests.servers import serving


def resolver(table):
    return lambda host, port: table.get(host, [])


PUBLIC = HostPolicy(resolve=resolver({"web.consonance.app": ["52.1.2.3"], "dual.example": ["52.1.2.3", "10.1.1.1"]}))


def test_a_public_https_name_is_accepted_and_normalised():
    assert PUBLIC.check("https://WEB.consonance.app/") == "https://web.consonance.app"


def test_a_name_with_any_private_address_is_refused():
    with pytest.raises(HostRefused, match="private, loopback or link-local"):
        PUBLIC.check("https://dual.example")


def test_a_name_resolving_to_metadata_is_refused():
    policy = HostPolicy(resolve=resolver({"rebind.example": ["169.254.169.254"]}))
    with pytest.raises(HostRefused):
        policy.check("https://rebind.example")


def test_an_unknown_name_says_it_does_not_resolve():
    with pytest.raises(HostRefused) as refused:
        PUBLIC.check("https://nowhere.example")
    assert refused.value.unresolvable


@pytest.mark.parametrize(
    "address, public",
    [
        ("52.1.2.3", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:52.1.2.3", True),
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 around 169.254.169.254
        ("fe80::1%eth0", False),
        ("not-an-address", False),
    ],
)
def test_which_addresses_are_public(address, public):
    assert is_public(address) is public


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.0.0.1", "017700000001"])
def test_numeric_ipv4_tricks_are_refused_before_resolving(host):
    policy = HostPolicy(resolve=resolver({host: ["52.1.2.3"]}))  # even if a resolver called them public
    with pytest.raises(HostRefused, match="as a name"):
        policy.check(f"https://{host}")


@pytest.mark.parametrize(
    "url",
    [
        "http://web.consonance.app",
        "ftp://web.consonance.app",
        "file:///etc/passwd",
        "gopher://web.consonance.app",
        "web.consonance.app",
        "https://user:pass@web.consonance.app",
        "https://web.consonance.app@127.0.0.1",
        "https://web.consonance.app/?x=1",
        "https://web.consonance.app:99999",
        "https://web.consonance.app\\@127.0.0.1",
        "",
    ],
)
def test_addresses_of_the_wrong_shape_are_refused(url):
    with pytest.raises(HostRefused):
        PUBLIC.check(url)


def test_allowed_hosts_are_exact_about_the_port():
    policy = HostPolicy(parse_allowed_hosts("127.0.0.1:8100, consonance.internal, [::1]:9000"))
    assert policy.check("http://127.0.0.1:8100") == "http://127.0.0.1:8100"
    assert policy.check("http://consonance.internal:1234/") == "http://consonance.internal:1234"
    assert policy.check("http://[::1]:9000")
    with pytest.raises(HostRefused):
        policy.check("http://127.0.0.1:6379")
    with pytest.raises(HostRefused):
        policy.check("http://[::1]:9001")


def _post(connections: KeptConnections, path: str, authorization: str | None = None):
    headers = {"Authorization": authorization} if authorization else {}
    return connections.exchange(connections.head("POST", path, headers), b"{}", connect_timeout=3, read_timeout=3)


def test_a_connection_that_lands_on_a_private_address_sends_nothing():
    """A name checked as public that resolves to loopback when connecting (DNS rebinding) gets no request."""
    seen = []

    def listener(environ, start_response):
        seen.append(environ.get("HTTP_AUTHORIZATION"))
        return Response("{}", content_type="application/json")(environ, start_response)

    with serving(listener) as url:
        with pytest.raises(AddressRefused, match="not a public address"):
            _post(KeptConnections.from_environment(url, HostPolicy()), "/graphql", "Bearer secret")
        assert seen == []
        allowed = KeptConnections.from_environment(url, HostPolicy(parse_allowed_hosts(url.split("//")[1])))
        assert _post(allowed, "/graphql").status == 200
        assert seen == [None]


def test_through_a_proxy_the_proxys_connection_is_the_one_checked(monkeypatch):
    """HTTP(S)_PROXY is honoured, but the connection opened is the proxy's: a proxy the policy refuses gets
    nothing (it used to get the key, unchecked), an allowed one carries the request, NO_PROXY goes direct."""
    seen: dict[str, list] = {"proxy": [], "consonance": []}

    def recorder(name):
        def listener(environ, start_response):
            seen[name].append((environ.get("HTTP_AUTHORIZATION"), environ.get("REQUEST_URI") or environ["PATH_INFO"]))
            return Response("{}", content_type="application/json")(environ, start_response)

        return listener

    with serving(recorder("proxy")) as proxy, serving(recorder("consonance")) as url:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, proxy)
        consonance_only = HostPolicy(parse_allowed_hosts(url.split("//")[1]))
        with pytest.raises(AddressRefused):
            _post(KeptConnections.from_environment(url, consonance_only), "/graphql", "Bearer refused")
        assert seen == {"proxy": [], "consonance": []}

        proxy_allowed = HostPolicy(parse_allowed_hosts(proxy.split("//")[1]))
        answer = _post(KeptConnections.from_environment(url, proxy_allowed), "/graphql", "Bearer via-proxy")
        # a plain-http proxy is sent the whole address it is to forward to
        assert answer.status == 200 and seen == {"proxy": [("Bearer via-proxy", url + "/graphql")], "consonance": []}
        transport = GraphQLTransport(
            ConsonanceConnection(host=url, api_key="transport-key"),
            connections=KeptConnections.from_environment(url, proxy_allowed),
        )
        with pytest.raises(ConsonanceQueryError):  # the recorder answers no data; what matters is who was asked
            transport.execute("{ __typename }")
        assert [who for who, _ in seen["proxy"]] == ["Bearer via-proxy", "Bearer transport-key"]
        assert seen["consonance"] == []

        monkeypatch.setenv("NO_PROXY", url.split("//")[1].split(":")[0])
        direct = _post(KeptConnections.from_environment(url, consonance_only), "/graphql", "Bearer direct")
        assert direct.status == 200 and seen["consonance"] == [("Bearer direct", "/graphql")]
        assert len(seen["proxy"]) == 2


class _CountingSocket:
    """A connected socket that counts the writes made on it."""

    def __init__(self, sock):
        self._sock, self.writes = sock, []

    def sendall(self, data):
        self.writes.append(bytes(data))
        return self._sock.sendall(data)

    def __getattr__(self, name):
        return getattr(self._sock, name)


def test_a_request_goes_out_in_one_write():
    """The request line, headers and body leave in one write (http.client makes two: a second segment and a
    second wake-up of Consonance's server on every call)."""
    received = []

    def listener(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        received.append((environ["REQUEST_METHOD"], environ["wsgi.input"].read(length)))
        return Response('{"data": {}}', content_type="application/json")(environ, start_response)

    with serving(listener) as url:
        connections = KeptConnections.from_environment(url, HostPolicy(parse_allowed_hosts(url.split("//")[1])))
        head = connections.head("POST", "/graphql", {"Authorization": "Bearer k"})
        for body in (b'{"query": "{ worksCount }"}', b"x" * 70_000):
            connection = connections._take(3)
            counting = connection.sock = _CountingSocket(connection.sock)
            connections._keep(connection)
            answer = connections.exchange(head, body, connect_timeout=3, read_timeout=3)
            assert answer.status == 200 and answer.body == b'{"data": {}}'
            assert len(counting.writes) == 1, [len(write) for write in counting.writes]
            assert counting.writes[0].startswith(b"POST /graphql HTTP/1.1\r\n")
            assert counting.writes[0].endswith(body)
    assert received == [("POST", b'{"query": "{ worksCount }"}'), ("POST", b"x" * 70_000)]


@pytest.mark.parametrize(
    "exc, kind",
    [
        (ConsonanceAuthError("x"), errors.KEY_REFUSED),
        (ConsonanceUnavailable("read timeout after 8.00s"), errors.TIMED_OUT),
        (ConsonanceUnavailable("connection failed (ConnectionError)"), errors.UNREACHABLE),
        (ConsonanceUnavailable("HTTP 503", status=503), errors.UNREACHABLE),
        (ConsonanceUnavailable("HTTP 200 with a body that is not JSON", status=200), errors.NOT_CONSONANCE),
        (ConsonanceQueryError("redirect"), errors.NOT_CONSONANCE),
    ],
)
def test_failures_are_classified(exc, kind):
    assert errors.failure_kind(exc) == kind
