"""The macro use case: which title, from the cache or Consonance, into which view model.

Transports (Forge resolver, Connect iframe, static export) call `panel`; it never raises for
anything an editor can meet (no title, unknown title, Consonance unset, down or slow): those become
friendly message views. A cached view costs no database round trip at all: settings come from the
process's tenant cache, and the view model for the same data, settings generation and day is reused
(`render_key` names it, so the renderer can reuse the HTML too). The macro lane asks `cached_panel`
first: the same answer when this process already has it, else None.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app

from addon.confluence.errors import ConfluenceError
from addon.confluence.storage_parse import StorageParseError, find_tables
from addon.consonance.budget import PlaceAhead
from addon.consonance.errors import ConsonanceAuthError, ConsonanceError, ConsonanceUnavailable
from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import TransportOptions
from addon.gateways import NotConfigured, gateways
from addon.lru import BoundedLRU
from addon.macros import views
from addon.macros.cache import (
    CacheWaitTimeout,
    FailoverStore,
    Lookup,
    MacroCache,
    MemoryStore,
    RedisStore,
    Rider,
    when_answered,
)
from addon.platform import invalidation, own_writes, tenant_cache
from addon.platform.models import Tenant
from addon.platform.services import view_redis
from addon.publishing.domain import Title, normalise_isbn
from addon.publishing.guidance import guidance_for, stage_guide_from_tables
from addon.publishing.readiness import ReadinessPolicy
from addon.publishing.schedule import ReadinessSchedule, StageDeadlines, schedule_from_tables
from addon.publishing.standards import DEFAULT_RULE_SET
from addon.settings.service import get_settings
from addon.standards.service import current_rule_set
from addon.titles.service import work_id_for_page

log = logging.getLogger("addon.macros")

CACHE_EXTENSION = "addon.macros.cache"
VIEWS_EXTENSION = "addon.macros.views"
VIEWS_KEPT = 1024  # view models kept per process (viewer-independent, so one per title/macro/data version)
REFRESH_INTERVAL_SECONDS = 15  # at most one cache-bypassing Refresh per title per this interval
_WORK_ID = re.compile(r"^[0-9]{1,18}$")


def macro_cache() -> MacroCache:
    """The app's shared cache: Redis when REDIS_URL is set (production), else this process's memory."""
    cache = current_app.extensions.get(CACHE_EXTENSION)
    if cache is None:
        url = current_app.config.get("REDIS_URL") or ""
        bus = None
        store: FailoverStore | MemoryStore
        if url:
            import redis

            store = FailoverStore(RedisStore(view_redis()), errors=(redis.RedisError,))
            bus = invalidation.bus(current_app)
        else:
            store = MemoryStore()
        cache = MacroCache(store, wait_timeout=12.0, fallback_errors=(ConsonanceError,), bus=bus)
        cache = current_app.extensions.setdefault(CACHE_EXTENSION, cache)
    return cache


@dataclass(frozen=True)
class TitleRef:
    """What a macro parameter names: a Consonance work id or an ISBN-13."""

    kind: str  # "work" | "isbn"
    value: str

    @property
    def cache_suffix(self) -> str:
        return f"{self.kind}:{self.value}"


def parse_title_ref(raw: str | None) -> TitleRef | None:
    """A work id ("123") or an ISBN in any hyphenation; None when it is neither."""
    text = (raw or "").strip()
    if not text:
        return None
    isbn = normalise_isbn(text)
    if isbn and (len(text) > 10 or not text.isdigit()):
        return TitleRef("isbn", isbn)
    if _WORK_ID.match(text):
        return TitleRef("work", text)
    return None


@dataclass(frozen=True)
class MacroRequest:
    tenant: Tenant
    macro_key: str
    title_ref: str = ""  # the macro's parameter (may be empty)
    page_id: str | None = None  # the page the macro sits on
    refresh: bool = False
    # Asked only when a message differs for admins (Consonance not connected, key refused): one Confluence call.
    admin_check: Callable[[], bool] | None = None
    # False for someone not logged in whose title comes from the address they loaded (a Connect iframe's
    # `title=`, which the context token does not sign): they could name any title, so they are shown none.
    viewer_may_name_title: bool = True


@dataclass(frozen=True)
class PanelResult:
    view: dict  # shared between requests when render_key is set: read it, never change it
    title: Title | None = None
    fetched_at: float | None = None
    render_key: tuple | None = None  # same key, same view: set when the view may be cached


class ViewMemo(BoundedLRU[tuple, PanelResult]):
    """Recently built view models by everything they depend on; VIEWS_KEPT per process."""

    def __init__(self, size: int = VIEWS_KEPT):
        super().__init__(size)


def _view_memo() -> ViewMemo:
    memo = current_app.extensions.get(VIEWS_EXTENSION)
    if memo is None:
        memo = current_app.extensions.setdefault(VIEWS_EXTENSION, ViewMemo())
    return memo


def cache_key(tenant: Tenant, ref: TitleRef) -> str:
    return f"t{tenant.id}:title:{ref.cache_suffix}"


# Someone is waiting for the page: fail over to the last good copy fast instead of retrying for 30 s.
INTERACTIVE_OPTIONS = TransportOptions(
    connect_timeout=2.0, read_timeout=8.0, max_attempts=2, max_total_seconds=10.0, backoff_base=0.2
)
_interactive: dict[int, tuple[ConsonanceGateway, ConsonanceGateway]] = {}
_interactive_lock = threading.Lock()


def interactive_gateway(tenant: Tenant) -> ConsonanceGateway:
    """The tenant's Consonance connection with page-view timeouts; follows the pooled gateway's host/key changes."""
    pooled = gateways().consonance(tenant)  # raises NotConfigured
    with _interactive_lock:
        known = _interactive.get(tenant.id)
        if known and known[0] is pooled:
            if (known[1].profile.checked_at or "") <= (pooled.profile.checked_at or ""):
                known[1].profile = pooled.profile  # what the tenant's Consonance offers, as last found
            return known[1]
        gateway = ConsonanceGateway(
            pooled.connection,
            INTERACTIVE_OPTIONS,
            connections=pooled.transport.connections,  # one set of kept, vetted connections per Consonance
            profile=pooled.profile,
            budget=pooled.transport.budget,
        )
        if known:
            known[1].close()
        _interactive[tenant.id] = (pooled, gateway)
        return gateway


def _loader(tenant: Tenant, ref: TitleRef, place: PlaceAhead | None = None):
    def load():
        with place.in_use() if place is not None else nullcontext():
            gateway = interactive_gateway(tenant)
            return gateway.title(ref.value) if ref.kind == "work" else gateway.title_by_isbn(ref.value)

    return load


def lookup_title(tenant: Tenant, ref: TitleRef, freshness_seconds: int, refresh: bool = False) -> tuple[Lookup, bool]:
    """(cache lookup, whether a Refresh was refused by the rate limit). Raises what the loader raises
    when there is no earlier copy to fall back on.

    A first view goes to Redis twice: the lookup trip also takes the Consonance request's place in the
    tenant's budget (only if the cache's lock comes to this view) and reads the title's own-write marks; the
    write trip gives the place back. Each was a round trip of its own. Inside `cache.writes_after_answer`
    the write, and so the place's return, wait until the view's answer is sent."""
    cache = macro_cache()
    key = cache_key(tenant, ref)
    force = refresh and cache.store.allow("refresh:" + key, REFRESH_INTERVAL_SECONDS)
    budget = gateways().budget(tenant)
    place = PlaceAhead(budget) if budget.redis is not None else None
    riders: list[Rider] = [place] if place is not None else []
    marks = own_writes.read_ahead(tenant.id, ref.value) if ref.kind == "work" else None
    if marks is not None:
        riders.append(marks)
    try:
        return cache.fetch(key, _loader(tenant, ref, place), freshness_seconds, force=force, riders=riders), (
            refresh and not force
        )
    finally:
        if place is not None:
            when_answered(place.finish)  # after the write, which gives the place back in its trip


def _viewer_is_admin(request: MacroRequest) -> bool:
    return bool(request.admin_check and request.admin_check())


def _stage_guide_key(tenant: Tenant, page_id: str) -> str:
    return f"t{tenant.id}:stage-guide-tables:{page_id}"


def lookup_stage_guide(tenant: Tenant, settings) -> Lookup | None:
    """The admin's stage guide page's tables (Stage | Reviewers | Next step, and optionally Weeks before
    publication | Must be in place), shared and cached like titles; None when none is chosen or it cannot
    be read yet (the default next steps and readiness schedule apply)."""
    page_id = settings.stage_guide_page_id
    if not page_id:
        return None

    def load():
        return find_tables(gateways().confluence(tenant).get_page(page_id).body or "")

    try:
        return macro_cache().fetch(_stage_guide_key(tenant, page_id), load, settings.macro_freshness_seconds)
    except (ConfluenceError, StorageParseError, NotConfigured, CacheWaitTimeout) as exc:
        log.warning("stage guide page %s unavailable for the title panel: %s", page_id, exc.__class__.__name__)
        return None


def resolve_ref(request: MacroRequest) -> tuple[TitleRef | None, str]:
    """The macro's parameter, or else the title the page's page set belongs to; and the raw text."""
    raw = (request.title_ref or "").strip()
    if raw:
        return parse_title_ref(raw), raw
    work_id = work_id_for_page(request.tenant, request.page_id)
    return (TitleRef("work", str(work_id)), str(work_id)) if work_id else (None, "")


def _today(settings, today: date | None) -> date:
    return today or datetime.fromtimestamp(time.time(), views._zone(settings.summary_timezone)).date()


def _render_key(
    request: MacroRequest,
    ref: TitleRef,
    lookup: Lookup,
    limited: bool,
    today: date,
    guide: Lookup | None,
    pending: dict | None,
) -> tuple | None:
    """Everything a view model depends on; None while the tenant's settings generation is unknown."""
    cache = tenant_cache.current()
    generation = cache.generation(request.tenant.id) if cache is not None else None
    if generation is None:
        return None
    return (
        request.tenant.id,
        generation,
        request.macro_key,
        ref.cache_suffix,
        lookup.fetched_at,
        lookup.fresh,
        lookup.refreshing,
        lookup.error,
        limited,
        today,
        request.tenant.site_url,
        guide.fetched_at if guide else None,
        tuple(sorted(pending.items())) if pending else None,
    )


