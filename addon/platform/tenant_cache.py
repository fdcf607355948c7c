"""Tenants, their Connect shared secrets and their settings, cached in each process so a page view
costs no database round trip — and never trusted longer than the tenant's generation says.

Every committed change to a tenant row, its secrets or its settings (install, re-install with a new
secret, enable, disable, uninstall, settings saved) renews the tenant's generation right after the
commit (bulk SQL on those tables renews a global epoch): at once in the committing process, and in
every other process when the Redis pub/sub message arrives (addon/platform/invalidation.py; milliseconds).
While a process's subscription is down it does not trust its copies: it reads the generation from
Redis on each request (`c4c:tenant-gen:<id>`, one MGET memoised on `flask.g`), and if Redis cannot
be read, it reads the database. Without Redis (embedded mode: one process) generations live in
this process, and entries live only LOCAL_ENTRY_TTL_SECONDS (an operator command is another process). Entries also expire after ENTRY_TTL_SECONDS: the last bound for changes
made outside the ORM entirely, or landing between a process's very first read of a tenant and of its
generation.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy.orm import ORMExecuteState, Session

from addon.logs import OncePer
from addon.platform import invalidation
from addon.platform.models import Tenant, TenantOwned, TenantSecret
from addon.platform.services import view_redis

if TYPE_CHECKING:
    import redis

log = logging.getLogger("addon.platform.tenant_cache")

EXTENSION_KEY = "addon.platform.tenant_cache"
KEY_PREFIX = "c4c:tenant-gen:"
EPOCH_KEY = KEY_PREFIX + "epoch"
BUS_PREFIX = "tenant:"
ENTRY_TTL_SECONDS = 60
# Without Redis no other process can tell this one of a change, yet operator commands (`flask tenants
# connect-consonance`, `flask demo set-up`) are other processes: their changes show within this bound.
LOCAL_ENTRY_TTL_SECONDS = 3
_DIRTY = "c4c_changed_tenants"

Generation = tuple[object, ...]  # compared for equality only
_Value = TypeVar("_Value")


@dataclass(frozen=True)
class Entry:
    generation: Generation
    stored_at: float
    value: object


class TenantCache:
    """Per-process entries by (kind, tenant id), valid while the tenant's generation is unchanged."""

    def __init__(
        self,
        redis_client: redis.Redis | None = None,
        clock: Callable[[], float] = time.monotonic,
        ttl_seconds: float = ENTRY_TTL_SECONDS,
        bus: invalidation.Bus | None = None,
    ) -> None:
        self.redis = redis_client
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self.bus = bus
        self._entries: dict[tuple[str, int], Entry] = {}
        self._local: dict[str, str] = {}  # generations when there is no Redis (one process)
        self._heard: dict[int, int] = {}  # tenant id -> invalidations heard on the bus
        self._heard_epoch = 0
        self.ids: dict[tuple[str, str], int] = {}  # (transport, external id) -> tenant id, which never changes
        self._lock = threading.Lock()
        self._unreadable = OncePer(log)
        if bus is not None:
            bus.listen(BUS_PREFIX, self._on_message, self._on_reset)

    def _on_message(self, rest: str) -> None:
        with self._lock:
            if rest == "*":
                self._heard_epoch += 1
                self._entries.clear()
            else:
                tenant_id = int(rest)
                self._heard[tenant_id] = self._heard.get(tenant_id, 0) + 1

    def _on_reset(self) -> None:
        self._on_message("*")

    # --- generations ------------------------------------------------------------------------

    def generation(self, tenant_id: int) -> Generation | None:
        """The tenant's current generation (with the global epoch); None when it cannot be known."""
        memo: dict[int, Generation] | None = (
            g.setdefault("_c4c_tenant_generations", {}) if has_request_context() else None
        )
        if memo is not None and tenant_id in memo:
            return memo[tenant_id]
        key = KEY_PREFIX + str(tenant_id)
        if self.bus is not None and self.bus.healthy:
            return ("heard", self._heard.get(tenant_id, 0), self._heard_epoch)
        found: Generation
        if self.redis is None:
            with self._lock:
                found = (self._local.get(key, ""), self._local.get(EPOCH_KEY, ""))
        else:
            try:
                found = tuple(value or b"" for value in self.redis.mget([key, EPOCH_KEY]))
            except Exception as exc:  # noqa: BLE001 - any Redis failure means: do not trust the cache
                self._unreadable.warning(
                    "tenant generations unreadable, reading from the database: %s", exc.__class__.__name__
                )
                return None
        if memo is not None:
            memo[tenant_id] = found
        return found

    def renew(self, tenant_ids: Collection[int] = (), epoch: bool = False) -> None:
        """New generations after a commit: every process drops what it cached for these tenants."""
        keys = [KEY_PREFIX + str(i) for i in tenant_ids] + ([EPOCH_KEY] if epoch else [])
        if not keys:
            return
        with self._lock:
            if epoch:
                self._entries.clear()
                self._heard_epoch += 1
            else:
                for kind, tenant_id in list(self._entries):
                    if tenant_id in tenant_ids:
                        del self._entries[(kind, tenant_id)]
            for tenant_id in tenant_ids:
                self._heard[tenant_id] = self._heard.get(tenant_id, 0) + 1
        if has_app_context():  # the memo lives on `g`, which an app context shares with its requests
            g.pop("_c4c_tenant_generations", None)
        values = {key: uuid.uuid4().hex for key in keys}
        if self.redis is None:
            with self._lock:
                self._local.update(values)
            return
        try:
            self.redis.mset(values)
        except Exception as exc:  # noqa: BLE001
            log.error(
                "could not renew tenant generations %s (other processes keep their copy up to %ss): %s",
                sorted(values),
                self.ttl_seconds,
                exc.__class__.__name__,
            )
        if self.bus is not None:
            for tenant_id in tenant_ids:
                self.bus.publish(f"{BUS_PREFIX}{tenant_id}")
            if epoch:
                self.bus.publish(BUS_PREFIX + "*")

    # --- entries ----------------------------------------------------------------------------

    def get(self, kind: str, tenant_id: int, generation: Generation | None, of: type[_Value]) -> _Value | None:
        """The `of` kept for (kind, tenant) at this generation, if still fresh (each kind keeps one type)."""
        if generation is None:
            return None
        entry = self._entries.get((kind, tenant_id))
        if entry is None or entry.generation != generation or self.clock() - entry.stored_at > self.ttl_seconds:
            return None
        return entry.value if isinstance(entry.value, of) else None

    def put(self, kind: str, tenant_id: int, generation: Generation | None, value: object) -> None:
        """Keep `value`, read from the database *after* `generation` was read (so a later change wins)."""
        if generation is None:
            return
        with self._lock:
            self._entries[(kind, tenant_id)] = Entry(generation, self.clock(), value)


