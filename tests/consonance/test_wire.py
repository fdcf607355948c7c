"""The wire to Consonance over real sockets: connections kept and dropped, every framing a server may use, the
answers it refuses to read, verified TLS, and the CONNECT tunnel through a proxy."""

from __future__ import annotations

import contextlib
import datetime
import gzip
import ipaddress
import socket
import ssl
import threading
import time
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from addon.consonance import wire
from addon.consonance.errors import ConsonanceUnavailable
from addon.consonance.transport import ConsonanceConnection, GraphQLTransport, TransportOptions
from addon.consonance.wire import ConnectFailed, KeptConnections, MalformedAnswer, ReadTimedOut


def _read_request(sock: socket.socket, pending: bytes) -> tuple[bytes, bytes] | None:
    """One request (head and body, by its Content-Length) and what was read past it; None when the peer closed."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        pending += chunk
    head, _, rest = pending.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


class Listening:
    """A loopback port whose every accepted connection `_serve` handles on its own thread (numbered from 1)."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        number = 0
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            number += 1
            threading.Thread(target=self._serve, args=(sock, number), daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._listener.close()


class CannedServer(Listening):
    """Answers each request with the next canned answer, as raw bytes; `CLOSE` after an answer closes the
    connection, a float waits that long first. Records (connection number, request) for every request."""

    CLOSE = object()

    def __init__(self, answers: list, tls: ssl.SSLContext | None = None):
        self.answers = list(answers)
        self.requests: list[tuple[int, bytes]] = []
        self._tls = tls
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        super().__init__()

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_side=True)
            self._open.append(sock)
            pending = b""
            while True:
                found = _read_request(sock, pending)
                if found is None or not self.answers:
                    return
                request, pending = found
                with self._lock:  # an answer, the wait before it and the close after it are taken together
                    self.requests.append((number, request))
                    wait = self.answers.pop(0) if isinstance(self.answers[0], float) else 0.0
                    answer = self.answers.pop(0)
                    close = bool(self.answers) and self.answers[0] is self.CLOSE
                    if close:
                        self.answers.pop(0)
                threading.Event().wait(wait)
                sock.sendall(answer)
                if close:
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        super().close()
        for sock in self._open:
            with contextlib.suppress(OSError):
                sock.close()


@contextlib.contextmanager
def canned(*answers, tls: ssl.SSLContext | None = None):
    server = CannedServer(list(answers), tls)
    try:
        yield server
    finally:
        server.close()


def _ok(body: bytes = b'{"data": {}}', *extra: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + b"".join(extra)
        + (b"Content-Length: %d\r\n\r\n" % len(body) + body)
    )


def _post(connections: KeptConnections, body: bytes = b"{}", read_timeout: float = 3) -> wire.Answer:
    head = connections.head("POST", "/graphql", {"Authorization": "Bearer k"})
    return connections.exchange(head, body, connect_timeout=3, read_timeout=read_timeout)


def test_answers_come_back_over_one_kept_connection():
    with canned(_ok(b'{"n": 1}'), _ok(b'{"n": 2}')) as server:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        assert _post(connections, b'{"q": 1}').body == b'{"n": 1}'
        assert _post(connections, b'{"q": 2}').body == b'{"n": 2}'
        assert connections.opened == 1 and [number for number, _ in server.requests] == [1, 1]
        first = server.requests[0][1]
        assert first.startswith(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % server.port)
        assert b"\r\nAuthorization: Bearer k\r\nContent-Length: 8\r\n\r\n" in first and first.endswith(b'{"q": 1}')


def test_a_connection_the_server_closed_while_idle_is_not_used_again():
    with canned(_ok(b'{"n": 1}'), CannedServer.CLOSE, _ok(b'{"n": 2}')) as server:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        assert _post(connections).body == b'{"n": 1}'
        threading.Event().wait(0.1)  # the server's close reaches the idle connection
        assert _post(connections).body == b'{"n": 2}'
        assert connections.opened == 2 and [number for number, _ in server.requests] == [1, 2]


def test_connection_close_and_http_1_0_answers_are_not_kept():
    close = _ok(b"{}", b"Connection: close\r\n")
    http10 = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    with canned(close, CannedServer.CLOSE, http10, CannedServer.CLOSE, _ok()) as server:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        for _ in range(3):
            assert _post(connections).status == 200
        assert connections.opened == 3


