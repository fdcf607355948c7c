"""Where a Consonance API key may be sent: https to a public address, or a host the operator allowed.

The key is a bearer secret, so the address an admin types is checked before anything is sent:
one scheme (https), no userinfo, no numeric tricks (decimal, octal or hex IPv4), and every address
the name resolves to must be public. Hosts in CONSONANCE_ALLOWED_HOSTS (the embedded sandbox on
loopback, a customer's Consonance inside their network) may use http and private addresses.
The same rule is checked again on every connection (`address_ok`, by `wire.KeptConnections`), so a
name that later resolves somewhere private (DNS rebinding) still gets nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]

# Names that resolve to this machine or the local network whatever DNS says.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_NUMERIC_LOOKING = set("0123456789abcdefx.")


class HostRefused(ValueError):
    """The address may not receive the key; `reason` says why in a sentence an admin can act on."""

    def __init__(self, reason: str, *, unresolvable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.unresolvable = unresolvable


@dataclass(frozen=True)
class AllowedHost:
    """One CONSONANCE_ALLOWED_HOSTS entry: a host name or IP, with an optional port (any port when absent)."""

    host: str
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        return self.host == host and (self.port is None or self.port == port)


def parse_allowed_hosts(value: str | Iterable[str] | None) -> tuple[AllowedHost, ...]:
    """`"127.0.0.1:8100, consonance.internal"` -> entries; blanks ignored, names lower-cased."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    allowed = []
    for raw in items:
        text = str(raw).strip().lower()
        if not text:
            continue
        if text.startswith("["):  # [::1]:8100
            host, _, rest = text[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        elif text.count(":") == 1:
            host, port = text.split(":")
        else:
            host, port = text, ""
        allowed.append(AllowedHost(host, int(port) if port.isdigit() else None))
    return tuple(allowed)


@dataclass(frozen=True)
class HostPolicy:
    """The operator's allow-list and how names are resolved (injectable for unit tests)."""

    allowed: tuple[AllowedHost, ...] = ()
    resolve: Resolver | None = None

    def is_allowed(self, host: str, port: int) -> bool:
        return any(entry.matches(host.lower(), port) for entry in self.allowed)

    def check(self, url: str) -> str:
        """The address, normalised (no trailing slash), or HostRefused saying why it may not have the key."""
        parts = _split(url)
        host, port = parts.hostname or "", _port(parts)
        allowed = self.is_allowed(host, port)
        if parts.scheme != "https" and not allowed:
            raise HostRefused(
                "Use the https:// address of your Consonance (for example https://web.consonance.app): "
                "the API key is never sent over plain http."
            )
        if not allowed:
            _refuse_numeric_tricks(host)
            if host in _LOCAL_NAMES or host.endswith(".localhost"):
                raise HostRefused(_PRIVATE)
            for address in self.addresses(host, port):
                if not is_public(address):
                    raise HostRefused(_PRIVATE)
        return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"

    def addresses(self, host: str, port: int) -> list[str]:
        try:
            found = (self.resolve or resolve_all)(host, port)
        except (OSError, UnicodeError):
            found = []
        if not found:
            raise HostRefused(
                f"No computer answers to the name {host}: check the spelling of the address.", unresolvable=True
            )
        return found

    def address_ok(self, host: str, port: int, address: str) -> bool:
        """Whether a connection to `address` (what `host` resolved to just now) may carry the key."""
        return self.is_allowed(host, port) or is_public(address)


_PRIVATE = (
    "That address is on a private, loopback or link-local network, which the API key is never sent to. "
    "Use the public address of your Consonance, or ask the operator to allow this host (CONSONANCE_ALLOWED_HOSTS)."
)


def _split(url: str):
    text = (url or "").strip()
    if not text or any(c.isspace() for c in text) or "\\" in text:
        raise HostRefused("Enter the address you use for Consonance, e.g. https://web.consonance.app")
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http"):
        raise HostRefused("Enter the address with https:// in front, e.g. https://web.consonance.app")
    if "@" in parts.netloc:
        raise HostRefused("Enter the address without a user name or password in it, e.g. https://web.consonance.app")
    if parts.query or parts.fragment or not parts.hostname:
        raise HostRefused("Enter the address you use for Consonance, e.g. https://web.consonance.app")
    try:
        _ = parts.port  # urlsplit raises only when asked
    except ValueError:
        raise HostRefused("The port in that address is not a number between 1 and 65535.") from None
    return parts


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _refuse_numeric_tricks(host: str) -> None:
    """Decimal (2130706433), octal (0177.0.0.1), hex (0x7f.1) and short (127.1) IPv4 forms are refused:
    resolvers read them differently, so only the plain dotted form or a name is accepted."""
    try:
        ipaddress.ip_address(host)
        return  # canonical IPv4 or IPv6: judged by its address below
    except ValueError:
        pass
    if host and set(host) <= _NUMERIC_LOOKING and any(c.isdigit() for c in host):
        try:
            socket.inet_aton(host)
        except OSError:
            return  # not an address in any form: a name like "cafe.beef" is judged by DNS
        raise HostRefused("Write the address as a name (or a plain dotted IP address), e.g. https://web.consonance.app")


def resolve_all(host: str, port: int) -> list[str]:
    """Every address the name resolves to (IPv4 and IPv6)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def is_public(address: str) -> bool:
    """A globally routable unicast address (IPv4-mapped and 6to4 IPv6 are judged by the IPv4 inside)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            return is_public(str(inner))
        if ip in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64: the IPv4 address is the last 32 bits
            return is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)
