"""Key caches: fetched once, refetched once on an unknown kid, rate-limited, fail closed."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from addon.platform.errors import AuthError, KeyUnavailable
from addon.platform.keys import InstallKeyFetcher, JwksCache


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_known_kid_is_served_from_cache(keyserver):
    cache = JwksCache(keyserver.url + "/jwks.json")
    cache.key_for("forge-1")
    cache.key_for("forge-1")
    assert keyserver.jwks_requests == 1


def test_unknown_kid_refetches_once_then_is_rate_limited(keyserver, stranger_key):
    clock = Clock()
    cache = JwksCache(keyserver.url + "/jwks.json", min_refetch_seconds=30, clock=clock)
    cache.key_for("forge-1")
    keyserver.forge_keys["forge-2"] = stranger_key  # Forge rotates keys
    clock.now += 31
    assert cache.key_for("forge-2") is not None
    assert keyserver.jwks_requests == 2
    for _ in range(20):  # a flood of made-up kids costs at most one fetch per interval
        with pytest.raises(AuthError) as refused:
            cache.key_for("made-up")
        assert refused.value.reason == "unknown_kid"
    assert keyserver.jwks_requests == 2


def test_views_arriving_while_the_keys_are_fetched_wait_for_them(keyserver):
    """A fresh process's first views arrive together: one fetches, the rest wait for its answer. (Refusing
    them for lack of keys was the one failed view of a `make load` run: a 401 that logged nothing.)"""
    keyserver.delay_seconds = 0.5
    cache = JwksCache(keyserver.url + "/jwks.json")
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: cache.key_for("forge-1"), range(8)))
    assert all(key is not None for key in keys)
    assert keyserver.jwks_requests == 1


def test_views_waiting_on_a_failed_fetch_are_refused_closed(keyserver):
    keyserver.delay_seconds, keyserver.failing = 0.3, True
    cache = JwksCache(keyserver.url + "/jwks.json")

    def attempt(_):
        try:
            cache.key_for("forge-1")
        except KeyUnavailable:
            return "refused"
        return "accepted"

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(attempt, range(4))) == ["refused"] * 4
    assert keyserver.jwks_requests == 1


def test_unreachable_jwks_fails_closed():
    with pytest.raises(KeyUnavailable):
        JwksCache("http://127.0.0.1:9/jwks.json", timeout=2).key_for("forge-1")


def test_stale_cache_is_not_trusted_when_the_refetch_fails(keyserver):
    clock = Clock()
    cache = JwksCache(keyserver.url + "/jwks.json", ttl_seconds=60, clock=clock)
    cache.key_for("forge-1")
    keyserver.failing = True
    clock.now += 61
    with pytest.raises(KeyUnavailable):
        cache.key_for("forge-1")


@pytest.mark.parametrize("kid", ["../../etc/passwd", "", None, "a" * 300, "kid with spaces"])
def test_malformed_kids_are_refused_before_any_fetch(keyserver, kid):
    with pytest.raises(AuthError):
        InstallKeyFetcher(keyserver.url + "/install-keys").key_for(kid)
    assert keyserver.install_key_requests == 0


def test_install_keys_are_cached_by_kid(keyserver):
    fetcher = InstallKeyFetcher(keyserver.url + "/install-keys")
    fetcher.key_for("install-1")
    fetcher.key_for("install-1")
    assert keyserver.install_key_requests == 1
    with pytest.raises(AuthError):
        fetcher.key_for("install-unknown")
