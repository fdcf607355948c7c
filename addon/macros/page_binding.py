"""Which titles a page's title-status panels show, read from the page itself, and what its viewer may do there.

A decision names a title, but the browser that sends it is not trusted to say which: the page's stored
macro parameters are (read through the Confluence client, as the viewing user where the transport allows).
The answer is kept briefly in the shared cache, so a panel's clicks cost one page read a minute, not one each.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from addon.confluence.client import ConfluenceClient
from addon.confluence.errors import ConfluenceError
from addon.confluence.storage_parse import StorageParseError, find_macros, parse, q
from addon.consonance.errors import ConsonanceError
from addon.decisions.service import AccessUnavailable
from addon.gateways import NotConfigured
from addon.macros.cache import CacheWaitTimeout
from addon.macros.service import lookup_title, macro_cache, parse_title_ref
from addon.platform.models import Tenant
from addon.settings.service import get_settings
from addon.titles.service import work_id_for_page

log = logging.getLogger("addon.macros.page_binding")

DECIDING_MACRO = "title-status"  # the one panel with a decision form
BINDING_SECONDS = 60
_NOT_VISIBLE = frozenset({403, 404})  # the viewer cannot see the page (or it is gone): it shows them nothing


def title_refs_on_page(storage: str) -> list[str]:
    """The `title` parameter of every title-status macro on the page ("" for a macro naming none)."""
    root = parse(storage)
    refs = [m.parameters.get("title", "") for m in find_macros(root) if m.name == DECIDING_MACRO]
    # assumption: a Forge macro is stored as an ADF extension whose extension key ends in
    # "/static/<module key>", its config in `guest-params` (not in the shared reference; Connect-style
    # `ac:structured-macro` above is).
    for extension in root.iter(q("ac:adf-extension")):
        keys = [
            a.xpath("string()").strip()
            for a in extension.iter(q("ac:adf-attribute"))
            if a.get("key") == "extension-key"
        ]
        if any(key.endswith(f"/static/{DECIDING_MACRO}") for key in keys):
            titles = [
                p.xpath("string()").strip() for p in extension.iter(q("ac:adf-parameter")) if p.get("key") == "title"
            ]
            refs.append(titles[0] if titles else "")
    return refs


def _as_work_id(tenant: Tenant, raw: str, page_id: str) -> str | None:
    """The work a macro parameter names, as the panel resolves it (an ISBN via Consonance; none: the page's title)."""
    if not raw.strip():
        work_id = work_id_for_page(tenant, page_id)
        return str(work_id) if work_id else None
    ref = parse_title_ref(raw)
    if ref is None:
        return None
    if ref.kind == "work":
        return ref.value
    try:
        lookup, _ = lookup_title(tenant, ref, get_settings(tenant).macro_freshness_seconds)
    except (ConsonanceError, NotConfigured, CacheWaitTimeout) as exc:
        log.info("could not resolve ISBN %s on page %s: %s", ref.value, page_id, type(exc).__name__)
        return None
    return lookup.value.work_id if lookup.value is not None else None


def titles_on_page(tenant: Tenant, client: ConfluenceClient, page_id: str) -> frozenset[str]:
    """Work ids the page's title-status panels show, from the page (kept `BINDING_SECONDS` in the shared cache)."""
    store = macro_cache().store
    key = f"t{tenant.id}:page-titles:{page_id}"
    kept = store.get(key)
    if kept is not None:
        try:
            return frozenset(str(w) for w in json.loads(kept))
        except (ValueError, TypeError):
            pass  # a damaged entry is read again from Confluence
    try:
        storage = client.get_page(page_id).body or ""
    except ConfluenceError as exc:
        if exc.status in _NOT_VISIBLE:
            return frozenset()  # nothing is shown to someone who cannot see the page
        raise AccessUnavailable(str(exc)) from exc
    try:
        refs = title_refs_on_page(storage)
    except StorageParseError:
        refs = []
    shown = frozenset(w for w in (_as_work_id(tenant, raw, page_id) for raw in refs) if w)
    store.set(key, json.dumps(sorted(shown)).encode(), BINDING_SECONDS)
    return shown


def may(client: ConfluenceClient, page_id: str, account_id: str, operation: str) -> bool:
    """Whether this person may `operation` ("read", "update") the page, as Confluence answers; False for a page
    that is gone, AccessUnavailable when Confluence does not answer."""
    try:
        return client.has_content_permission(page_id, account_id, operation)
    except ConfluenceError as exc:
        if exc.status == 404:
            return False
        raise AccessUnavailable(str(exc)) from exc


@dataclass
class ConfluencePageAccess:
    """decisions.service.PageAccess for one person: Forge, as that person (their user token);
    Connect, as the app asking about that person."""

    tenant: Tenant
    client: ConfluenceClient
    account_id: str
    admin_check: Callable[[], bool]

    def titles_shown(self, page_id: str) -> frozenset[str]:
        return titles_on_page(self.tenant, self.client, page_id)

    def can_edit(self, page_id: str) -> bool:
        return may(self.client, page_id, self.account_id, "update")

    def is_site_admin(self) -> bool:
        return bool(self.admin_check())
