"""How a request to Confluence proves who we are: one interface, two strategies.

Forge Remote calls go to `{apiBaseUrl}/wiki/...` with the Bearer token Forge handed us
(app-system or user); Connect calls go to the site with a fresh JWT per request, because the
token's `qsh` binds it to that exact method, path and query.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit


class ConfluenceAuth(Protocol):
    """`site_url` is where `/wiki/...` paths hang; `apply` adds credentials to one request."""

    site_url: str

    def apply(self, request_method: str, url: str, headers: MutableMapping[str, str]) -> None: ...


class ForgeAuth:
    """Bearer token from `x-forge-oauth-system` (app as itself) or `x-forge-oauth-user`."""

    def __init__(self, api_base_url: str, token: str):
        if not token:
            raise ValueError("ForgeAuth needs the token from x-forge-oauth-system or x-forge-oauth-user")
        self.site_url = api_base_url.rstrip("/")
        self._token = token

    def apply(self, request_method: str, url: str, headers: MutableMapping[str, str]) -> None:
        headers["Authorization"] = f"Bearer {self._token}"

    def __repr__(self) -> str:  # never show the token
        return f"ForgeAuth({self.site_url!r})"


TokenFactory = Callable[..., str]


def _default_token_factory() -> TokenFactory:
    # Imported late so this module loads even where the platform package is being rebuilt.
    from addon.platform.connect_tokens import outgoing_token

    return outgoing_token


class ConnectAuth:
    """`Authorization: JWT <token>` signed with the installation's shared secret, one per request.

    `base_url` is the installation's `baseUrl` (Confluence sends `https://site/wiki`); the qsh is
    computed relative to it, while `site_url` is the site root the client appends `/wiki/...` to.
    """

    def __init__(
        self,
        base_url: str,
        app_key: str,
        client_key: str,
        shared_secret: str,
        token_factory: TokenFactory | None = None,
    ):
        if not shared_secret:
            raise ValueError("ConnectAuth needs the installation's shared secret")
        self.product_base_url = base_url.rstrip("/")
        parts = urlsplit(self.product_base_url)
        site_path = parts.path[: -len("/wiki")] if parts.path.endswith("/wiki") else parts.path
        self.site_url = urlunsplit((parts.scheme, parts.netloc, site_path, "", "")).rstrip("/")
        self.app_key = app_key
        self.client_key = client_key
        self._shared_secret = shared_secret
        self._token_factory = token_factory

    def apply(self, request_method: str, url: str, headers: MutableMapping[str, str]) -> None:
        factory = self._token_factory or _default_token_factory()
        token = factory(
            request_method,
            url,
            app_key=self.app_key,
            client_key=self.client_key,
            shared_secret=self._shared_secret,
            product_base_url=self.product_base_url,
        )
        headers["Authorization"] = f"JWT {token}"

    def __repr__(self) -> str:
        return f"ConnectAuth({self.product_base_url!r}, client_key={self.client_key!r})"
