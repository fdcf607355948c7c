"""Request authentication for blueprints: one decorator per kind of caller.

Each decorator verifies the token fully, resolves the tenant, and puts both on `g`;
views never see an unauthenticated request. Failures become 401/403 with a clear message.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from urllib.parse import quote, urlsplit

from flask import Response, current_app, g, jsonify, request

from addon.extensions import db
from addon.logs import bind
from addon.platform import forge_callers, rate_limits, services, tenants
from addon.platform.connect_tokens import ConnectRequest, verify_request_token
from addon.platform.errors import AuthError
from addon.platform.forge_tokens import ForgeInvocation, verify_invocation_token
from addon.platform.models import Tenant

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("addon.platform.auth")

_P = ParamSpec("_P")
_R = TypeVar("_R")


def raw_path() -> str:
    """The path as the caller sent it (still percent-encoded), which is what qsh hashes."""
    return raw_path_of(request.environ)


def raw_path_of(environ: WSGIEnvironment) -> str:
    """`raw_path` for a WSGI environ: the server's raw URI when it gives one, else PATH_INFO re-encoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return urlsplit(raw).path or "/"
    path = environ.get("PATH_INFO") or "/"
    # WSGI carries the path as latin-1 code points of its UTF-8 bytes (PEP 3333), as werkzeug decodes it
    path = path.encode("latin-1", "replace").decode("utf-8", "replace")
    return quote("/" + path.lstrip("/"), safe="/:@!$&'()*+,;=-._~")


def bearer_token(scheme: str) -> str | None:
    return token_from_header(request.headers.get("Authorization", ""), scheme)


def token_from_header(header: str, scheme: str) -> str | None:
    """The token after `scheme ` in an Authorization header (scheme case-insensitive), or None."""
    prefix = scheme + " "
    if header[: len(prefix)].lower() == prefix.lower():
        return header[len(prefix) :].strip() or None
    return None


def authenticate_forge() -> None:
    invocation, tenant = verify_forge_request(
        bearer_token("Bearer"), system_token=request.headers.get("x-forge-oauth-system")
    )
    admit_forge_caller(invocation, tenant)
    g.forge = invocation
    g.forge_system_token = request.headers.get("x-forge-oauth-system")
    g.forge_user_token = request.headers.get("x-forge-oauth-user")
    g.tenant = tenant
    g.account_id = invocation.principal
    bind(tenant=g.tenant.log_name)


def admit_forge_caller(invocation: ForgeInvocation, tenant: Tenant) -> None:
    """The route's own callers only (addon/platform/forge_callers.py); a wrong one is refused and audited."""
    rule = request.url_rule.rule if request.url_rule is not None else None
    try:
        forge_callers.check(rule, invocation, request.view_args)
    except forge_callers.WrongCaller as refused:
        log.warning(
            "refused a Forge call to %s from module %s (principal %s): %s",
            request.path,
            refused.module_key,
            "present" if invocation.principal else "absent",
            refused.reason,
        )
        # one audit line per caller, route and module a minute: a refused caller cannot fill the audit log
        if rate_limits.first_in_window(
            f"refused:{tenant.id}:{invocation.principal or '-'}:{rule}:{refused.module_key}"
        ):
            tenants.record(
                tenant,
                "forge_call_refused",
                actor=invocation.principal,
                route=rule,
                module=refused.module_key,
                reason=refused.reason,
            )
            db.session.commit()
        raise


