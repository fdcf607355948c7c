"""Tenants: made on a Forge installation's first valid call or a signed Connect install.

Secrets go through the secret box before they touch the database; an uninstall disables
the tenant and destroys its secrets, keeping only the audit trail.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from addon.extensions import db
from addon.platform import tenant_cache
from addon.platform.errors import AuthError
from addon.platform.forge_tokens import ForgeInvocation
from addon.platform.models import AuditEntry, Tenant, TenantSecret, tenant_query, utcnow
from addon.platform.services import platform_services, secret_box

log = logging.getLogger("addon.platform.tenants")

FORGE = "forge"
CONNECT = "connect"
SHARED_SECRET = "connect_shared_secret"
CONSONANCE_API_KEY = "consonance_api_key"
CONSONANCE_KEY_HOST = "consonance_key_host"  # the address the key was saved for: it goes nowhere else
FORGE_SYSTEM_TOKEN = "forge_system_token"
tenant_cache.untrack_secret(FORGE_SYSTEM_TOKEN)  # read fresh where used (background calls), never cached
FORGE_SYSTEM_TOKEN_BY_TRIGGER = "forge_system_token_by_trigger"  # when a trigger last handed one over (ISO)
tenant_cache.untrack_secret(FORGE_SYSTEM_TOKEN_BY_TRIGGER)
TRIGGER_TOKEN_PRECEDENCE = timedelta(minutes=10)  # the scheduled trigger comes every five


class InstallPayloadError(ValueError):
    """An install payload that is missing or has malformed fields."""


def find_tenant(transport: str, external_id: str) -> Tenant | None:
    return db.session.execute(
        sa.select(Tenant).where(Tenant.transport == transport, Tenant.external_id == external_id)
    ).scalar_one_or_none()


def record(tenant: Tenant, action: str, actor: str | None = None, **detail: object) -> AuditEntry:
    entry = AuditEntry(tenant_id=tenant.id, action=action, actor=actor, detail=detail)
    db.session.add(entry)
    return entry


# --- secrets -------------------------------------------------------------------------------


def set_secret(tenant: Tenant, name: str, value: str) -> None:
    row = db.session.execute(tenant_query(TenantSecret, tenant).where(TenantSecret.name == name)).scalar_one_or_none()
    ciphertext = secret_box().encrypt(value)
    if row is None:
        db.session.add(TenantSecret(tenant_id=tenant.id, name=name, ciphertext=ciphertext))
    else:
        row.ciphertext = ciphertext


def get_secret(tenant: Tenant, name: str) -> str | None:
    row = db.session.execute(tenant_query(TenantSecret, tenant).where(TenantSecret.name == name)).scalar_one_or_none()
    return secret_box().decrypt(row.ciphertext) if row else None


def kept_secret(tenant: Tenant, name: str) -> str | None:
    """`get_secret`, kept decrypted in this process while the tenant's generation is unchanged (every commit
    to its secrets renews it), so a page view that reaches an outside system costs no query or decryption.
    An untracked secret (the Forge system token) renews nothing when it changes, so it is always read fresh."""
    cache = tenant_cache.current() if tenant_cache.tracks_secret(name) else None
    if cache is None:
        return get_secret(tenant, name)
    generation = cache.generation(tenant.id)
    kept = cache.get("secret:" + name, tenant.id, generation, _KeptSecret)
    if kept is not None:
        return kept.value
    value = get_secret(tenant, name)
    if generation is not None:
        cache.put("secret:" + name, tenant.id, generation, _KeptSecret(value))
    return value


@dataclass(frozen=True)
class _KeptSecret:
    """A secret as kept in the tenant cache: None (no such secret) is kept too."""

    value: str | None


def set_consonance_key(tenant: Tenant, api_key: str, host: str) -> None:
    """Keep the Consonance key together with the one address it may be sent to (no commit)."""
    set_secret(tenant, CONSONANCE_API_KEY, api_key)
    set_secret(tenant, CONSONANCE_KEY_HOST, normalised_host(host))


def consonance_key_for(tenant: Tenant, host: str | None) -> str | None:
    """The saved key if it was saved for `host`, else None: a host changed by any path gets no key.
    A key saved before keys were bound to a host (no binding kept) belongs to the host saved with it."""
    api_key = kept_secret(tenant, CONSONANCE_API_KEY)
    if not api_key or not host:
        return None
    bound = kept_secret(tenant, CONSONANCE_KEY_HOST)
    return api_key if bound is None or bound == normalised_host(host) else None


def consonance_key_host(tenant: Tenant) -> str | None:
    return kept_secret(tenant, CONSONANCE_KEY_HOST)


def normalised_host(host: str) -> str:
    return (host or "").strip().rstrip("/").lower()


def rotate_secrets() -> int:
    """Re-encrypt every stored secret under the current (first) key; returns rows rewritten."""
    box = secret_box()
    rows = db.session.execute(sa.select(TenantSecret)).scalars().all()
    for row in rows:
        row.ciphertext = box.rotate(row.ciphertext)
    db.session.commit()
    log.info("re-encrypted %d tenant secrets under the current key", len(rows))
    return len(rows)


def connect_shared_secret(client_key: str) -> str | None:
    """The shared secret of an installed Connect tenant (uninstall destroys it), for verifying its requests."""
    return connect_installation(client_key)[1]


def connect_installation(client_key: str, attach: bool = True) -> tuple[Tenant | None, str | None]:
    """(tenant, shared secret) of a Connect site, from this process's cache while the tenant's generation
    is unchanged (tenant_cache); the secret is None once uninstalled. With `attach=False` a cached tenant is
    the process's shared read-only copy rather than this session's instance."""
    cache = tenant_cache.current()
    tenant_id = cache.ids.get((CONNECT, client_key)) if cache else None
    generation = None
    if cache is not None and tenant_id is not None:
        generation = cache.generation(tenant_id)
        cached = cache.get("connect", tenant_id, generation, _ConnectSite)
        if cached is not None:
            return (_attach(cached.tenant) if attach else cached.tenant), cached.shared_secret
    tenant = find_tenant(CONNECT, client_key)
    if tenant is None:
        return None, None
    secret = None if tenant.uninstalled_at is not None else get_secret(tenant, SHARED_SECRET)
    if cache is not None:
        if generation is None or cache.ids.get((CONNECT, client_key)) != tenant.id:
            cache.ids[(CONNECT, client_key)] = tenant.id
            generation = cache.generation(tenant.id)
        cache.put("connect", tenant.id, generation, _ConnectSite(_snapshot(tenant), secret))
    return tenant, secret


@dataclass(frozen=True)
class _ConnectSite:
    """A Connect site as kept in the tenant cache: the tenant row's snapshot and its shared secret."""

    tenant: Tenant
    shared_secret: str | None