def current() -> TenantCache | None:
    """This app's cache (made on first use: Redis generations when REDIS_URL is set); None outside an app."""
    if not has_app_context():
        return None
    cache: TenantCache | None = current_app.extensions.get(EXTENSION_KEY)
    if cache is None:
        url = current_app.config.get("REDIS_URL") or ""
        client = bus = None
        if url:
            client = view_redis()
            bus = invalidation.bus(current_app)
        ttl = ENTRY_TTL_SECONDS if url else LOCAL_ENTRY_TTL_SECONDS
        cache = current_app.extensions.setdefault(EXTENSION_KEY, TenantCache(client, ttl_seconds=ttl, bus=bus))
    return cache


# --- invalidation: every ORM commit that touches a tenant, its secrets or its settings ---------

# compiled_standards: a newly compiled standards page changes the checklist every macro view shows.
_TRACKED_TABLES = ("tenant", "tenant_secret", "tenant_settings", "compiled_standards")
# Secrets no cached value is built from (tenants.py names them): writing one must not renew the tenant,
# or every change of, say, the Forge system token (handed over on invocations) would drop the site's memoised views.
_UNTRACKED_SECRETS: set[str] = set()


def untrack_secret(name: str) -> None:
    _UNTRACKED_SECRETS.add(name)


def tracks_secret(name: str) -> bool:
    """Whether writing this secret renews its tenant (so a copy of it may be kept against the generation)."""
    return name not in _UNTRACKED_SECRETS


def _tenant_id_of(obj: object) -> int | None:
    if isinstance(obj, Tenant):
        return obj.id
    if isinstance(obj, TenantSecret) and obj.name in _UNTRACKED_SECRETS:
        return None
    if isinstance(obj, TenantOwned) and getattr(obj, "__tablename__", None) in _TRACKED_TABLES:
        return obj.tenant_id
    return None


def _after_flush(session: Session, _context: object) -> None:
    changed: set[int | str] = session.info.setdefault(_DIRTY, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        tenant_id = _tenant_id_of(obj)
        if tenant_id is not None:
            changed.add(tenant_id)


def _bulk_statement(state: ORMExecuteState) -> None:
    """UPDATE/DELETE statements on the tracked tables: renew the tenant if it is named, else everyone."""
    if not (state.is_update or state.is_delete):
        return
    tables = {getattr(m, "local_table", None) for m in state.all_mappers}
    names = {t.name for t in tables if t is not None}
    if not names & set(_TRACKED_TABLES):
        return
    tenant_ids = _named_tenant_ids(state.statement)
    changed: set[int | str] = state.session.info.setdefault(_DIRTY, set())
    if tenant_ids is None:
        changed.add("*")
    else:
        changed.update(tenant_ids)


def _named_tenant_ids(statement: object) -> set[int] | None:
    """`WHERE tenant_id = <n>` / `WHERE id = <n>` on the tenant table, or None if not that simple."""
    where = getattr(statement, "whereclause", None)
    clauses = list(where.clauses) if isinstance(where, sa.sql.elements.BooleanClauseList) else [where]
    for clause in clauses:
        if isinstance(clause, sa.sql.elements.BinaryExpression) and getattr(clause.left, "name", None) in (
            "tenant_id",
            "id",
        ):
            table = getattr(clause.left, "table", None)
            if clause.left.name == "id" and getattr(table, "name", None) != "tenant":
                continue
            value = getattr(clause.right, "value", None)
            if isinstance(value, int):
                return {value}
    return None


def _after_commit(session: Session) -> None:
    changed: set[int | str] | None = session.info.pop(_DIRTY, None)
    if not changed:
        return
    cache = current()
    if cache is not None:
        cache.renew({i for i in changed if isinstance(i, int)}, epoch="*" in changed)


sa.event.listen(Session, "after_flush", _after_flush)
sa.event.listen(Session, "do_orm_execute", _bulk_statement)
sa.event.listen(Session, "after_commit", _after_commit)
