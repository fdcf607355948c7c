"""The wire to one Consonance: vetted keep-alive connections, and a lean HTTP/1.1 exchange over them.

Every first view of a title asks Consonance once while an editor waits. Through requests' pools and urllib3 one
GraphQL POST cost ~0.4-0.5 ms of the process's CPU on the benchmark machine, against ~0.05 ms for the exchange
itself: a pool checkout, header maps, and response wrappers built for every call (bench/RESULTS.md,
2026-12-06). Here a request is one prepared write and the answer is read by a small, bounded parser.

What must not change has not:
- every connection is checked against the host policy after it connects and before anything is sent on it,
  so a name that now resolves somewhere private (DNS rebinding) gets nothing;
- https is verified (certificate chain and host name, TLS 1.2 or later);
- HTTP(S)_PROXY and NO_PROXY are honoured, read once: the proxy's own connection is the one the policy checks,
  https goes through a CONNECT tunnel, plain http is sent to the proxy in absolute form;
- an answer is bounded: 64 KiB of headers, 64 MiB of body (compressed or not), and the read timeout is for the
  whole answer, not for each read (a server dripping a byte at a time cannot hold a view).
"""

from __future__ import annotations

import base64
import os
import select
import socket
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_environ_proxies, select_proxy

from addon.consonance.host_policy import HostPolicy

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
MAX_BODY_BYTES = 64 * 1024 * 1024  # a page of 100 titles is ~1-2 MB; far past that is not Consonance answering
RECEIVE_BYTES = 256 * 1024
MAX_IDLE = 10  # connections kept open per Consonance (requests' pool size, which this replaces)
_HEX = frozenset(b"0123456789abcdefABCDEF")


class WireError(OSError):
    """The exchange failed: connecting, the TLS handshake, the proxy, or the answer's framing."""


class ConnectFailed(WireError):
    """No connection could be opened (refused, unreachable, TLS refused, the proxy said no)."""


class AddressRefused(ConnectFailed):
    """The connection reached an address the policy refuses: nothing was sent on it."""


class ConnectTimedOut(ConnectFailed):
    """Connecting (or the TLS handshake, or the proxy's tunnel) took longer than the connect timeout."""


class ReadTimedOut(WireError):
    """The request was sent but the answer did not come within the read timeout."""


