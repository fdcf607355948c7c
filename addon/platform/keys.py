"""Public keys that sign incoming tokens: Forge's JWKS and Connect's install-key server.

Both fail closed: a key that cannot be fetched means the token is refused. The JWKS is
cached, refetched once when an unknown `kid` arrives, and refetches are rate-limited so a
flood of made-up `kid`s cannot turn us into a load generator against Atlassian.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from addon import turns
from addon.platform.errors import AuthError, KeyUnavailable

log = logging.getLogger("addon.platform.keys")

# A kid is used in a URL path (install keys): allow only what real kids look like.
KID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,199}$")


def _check_kid(kid: object) -> str:
    if not isinstance(kid, str) or not KID_PATTERN.match(kid) or ".." in kid:
        raise AuthError("bad_kid", "The token's key id is missing or malformed.")
    return kid


class JwksCache:
    """Forge invocation-token keys by `kid`."""

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float = 3600,
        min_refetch_seconds: float = 30,
        timeout: float = 10,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl_seconds = ttl_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.timeout = timeout
        self.session = session or requests.Session()
        self.clock = clock
        self._keys: dict[str, RSAPublicKey] = {}
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._fetching: threading.Event | None = None  # set when the fetch in flight ends
        self._lock = threading.Lock()
        self.fetch_count = 0

    def key_for(self, token_kid: object) -> RSAPublicKey:
        kid = _check_kid(token_kid)
        fetch: threading.Event | None = None  # set when this request fetches
        with self._lock:
            now = self.clock()
            if self._is_fresh(now) and kid in self._keys:
                return self._keys[kid]
            # Stale cache, or an unknown kid (keys rotate): refetch, at most once per interval. Requests that
            # arrive while a fetch is in flight wait for its answer instead of being refused for lack of keys.
            in_flight = self._fetching
            should_fetch = in_flight is None and (
                self._last_attempt is None or now - self._last_attempt >= self.min_refetch_seconds
            )
            if should_fetch:
                self._last_attempt = now
                fetch = self._fetching = threading.Event()
        if fetch is not None:
            try:
                with turns.stepped_aside():  # a slow Atlassian holds up only the views that need its keys
                    self._refetch()
            finally:
                with self._lock:
                    self._fetching = None
                fetch.set()
        elif in_flight is not None:
            with turns.stepped_aside():
                in_flight.wait(self.timeout + 1)
        with self._lock:
            fresh = self._is_fresh(self.clock())
            if fresh and kid in self._keys:
                return self._keys[kid]
        if not fresh:
            raise KeyUnavailable(
                "jwks_unavailable", "Forge signing keys could not be fetched; the request was refused."
            )
        raise AuthError("unknown_kid", "The token was signed with a key Forge does not publish.")

    def _is_fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self.ttl_seconds

    def _refetch(self) -> None:
        """Fetch outside the lock, so requests with known keys never wait on the network."""
        self.fetch_count += 1
        try:
            response = self.session.get(self.url, timeout=self.timeout)
            response.raise_for_status()
            document = response.json()
            keys: dict[str, RSAPublicKey] = {}
            for jwk in document.get("keys", []):
                if jwk.get("kty") != "RSA" or not jwk.get("kid"):
                    continue
                if jwk.get("use") not in (None, "sig") or jwk.get("alg") not in (None, "RS256"):
                    continue
                key = jwt.algorithms.RSAAlgorithm.from_jwk(jwk)
                if isinstance(key, RSAPublicKey):  # a JWK carrying private parameters is no signing key we trust
                    keys[jwk["kid"]] = key
        except (requests.RequestException, ValueError, TypeError, KeyError, AttributeError, jwt.PyJWTError) as exc:
            log.warning("Forge JWKS fetch failed from %s: %s", self.url, exc.__class__.__name__)
            return
        with self._lock:
            self._keys = keys
            self._fetched_at = self.clock()
        log.info("Forge JWKS fetched: %d keys", len(keys))


class InstallKeyFetcher:
    """Connect signed-install public keys, fetched as PEM from `{base}/{kid}`.

    A kid names one immutable key, so fetched keys are kept (bounded LRU); failures are
    not cached, and a miss is never answered with a guess.
    """

    def __init__(
        self, base_url: str, *, timeout: float = 10, session: requests.Session | None = None, max_keys: int = 64
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.max_keys = max_keys
        self._keys: OrderedDict[str, RSAPublicKey] = OrderedDict()
        self._lock = threading.Lock()

    def key_for(self, token_kid: object) -> RSAPublicKey:
        kid = _check_kid(token_kid)
        with self._lock:
            if kid in self._keys:
                self._keys.move_to_end(kid)
                return self._keys[kid]
        try:
            response = self.session.get(f"{self.base_url}/{kid}", timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("install key fetch failed for kid %s: %s", kid, exc.__class__.__name__)
            raise KeyUnavailable(
                "install_key_unavailable", "The install signing key could not be fetched; the install was refused."
            ) from exc
        if response.status_code == 404:
            raise AuthError("unknown_kid", "The install was signed with a key Atlassian does not publish.")
        if response.status_code != 200:
            raise KeyUnavailable(
                "install_key_unavailable", "The install signing key could not be fetched; the install was refused."
            )
        try:
            key = load_pem_public_key(response.content)
        except ValueError as exc:
            raise KeyUnavailable(
                "install_key_invalid", "The install key server answered with something that is not a key."
            ) from exc
        if not isinstance(key, RSAPublicKey):
            raise AuthError("install_key_invalid", "The install key is not an RSA key.")
        with self._lock:
            self._keys[kid] = key
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        return key