def _snapshot(tenant: Tenant) -> Tenant:
    """A detached copy of the row as loaded, kept between requests."""
    copy = Tenant(**{column.key: getattr(tenant, column.key) for column in sa.inspect(Tenant).column_attrs})
    sa.orm.make_transient_to_detached(copy)
    return copy


def _attach(snapshot: Tenant) -> Tenant:
    """The cached row as this request's session's own instance, without a query (changes still save)."""
    return db.session.merge(snapshot, load=False)


# --- Forge ---------------------------------------------------------------------------------


def tenant_for_forge(invocation: ForgeInvocation, attach: bool = True) -> Tenant:
    """The tenant for a verified invocation, made (or re-enabled) on its first call. With `attach=False` a
    cached tenant is the process's shared read-only copy rather than this session's instance."""
    cache = tenant_cache.current()
    tenant_id = cache.ids.get((FORGE, invocation.installation_id)) if cache else None
    generation = cache.generation(tenant_id) if cache is not None and tenant_id is not None else None
    cached = cache.get("forge", tenant_id, generation, Tenant) if cache is not None and tenant_id is not None else None
    if (
        cached is not None
        and cached.enabled
        and all(
            not value or getattr(cached, field) == value
            for field, value in (
                ("cloud_id", invocation.cloud_id),
                ("site_url", invocation.site_url),
                ("api_base_url", invocation.api_base_url),
            )
        )
    ):
        return _attach(cached) if attach else cached
    tenant = _tenant_for_forge(invocation)
    if cache is not None and tenant.id is not None:
        cache.ids[(FORGE, invocation.installation_id)] = tenant.id
        cache.put(
            "forge", tenant.id, cache.generation(tenant.id) if generation is None else generation, _snapshot(tenant)
        )
    return tenant


def _tenant_for_forge(invocation: ForgeInvocation) -> Tenant:
    tenant = find_tenant(FORGE, invocation.installation_id)
    if tenant is None:
        tenant = Tenant(
            transport=FORGE,
            external_id=invocation.installation_id,
            cloud_id=invocation.cloud_id,
            site_url=invocation.site_url,
            api_base_url=invocation.api_base_url,
            enabled=True,
        )
        db.session.add(tenant)
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            # Another process made it between our read and write: use theirs.
            db.session.rollback()
            tenant = find_tenant(FORGE, invocation.installation_id)
            if tenant is None:
                raise
            return tenant
        record(tenant, "installed", actor=invocation.principal, transport=FORGE, site_url=invocation.site_url)
        db.session.commit()
        log.info("forge installation registered: %s", tenant.log_name)
        return tenant
    changed = False
    for field, value in (
        ("cloud_id", invocation.cloud_id),
        ("site_url", invocation.site_url),
        ("api_base_url", invocation.api_base_url),
    ):
        if value and getattr(tenant, field) != value:
            setattr(tenant, field, value)
            changed = True
    if not tenant.enabled:
        tenant.enabled = True
        tenant.uninstalled_at = None
        record(tenant, "reinstalled", actor=invocation.principal, transport=FORGE)
        changed = True
    if changed:
        db.session.commit()
    return tenant