class MalformedAnswer(WireError):
    """What came back is not an HTTP/1.1 answer this client will read (or it was cut short)."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased; a repeated header's values joined with ", "
    body: bytes  # decoded (gzip, deflate)


@dataclass(frozen=True)
class _Proxy:
    host: str
    port: int
    authorization: str | None  # the Proxy-Authorization value, when the proxy's URL names a user


class _Connection:
    """One open socket and what has been read past the last answer (nothing, on a well-behaved server)."""

    __slots__ = ("sock", "buffered", "deadline")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffered = b""
        self.deadline = 0.0  # when the answer being read must be whole (time.monotonic); 0: no limit

    def wait_left(self) -> None:
        """Let the next read wait only for what is left of the answer's time: a server that sends a byte now and
        then cannot hold a view past its read timeout."""
        if self.deadline:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the answer took longer than the read timeout")
            self.sock.settimeout(left)

    def stale(self) -> bool:
        """The server closed it (or sent something unasked) while it sat idle: not to be used again."""
        if self.buffered or (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
            return True
        try:
            poller = select.poll()
            poller.register(self.sock, select.POLLIN | select.POLLERR | select.POLLHUP)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class KeptConnections:
    """Keep-alive connections to one Consonance, each checked by `policy` (None: no check, for tools and tests
    that reach a sandbox they started) and shared by the threads of one process."""

    def __init__(
        self,
        url: str,
        policy: HostPolicy | None = None,
        *,
        proxy: str | None = None,
        ca_bundle: str | bool = True,
        max_idle: int = MAX_IDLE,
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        bracketed = f"[{self.host}]" if ":" in self.host else self.host
        self.netloc = bracketed if parts.port is None else f"{bracketed}:{parts.port}"
        self.policy = policy
        self._proxy: _Proxy | None = None
        self._tls: ssl.SSLContext | None = None
        self._unusable: str | None = None  # why no connection can be opened (said on every attempt, as an outage)
        try:
            self._proxy = _proxy_from(proxy) if proxy else None
            self._tls = _tls_context(ca_bundle) if parts.scheme == "https" else None
        except (ValueError, OSError, ssl.SSLError) as exc:
            self._unusable = str(exc)
        self._idle: list[_Connection] = []  # always this list, so the finalizer below closes what it holds
        self._max_idle = max_idle
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.opened = 0  # connections opened so far (what keep-alive saves shows here)
        weakref.finalize(self, _close_all, self._idle)  # a transport dropped unclosed leaves no socket open

    @classmethod
    def from_environment(cls, url: str, policy: HostPolicy | None = None) -> KeptConnections:
        """The proxy for `url` (HTTPS_PROXY / HTTP_PROXY, unless NO_PROXY names it) and a CA bundle
        (REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE), read once, here; never ~/.netrc: the key is the only credential."""
        proxy = select_proxy(url, get_environ_proxies(url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        return cls(url, policy, proxy=proxy, ca_bundle=bundle)

    def head(self, method: str, path: str, headers: Mapping[str, str]) -> bytes:
        """The request line and headers of every call made with these, up to its Content-Length: built once."""
        forward = self._proxy is not None and self.scheme == "http"  # a plain-http proxy is sent the whole URL
        target = f"http://{self.netloc}{path}" if forward else path
        fields = {"Host": self.netloc, **headers}
        if forward and self._proxy is not None and self._proxy.authorization:
            fields["Proxy-Authorization"] = self._proxy.authorization
        lines = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in fields.items())]
        text = "\r\n".join(lines) + "\r\n"
        if any(ch in "\r\n\0" for line in lines for ch in line):
            raise ValueError("a request header may not contain a line break")
        return text.encode("latin-1")

    def exchange(self, head: bytes, body: bytes, *, connect_timeout: float, read_timeout: float) -> Answer:
        """Send one request (`head` from `head()`, then `body`) in one write and read its whole answer."""
        message = b"".join((head, b"Content-Length: %d\r\n\r\n" % len(body), body))
        connection = self._take(connect_timeout)
        try:
            connection.sock.settimeout(read_timeout)
            connection.deadline = time.monotonic() + read_timeout
            connection.sock.sendall(message)
            answer, reusable = _read_answer(connection)
        except TimeoutError:
            connection.close()
            raise ReadTimedOut(f"no answer within {read_timeout:.2f}s") from None
        except BaseException:
            connection.close()
            raise
        if reusable:
            self._keep(connection)
        else:
            connection.close()
        return answer

    def close(self) -> None:
        with self._lock:
            idle = self._idle[:]
            self._idle.clear()
        _close_all(idle)

    def _take(self, connect_timeout: float) -> _Connection:
        while True:
            with self._lock:
                if self._pid != os.getpid():  # a forked child: the parent's connections are not its to use
                    _close_all(self._idle)  # closes only the child's copies; the parent's stay open
                    self._idle.clear()
                    self._pid = os.getpid()
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._open(connect_timeout)
            if not connection.stale():
                return connection
            connection.close()

    def _keep(self, connection: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle and self._pid == os.getpid():
                self._idle.append(connection)
                return
        connection.close()

    def _open(self, timeout: float) -> _Connection:
        if self._unusable is not None:
            raise ConnectFailed(self._unusable)
        host, port = (self._proxy.host, self._proxy.port) if self._proxy is not None else (self.host, self.port)
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise ConnectTimedOut(f"no connection to {host}:{port} within {timeout:.2f}s") from None
        except OSError as exc:
            raise ConnectFailed(f"could not connect to {host}:{port}: {exc}") from exc
        try:
            peer = sock.getpeername()[0]
            if self.policy is not None and not self.policy.address_ok(host, port, peer):
                raise AddressRefused(f"refused to send the key to {peer} (not a public address)")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._proxy is not None and self._tls is not None:
                self._tunnel(sock, timeout)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except TimeoutError:
            sock.close()
            raise ConnectTimedOut(f"connecting to {self.netloc} took longer than {timeout:.2f}s") from None
        except ssl.SSLError as exc:
            sock.close()
            raise ConnectFailed(f"TLS with {self.netloc} failed: {exc}") from exc
        except BaseException:
            sock.close()
            raise
        self.opened += 1
        return _Connection(sock)

    def _tunnel(self, sock: socket.socket, timeout: float) -> None:
        """Ask the proxy for a tunnel to Consonance; TLS then runs inside it, end to end."""
        assert self._proxy is not None
        lines = [f"CONNECT {self.netloc} HTTP/1.1", f"Host: {self.netloc}"]
        if self._proxy.authorization:
            lines.append(f"Proxy-Authorization: {self._proxy.authorization}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        connection = _Connection(sock)
        connection.deadline = time.monotonic() + timeout  # the tunnel is part of connecting
        status, _, _ = _read_head(connection)
        if not 200 <= status < 300:
            raise ConnectFailed(f"the proxy refused a tunnel to {self.netloc} (HTTP {status})")
        if connection.buffered:
            raise MalformedAnswer("the proxy sent data before the tunnel was used")


def _close_all(connections: list[_Connection]) -> None:
    for connection in connections:
        connection.close()


def _proxy_from(url: str) -> _Proxy:
    parts = urlsplit(url if "://" in url else "http://" + url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http:// proxies are supported (the proxy set is {parts.scheme}://{parts.hostname})")
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
    return _Proxy(parts.hostname, parts.port or 80, authorization)


def _tls_context(ca_bundle: str | bool) -> ssl.SSLContext:
    """Verified TLS 1.2+: the bundle named (a file or a directory of hashed certificates), else certifi's."""
    bundle = DEFAULT_CA_BUNDLE_PATH if ca_bundle is True or not ca_bundle else ca_bundle
    if not os.path.exists(bundle):
        raise ValueError(f"the CA bundle {bundle} does not exist (REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE)")
    if os.path.isdir(bundle):
        context = ssl.create_default_context(capath=bundle)
    else:
        context = ssl.create_default_context(cafile=bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


# --- reading an answer ---------------------------------------------------------------------------------


def _receive(connection: _Connection) -> bytes:
    connection.wait_left()
    chunk = connection.sock.recv(RECEIVE_BYTES)
    if not chunk:
        raise MalformedAnswer("the connection closed before the whole answer came")
    return chunk


def _read_answer(connection: _Connection) -> tuple[Answer, bool]:
    """The answer, and whether the connection may carry another request."""
    status, version, headers = _read_head(connection)
    while 100 <= status < 200:  # interim answers (100 Continue, 103 Early Hints) precede the real one
        if status == 101:
            raise MalformedAnswer("the server switched protocols")
        status, version, headers = _read_head(connection)
    body, reusable = _read_body(connection, status, headers)
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    if version != b"HTTP/1.1" or "close" in tokens:
        reusable = False
    return Answer(status, headers, _decoded(body, headers.get("content-encoding"))), reusable


def _read_head(connection: _Connection) -> tuple[int, bytes, dict[str, str]]:
    data = connection.buffered
    end = data.find(b"\r\n\r\n")
    while end < 0:
        if len(data) > MAX_HEAD_BYTES:
            raise MalformedAnswer("the answer's headers are larger than 64 KiB")
        start = max(0, len(data) - 3)
        data += _receive(connection)
        end = data.find(b"\r\n\r\n", start)
    if end > MAX_HEAD_BYTES:
        raise MalformedAnswer("the answer's headers are larger than 64 KiB")
    lines, connection.buffered = data[:end].split(b"\r\n"), data[end + 4 :]
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if (
        version not in (b"HTTP/1.1", b"HTTP/1.0")
        or len(code) != 3
        or not code.isdigit()
        or rest[3:4] not in (b"", b" ")
    ):
        raise MalformedAnswer(f"not an HTTP answer: {lines[0][:80]!r}")
    if len(lines) - 1 > MAX_HEADERS:
        raise MalformedAnswer(f"the answer has more than {MAX_HEADERS} headers")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name[-1:] in (b" ", b"\t") or line[:1] in (b" ", b"\t"):
            raise MalformedAnswer(f"a malformed header line: {line[:80]!r}")
        key, text = name.decode("latin-1").lower(), value.strip(b" \t").decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return int(code), version, headers


def _read_body(connection: _Connection, status: int, headers: dict[str, str]) -> tuple[bytes, bool]:
    if status in (204, 304):
        return b"", True
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if [part.strip().lower() for part in coding.split(",")] != ["chunked"]:
            raise MalformedAnswer(f"the transfer coding {coding!r} is not supported")
        return _read_chunked(connection), True
    length = headers.get("content-length")
    if length is not None:
        values = {value.strip() for value in length.split(",")}
        size = values.pop() if len(values) == 1 else ""
        if not size.isdigit() or len(size) > 12:
            raise MalformedAnswer(f"a malformed Content-Length: {length[:40]!r}")
        if int(size) > MAX_BODY_BYTES:
            raise MalformedAnswer("the answer is larger than 64 MiB")
        return _read_exact(connection, int(size)), True
    return _read_to_close(connection), False  # no framing: the body runs until the server closes


def _read_exact(connection: _Connection, size: int) -> bytes:
    data = connection.buffered
    if len(data) >= size:
        connection.buffered = data[size:]
        return data[:size]
    body = bytearray(size)
    view = memoryview(body)
    view[: len(data)] = data
    have, connection.buffered = len(data), b""
    while have < size:
        connection.wait_left()
        got = connection.sock.recv_into(view[have:], min(size - have, RECEIVE_BYTES))
        if not got:
            raise MalformedAnswer("the connection closed before the whole answer came")
        have += got
    return bytes(body)


def _read_line(connection: _Connection, limit: int) -> bytes:
    data = connection.buffered
    end = data.find(b"\r\n")
    while end < 0:
        if len(data) > limit:
            raise MalformedAnswer("a chunk line is too long")
        data += _receive(connection)
        end = data.find(b"\r\n")
    connection.buffered = data[end + 2 :]
    return data[:end]


def _read_chunked(connection: _Connection) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = _read_line(connection, 1024).split(b";", 1)[0].strip(b" \t")
        if not size_text or len(size_text) > 16 or not set(size_text) <= _HEX:
            raise MalformedAnswer(f"a malformed chunk size: {size_text[:20]!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > MAX_BODY_BYTES:
            raise MalformedAnswer("the answer is larger than 64 MiB")
        parts.append(_read_exact(connection, size))
        if _read_exact(connection, 2) != b"\r\n":
            raise MalformedAnswer("a chunk does not end where its size says")
    for _ in range(MAX_HEADERS + 1):  # trailers, up to the blank line
        if not _read_line(connection, MAX_HEAD_BYTES):
            return b"".join(parts)
    raise MalformedAnswer(f"the answer has more than {MAX_HEADERS} trailers")


def _read_to_close(connection: _Connection) -> bytes:
    parts, total = [connection.buffered], len(connection.buffered)
    connection.buffered = b""
    while True:
        connection.wait_left()
        chunk = connection.sock.recv(RECEIVE_BYTES)
        if not chunk:
            return b"".join(parts)
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise MalformedAnswer("the answer is larger than 64 MiB")
        parts.append(chunk)


def _decoded(body: bytes, coding: str | None) -> bytes:
    """The body without its content coding (we ask for gzip or deflate), never more than the body limit."""
    name = (coding or "identity").strip().lower()
    if name == "identity" or not body:
        return body
    if name in ("gzip", "x-gzip"):
        return _inflate(body, 16 + zlib.MAX_WBITS, members=True)
    if name == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS)
        except MalformedAnswer:
            return _inflate(body, -zlib.MAX_WBITS)  # some servers send raw deflate without the zlib wrapper
    raise MalformedAnswer(f"the content coding {coding!r} is not supported")


def _inflate(data: bytes, wbits: int, members: bool = False) -> bytes:
    out: list[bytes] = []
    total = 0
    try:
        while data:
            inflater = zlib.decompressobj(wbits)
            piece = inflater.decompress(data, MAX_BODY_BYTES + 1 - total)
            total += len(piece)
            if total > MAX_BODY_BYTES or inflater.unconsumed_tail:
                raise MalformedAnswer("the answer decompresses to more than 64 MiB")
            if not inflater.eof:
                raise MalformedAnswer("the compressed answer is cut short")
            out.append(piece)
            data = inflater.unused_data if members else b""
    except zlib.error as exc:
        raise MalformedAnswer(f"the compressed answer does not decompress: {exc}") from None
    return b"".join(out)