def _uses_stage_guide(macro_key: str) -> bool:
    return macro_key in ("title-status", "launch-readiness")


def _pending_stage(request: MacroRequest, title: Title) -> dict | None:
    """A stage move we wrote and Consonance has not confirmed yet (the panel says "pending")."""
    if request.macro_key != "title-status":
        return None
    return own_writes.pending_stage_move(request.tenant.id, title.work_id)


def cached_panel(request: MacroRequest, today: date | None = None) -> PanelResult | None:
    """The panel this process already built for the title's current data, the tenant's settings and
    the day (the macro lane's question), else None; reads nothing but memory (and the shared cache
    while the invalidation bus is not listening).

    None whenever answering would take more: a page whose title is in the database, data not yet in
    the cache, a message view (never memoised: some ask who is looking)."""
    raw = (request.title_ref or "").strip()
    ref = parse_title_ref(raw) if raw else None
    if ref is None or not request.viewer_may_name_title:
        return None
    settings = get_settings(request.tenant)
    cache = macro_cache()
    lookup = cache.peek(cache_key(request.tenant, ref), settings.macro_freshness_seconds)
    if lookup is None or lookup.value is None:
        return None
    if own_writes.superseded(request.tenant.id, lookup.value.work_id, lookup.fetched_at):
        return None  # Consonance holds something newer (our own write, or a poll saw it): the full path reads it
    guide = None
    if _uses_stage_guide(request.macro_key) and settings.stage_guide_page_id:
        guide = cache.peek(
            _stage_guide_key(request.tenant, settings.stage_guide_page_id), settings.macro_freshness_seconds
        )
        if guide is None:
            return None
    pending = _pending_stage(request, lookup.value)
    render_key = _render_key(request, ref, lookup, False, _today(settings, today), guide, pending)
    return None if render_key is None else _view_memo().get(render_key)