def test_a_body_without_framing_runs_to_the_close():
    with canned(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b'{"all": "of it"}', CannedServer.CLOSE
    ) as s:
        answer = _post(KeptConnections(f"http://127.0.0.1:{s.port}"))
        assert answer.body == b'{"all": "of it"}'


def test_chunked_answers_with_extensions_and_trailers_are_joined():
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5;note=first\r\n{"a":\r\n'
        b"A\r\n 123456789\r\n"
        b"1\r\n}\r\n"
        b"0\r\nX-Checksum: none\r\n\r\n"
    )
    with canned(chunked, _ok(b'{"after": 1}')) as server:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        assert _post(connections).body == b'{"a": 123456789}'
        assert _post(connections).body == b'{"after": 1}'  # the connection was left exactly at the next answer
        assert connections.opened == 1


def test_compressed_answers_are_decoded():
    body = b'{"data": {"works": [' + b'{"id": "1"},' * 500 + b"]}}"
    gzipped = gzip.compress(body[:300]) + gzip.compress(body[300:])  # two gzip members, as some servers send
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = raw_deflate.compress(body) + raw_deflate.flush()
    with canned(
        _ok(gzipped, b"Content-Encoding: gzip\r\n"),
        _ok(zlib.compress(body), b"Content-Encoding: deflate\r\n"),
        _ok(deflated, b"Content-Encoding: deflate\r\n"),
    ) as server:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        assert [_post(connections).body for _ in range(3)] == [body] * 3


def test_an_interim_answer_is_skipped():
    with canned(b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b'{"late": true}')) as server:
        assert _post(KeptConnections(f"http://127.0.0.1:{server.port}")).body == b'{"late": true}'