def remember_system_token(tenant: Tenant, token: str, *, from_trigger: bool = False) -> None:
    """Keep the newest `x-forge-oauth-system` token, for background work between invocations.

    A trigger's token (Forge posting to us on its own: lifecycle, page events, the five-minute schedule) always
    replaces the kept one. A token on a UI module's call replaces it only when no trigger has handed one over
    for ten minutes: a frame may add any header to a call it makes straight to us (`requestRemote`), so a
    viewer could otherwise swap in a token of their choosing and stop the site's background work. A page view
    whose token was looked at before costs no database read or write.
    """
    seen = platform_services()["seen_system_tokens"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    if not from_trigger and seen.get(tenant.id) == digest:
        return
    if not from_trigger:
        stamp = get_secret(tenant, FORGE_SYSTEM_TOKEN_BY_TRIGGER)
        if stamp and utcnow() - datetime.fromisoformat(stamp) < TRIGGER_TOKEN_PRECEDENCE:
            seen[tenant.id] = digest  # looked at: the trigger's token stands
            return
    if get_secret(tenant, FORGE_SYSTEM_TOKEN) != token:
        set_secret(tenant, FORGE_SYSTEM_TOKEN, token)
    if from_trigger:
        set_secret(tenant, FORGE_SYSTEM_TOKEN_BY_TRIGGER, utcnow().isoformat())
    db.session.commit()
    seen[tenant.id] = digest


# --- Connect -------------------------------------------------------------------------------


def validate_install_payload(payload: object, app_key: str) -> dict[str, Any]:
    """An `installed` callback's body: the lifecycle fields and a shared secret long enough to sign with."""
    payload = validate_uninstall_payload(payload, app_key, what="install")
    if not isinstance(payload.get("sharedSecret"), str) or not payload["sharedSecret"].strip():
        raise InstallPayloadError("The install payload lacks `sharedSecret`.")
    if len(payload["sharedSecret"]) < 32:
        raise InstallPayloadError("The install payload's `sharedSecret` is too short.")
    return payload


def validate_uninstall_payload(payload: object, app_key: str, what: str = "uninstall") -> dict[str, Any]:
    """An `uninstalled` callback's body: the lifecycle fields naming the app and the site. No shared secret:
    Atlassian need not send one to uninstall, and nothing here would store it."""
    if not isinstance(payload, dict):
        raise InstallPayloadError(f"The {what} payload must be a JSON object.")
    for field in ("key", "clientKey", "baseUrl"):
        if not isinstance(payload.get(field), str) or not payload[field].strip():
            raise InstallPayloadError(f"The {what} payload lacks `{field}`.")
    if payload["key"] != app_key:
        raise InstallPayloadError(f"The {what} payload is for another app key.")
    parts = urlsplit(payload["baseUrl"])
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InstallPayloadError(f"The {what} payload's `baseUrl` is not an absolute URL.")
    return payload


def install_connect(payload: dict[str, Any]) -> Tenant:
    """Store a signed install. Callers verify the RS256 signature first; nothing else reaches here."""
    client_key = payload["clientKey"]
    base_url = payload["baseUrl"].rstrip("/")
    site = urlsplit(base_url)
    tenant = find_tenant(CONNECT, client_key)
    action = "installed" if tenant is None else "reinstalled"
    if tenant is None:
        tenant = Tenant(transport=CONNECT, external_id=client_key)
        db.session.add(tenant)
    tenant.api_base_url = base_url
    tenant.site_url = f"{site.scheme}://{site.netloc}"
    tenant.display_url = (payload.get("displayUrl") or base_url).rstrip("/")
    tenant.cloud_id = payload.get("cloudId") or tenant.cloud_id
    tenant.enabled = True
    tenant.uninstalled_at = None
    db.session.flush()
    set_secret(tenant, SHARED_SECRET, payload["sharedSecret"])
    record(tenant, action, actor=payload.get("accountId") or None, transport=CONNECT, base_url=base_url)
    db.session.commit()
    log.info("connect installation %s: %s", action, tenant.log_name)
    return tenant


def set_enabled(tenant: Tenant, enabled: bool, actor: str | None = None) -> None:
    tenant.enabled = enabled
    record(tenant, "enabled" if enabled else "disabled", actor=actor)
    db.session.commit()


def uninstall(tenant: Tenant, actor: str | None = None) -> None:
    """Disable the tenant and destroy its secrets; the audit trail stays."""
    db.session.execute(sa.delete(TenantSecret).where(TenantSecret.tenant_id == tenant.id))
    tenant.enabled = False
    tenant.uninstalled_at = utcnow()
    record(tenant, "uninstalled", actor=actor)
    db.session.commit()
    log.info("uninstalled and secrets destroyed: %s", tenant.log_name)


def require_enabled(tenant: Tenant | None) -> Tenant:
    if tenant is None or not tenant.enabled:
        raise AuthError(
            "unknown_installation", "This Confluence site has not installed the app (or has uninstalled it)."
        )
    return tenant