def panel(request: MacroRequest, today: date | None = None) -> PanelResult:
    """The view model for one macro on one page, never an exception for what an editor can meet."""
    key = request.macro_key
    if not request.viewer_may_name_title:
        return _message(key, "log_in")
    ref, raw = resolve_ref(request)
    if ref is None:
        return _message(key, "not_found" if raw else "no_title", title_ref=raw)
    settings = get_settings(request.tenant)
    try:
        lookup, limited = lookup_title(request.tenant, ref, settings.macro_freshness_seconds, request.refresh)
    except NotConfigured:
        return _message(key, "not_configured", viewer_is_admin=_viewer_is_admin(request))
    except ConsonanceAuthError:
        return _message(key, "auth_failed", viewer_is_admin=_viewer_is_admin(request))
    except (ConsonanceUnavailable, CacheWaitTimeout):
        return _message(key, "unavailable")
    except ConsonanceError:
        log.exception("Consonance query failed for %s", ref.cache_suffix)
        return _message(key, "error")
    title = lookup.value
    if title is None:
        return _message(key, "not_found", title_ref=raw)
    if own_writes.superseded(request.tenant.id, title.work_id, lookup.fetched_at):
        lookup = macro_cache().fetch(
            cache_key(request.tenant, ref), _loader(request.tenant, ref), settings.macro_freshness_seconds, force=True
        )
        title = lookup.value
        if title is None:
            return _message(key, "not_found", title_ref=raw)
    pending = _pending_stage(request, title)
    today = _today(settings, today)
    guide = lookup_stage_guide(request.tenant, settings) if _uses_stage_guide(key) else None
    render_key = _render_key(request, ref, lookup, limited, today, guide, pending)
    if render_key is not None:
        known = _view_memo().get(render_key)
        if known is not None:
            return known
    result = _build_view(request, key, title, lookup, limited, settings, today, guide.value if guide else (), pending)
    if render_key is not None:
        result = PanelResult(result.view, title, lookup.fetched_at, render_key)
        _view_memo().put(render_key, result)
    return result