@pytest.mark.parametrize(
    "answer, says",
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not an HTTP answer"),
        (b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", "not an HTTP answer"),
        (b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n{}", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "transfer coding"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n", "chunk does not end"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\n{}", "content coding"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}", "does not decompress"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"a" * 70_000 + b"\r\n\r\n", "larger than 64 KiB"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", "more than 100 headers"),
    ],
)
def test_answers_that_are_not_well_formed_http_are_refused_with_why(answer, says):
    with canned(answer, _ok()) as server:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        with pytest.raises(MalformedAnswer, match=says):
            _post(connections)
        assert not connections._idle  # a connection in an unknown state is never used again


def test_an_answer_cut_short_is_refused():
    with canned(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"half":', CannedServer.CLOSE) as server:
        with pytest.raises(MalformedAnswer, match="closed before the whole answer"):
            _post(KeptConnections(f"http://127.0.0.1:{server.port}"))


def test_answers_past_the_size_limit_are_refused_compressed_or_not(monkeypatch):
    monkeypatch.setattr(wire, "MAX_BODY_BYTES", 10_000)
    bomb = gzip.compress(b"0" * 50_000)  # small on the wire, five times the limit once inflated
    with canned(
        _ok(b"x" * 10_001),
        _ok(bomb, b"Content-Encoding: gzip\r\n"),
    ) as server:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        with pytest.raises(MalformedAnswer, match="larger than"):
            _post(connections)
        with pytest.raises(MalformedAnswer, match="decompresses to more than"):
            _post(connections)


def test_a_slow_answer_times_out_and_its_connection_is_dropped():
    with canned(1.0, _ok(b'{"late": 1}'), _ok(b'{"next": 1}')) as server:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        with pytest.raises(ReadTimedOut):
            _post(connections, read_timeout=0.2)
        assert not connections._idle


def test_an_answer_dripped_a_byte_at_a_time_times_out_on_the_whole_answer():
    """The read timeout bounds the whole answer, not each read: a byte every 0.1 s never lets a read wait 0.35 s,
    yet the answer is refused at 0.35 s, not after its 100 bytes (10 s)."""

    class Dripping(Listening):
        def _serve(self, sock: socket.socket, number: int) -> None:
            with sock, contextlib.suppress(OSError):
                _read_request(sock, b"")
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                for _ in range(100):
                    sock.sendall(b"x")
                    threading.Event().wait(0.1)

    server = Dripping()
    try:
        connections = KeptConnections(f"http://127.0.0.1:{server.port}")
        started = time.monotonic()
        with pytest.raises(ReadTimedOut):
            _post(connections, read_timeout=0.35)
        assert time.monotonic() - started < 1.5
    finally:
        server.close()


def test_a_header_with_a_line_break_is_refused_before_anything_is_sent():
    connections = KeptConnections("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="line break"):
        connections.head("POST", "/graphql", {"Authorization": "Bearer k\r\nX-Injected: 1"})


def test_a_malformed_answer_is_a_retryable_failure_for_the_transport():
    garbage = b"HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n"
    with canned(garbage, CannedServer.CLOSE, garbage, CannedServer.CLOSE) as server:
        url = f"http://127.0.0.1:{server.port}"
        transport = GraphQLTransport(
            ConsonanceConnection(host=url, api_key="k"),
            TransportOptions(max_attempts=2, backoff_base=0.01, jitter=0),
            connections=KeptConnections(url),
        )
        with pytest.raises(ConsonanceUnavailable, match=r"connection failed \(MalformedAnswer\)") as caught:
            transport.execute("{ __typename }")
        assert caught.value.attempts == 2


# --- TLS and the tunnel ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for `localhost` and 127.0.0.1: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_server_context(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def test_https_is_verified_against_the_bundle_given(certificate, tls_server_context):
    with canned(_ok(b'{"secure": 1}'), tls=tls_server_context) as server:
        trusted = KeptConnections(f"https://localhost:{server.port}", ca_bundle=certificate[0])
        assert _post(trusted).body == b'{"secure": 1}'
        with pytest.raises(ConnectFailed, match="TLS with localhost"):  # not in certifi's bundle
            _post(KeptConnections(f"https://localhost:{server.port}"))
        assert len(server.requests) == 1  # nothing was sent over the unverified connection


class TunnelProxy(Listening):
    """A CONNECT proxy: records each request line and header block, then pipes bytes both ways (or refuses)."""

    def __init__(self, refuse: bool = False):
        self.seen: list[bytes] = []
        self.refuse = refuse
        super().__init__()

    def _serve(self, client: socket.socket, number: int) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        self.seen.append(head)
        if self.refuse:
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            client.close()
            return
        host, port = head.split(b" ")[1].decode().rsplit(":", 1)
        upstream = socket.create_connection(("127.0.0.1", int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(source, target):
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    target.sendall(data)
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
        back.start()
        pipe(client, upstream)
        back.join(timeout=5)
        upstream.close()
        client.close()


def test_https_through_a_proxy_goes_through_a_tunnel_the_proxy_cannot_read(certificate, tls_server_context):
    proxy = TunnelProxy()
    try:
        with canned(_ok(b'{"tunnelled": 1}'), tls=tls_server_context) as server:
            connections = KeptConnections(
                f"https://localhost:{server.port}",
                proxy=f"http://user:p%40ss@127.0.0.1:{proxy.port}",
                ca_bundle=certificate[0],
            )
            assert _post(connections).body == b'{"tunnelled": 1}'
            assert server.requests[0][1].startswith(b"POST /graphql HTTP/1.1\r\nHost: localhost:%d" % server.port)
        (head,) = proxy.seen
        assert head.startswith(b"CONNECT localhost:%d HTTP/1.1\r\n" % server.port)
        assert b"Proxy-Authorization: Basic dXNlcjpwQHNz\r\n" in head  # user:p@ss
        assert b"Bearer" not in head  # the key travels inside TLS only
    finally:
        proxy.close()


def test_a_proxy_that_refuses_the_tunnel_is_a_connection_failure(certificate):
    proxy = TunnelProxy(refuse=True)
    try:
        connections = KeptConnections("https://localhost:9", proxy=f"http://127.0.0.1:{proxy.port}")
        with pytest.raises(ConnectFailed, match=r"refused a tunnel to localhost:9 \(HTTP 407\)"):
            _post(connections)
    finally:
        proxy.close()


def test_a_proxy_or_bundle_that_cannot_be_used_is_an_outage_that_says_why():
    """Not a crash when the gateway is made: every attempt fails as a connection would, with the reason."""
    socks = KeptConnections("https://consonance.example", proxy="socks5://user:secret@127.0.0.1:1080")
    with pytest.raises(ConnectFailed, match=r"only http:// proxies are supported \(the proxy set is socks5://127"):
        _post(socks)
    missing = KeptConnections("https://consonance.example", ca_bundle="/nowhere/ca.pem")
    with pytest.raises(ConnectFailed, match="the CA bundle /nowhere/ca.pem does not exist"):
        _post(missing)
