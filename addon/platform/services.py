"""Per-app singletons the platform needs (secret box, key caches), kept on `app.extensions`."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict

from flask import Flask, current_app

from addon.platform.connect_tokens import KnownConnectToken
from addon.platform.crypto import SecretBox
from addon.platform.forge_tokens import KnownForgeToken
from addon.platform.jws import VerifiedTokens
from addon.platform.keys import InstallKeyFetcher, JwksCache

if TYPE_CHECKING:
    import redis

EXTENSION_KEY = "addon.platform"


class PlatformServices(TypedDict):
    """What init_app keeps on `app.extensions[EXTENSION_KEY]`; the last two are made on first use."""

    secret_box: SecretBox
    jwks: JwksCache
    install_keys: InstallKeyFetcher
    seen_system_tokens: dict[int, str]  # tenant id -> digest of the Forge system token last stored
    verified_forge_tokens: VerifiedTokens[KnownForgeToken]  # Forge tokens already verified, by their exact text
    verified_connect_tokens: VerifiedTokens[KnownConnectToken]  # Connect tokens already verified, likewise
    view_redis: NotRequired[redis.Redis]
    own_write_marks: NotRequired[object]  # own_writes.MarkStore (typed there: own_writes imports this module)


def init_app(app: Flask) -> None:
    config = app.config
    services: PlatformServices = {
        "secret_box": SecretBox(config["ENCRYPTION_KEYS"]),
        "jwks": JwksCache(
            config["FORGE_JWKS_URL"],
            ttl_seconds=config["JWKS_CACHE_SECONDS"],
            min_refetch_seconds=config["JWKS_MIN_REFETCH_SECONDS"],
            timeout=config["OUTBOUND_TIMEOUT_SECONDS"],
        ),
        "install_keys": InstallKeyFetcher(
            config["CONNECT_INSTALL_KEYS_URL"], timeout=config["OUTBOUND_TIMEOUT_SECONDS"]
        ),
        "seen_system_tokens": {},
        "verified_forge_tokens": VerifiedTokens(),
        "verified_connect_tokens": VerifiedTokens(),
    }
    app.extensions[EXTENSION_KEY] = services


def platform_services() -> PlatformServices:
    services: PlatformServices = current_app.extensions[EXTENSION_KEY]
    return services


def secret_box() -> SecretBox:
    return platform_services()["secret_box"]


def jwks() -> JwksCache:
    return platform_services()["jwks"]


def verified_forge_tokens() -> VerifiedTokens[KnownForgeToken]:
    return platform_services()["verified_forge_tokens"]


def verified_connect_tokens() -> VerifiedTokens[KnownConnectToken]:
    return platform_services()["verified_connect_tokens"]


def install_keys() -> InstallKeyFetcher:
    return platform_services()["install_keys"]


def view_redis() -> redis.Redis | None:
    """The app's Redis client for what a page view waits on (tenant generations, the macro cache): one
    connection pool, and short timeouts so a hung Redis fails over fast instead of hanging views. None
    without REDIS_URL."""
    url = current_app.config.get("REDIS_URL") or ""
    if not url:
        return None
    found = platform_services().get("view_redis")
    if found is None:
        import redis

        found = platform_services().setdefault(
            "view_redis", redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0)
        )
    return found