def _message(key: str, kind: str, **details) -> PanelResult:
    """A friendly message view; never memoised (messages are cheap, and some ask who is looking)."""
    return PanelResult(views.message_view(key, kind, **details))


def _decisions_not_sent(tenant: Tenant) -> str | None:
    """Why decisions from the panel stay in Confluence only (this Consonance takes no notes), else None."""
    try:
        status = gateways().consonance(tenant).profile.feature("notes")
    except NotConfigured:
        return None
    return None if status.available else status.reason


def _build_view(
    request: MacroRequest,
    key: str,
    title: Title,
    lookup: Lookup,
    limited: bool,
    settings,
    today: date,
    stage_guide_tables,
    pending: dict | None = None,
) -> PanelResult:
    meta = views.Freshness(
        lookup.fetched_at,
        fresh=lookup.fresh,
        refreshing=lookup.refreshing,
        error=lookup.error,
        zone=settings.summary_timezone,
        refresh_limited=limited,
    )
    host = settings.consonance_host or None
    if key == "title-status":
        guidance = guidance_for(title.stage.name if title.stage else None, stage_guide_from_tables(stage_guide_tables))
        view = views.title_status_view(
            title, host=host, meta=meta, today=today, guidance=guidance, pending_stage=pending
        )
        view["decisionsNotSent"] = _decisions_not_sent(request.tenant)
    elif key == "rights-link":
        view = views.rights_link_view(
            title, host=host, meta=meta, mappings=settings.rights_mappings, site_url=request.tenant.site_url
        )
    elif key == "metadata-checklist":
        rule_set = current_rule_set(request.tenant)
        view = views.metadata_checklist_view(
            title,
            host=host,
            meta=meta,
            rule_set=rule_set,
            rule_set_name=None if rule_set is DEFAULT_RULE_SET else "Your site's metadata standards page",
        )
    elif key == "launch-readiness":
        view = views.launch_readiness_view(
            title,
            host=host,
            meta=meta,
            today=today,
            rule_set=current_rule_set(request.tenant),
            policy=ReadinessPolicy(
                schedule=schedule_from_tables(stage_guide_tables) or ReadinessSchedule(),
                stage_deadlines=StageDeadlines.from_mapping(settings.stage_deadline_weeks),
            ),
        )
    else:
        raise ValueError(f"unknown macro {key!r}")
    return PanelResult(view, title, lookup.fetched_at)