def verify_forge_request(
    token: str | None, *, system_token: str | None, attach: bool = True
) -> tuple[ForgeInvocation, Tenant]:
    """The one Forge check, for Flask routes and the macro lane alike: the invocation token verified, its
    installation's tenant (made on its first call), and the newest system token kept for background work.
    `attach=False`: the process's cached copy of the tenant, for callers that only read it."""
    if not token:
        raise AuthError("missing_token", "This address needs a Forge invocation token.")
    config = current_app.config
    invocation = verify_invocation_token(
        token,
        app_id=config["FORGE_APP_ID"],
        jwks=services.jwks(),
        leeway=config["JWT_LEEWAY_SECONDS"],
        verified=services.verified_forge_tokens(),
    )
    tenant = tenants.tenant_for_forge(invocation, attach=attach)
    if system_token:
        # Forge's own calls come from its triggers: a token they carry cannot have been added by a frame
        from_trigger = not invocation.principal and invocation.module_key in forge_callers.TRIGGER_MODULES
        tenants.remember_system_token(tenant, system_token, from_trigger=from_trigger)
    return invocation, tenant


def authenticate_connect(allow_context_qsh: bool, require_enabled: bool = True) -> None:
    token = bearer_token("JWT") or request.args.get("jwt")
    verified, tenant = verify_connect_request(
        token,
        method=request.method,
        path=raw_path(),
        query_string=request.query_string.decode("utf-8", "surrogateescape"),
        allow_context_qsh=allow_context_qsh,
        require_enabled=require_enabled,
    )
    g.connect = verified
    g.tenant = tenant
    g.account_id = verified.account_id
    bind(tenant=g.tenant.log_name)


def verify_connect_request(
    token: str | None,
    *,
    method: str,
    path: str,
    query_string: str,
    allow_context_qsh: bool,
    require_enabled: bool = True,
    attach: bool = True,
) -> tuple[ConnectRequest, Tenant]:
    """The one Connect check, for Flask routes and for the macro lane alike: the token verified against
    the installation it names, and that installation (enabled, unless `require_enabled` is False).
    `attach=False` gives the process's cached copy of the tenant, not one bound to a database session:
    for callers that only read it."""
    if not token:
        raise AuthError("missing_token", "This address needs a token from Confluence.")
    config = current_app.config
    found: dict[str, Tenant | None] = {}

    def shared_secret_for(client_key: str) -> str | None:
        found["tenant"], secret = tenants.connect_installation(client_key, attach=attach)
        return secret

    verified = verify_request_token(
        token,
        method=method,
        path=path,
        query_string=query_string,
        base_path=_base_path(config["BASE_URL"]),
        shared_secret_for=shared_secret_for,
        app_key=config["APP_KEY"],
        allow_context_qsh=allow_context_qsh,
        leeway=config["JWT_LEEWAY_SECONDS"],
        verified=services.verified_connect_tokens(),
    )
    tenant = found.get("tenant")  # the installation whose secret verified the token
    assert tenant is not None, "a token verifies only against an installation's shared secret"
    return verified, tenants.require_enabled(tenant) if require_enabled else tenant


@functools.lru_cache(maxsize=8)
def _base_path(base_url: str) -> str:
    return urlsplit(base_url).path


def forge_invocation_required(view: Callable[_P, _R]) -> Callable[_P, _R]:
    """Forge Remote endpoints: a verified FIT from our app's installation."""

    @functools.wraps(view)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        authenticate_forge()
        return view(*args, **kwargs)

    return wrapper


def connect_jwt_required(
    allow_context_qsh: bool = False, require_enabled: bool = True
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Connect routes. `allow_context_qsh` only on iframe page routes (macros, admin page);
    `require_enabled=False` only for the enable/disable callbacks of a disabled app."""

    def decorator(view: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(view)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            authenticate_connect(allow_context_qsh, require_enabled)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def app_token_required(view: Callable[_P, _R]) -> Callable[_P, _R]:
    """Routes both transports call: a Forge FIT (Bearer) or a request-bound Connect JWT."""

    @functools.wraps(view)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if bearer_token("Bearer"):
            authenticate_forge()
        else:
            authenticate_connect(allow_context_qsh=False)
        return view(*args, **kwargs)

    return wrapper


def auth_error_response(error: AuthError) -> Response:
    log.info("request refused: %s %s %s", request.method, request.path, error.reason)
    response = jsonify(error=error.reason, message=error.public_message)
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="consonance-for-confluence"'
    return response
