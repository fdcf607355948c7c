"""The pages editors write that the app reads (and writes owned regions in): what kind of page each is, the
per-page record of which versions were handled and which the app wrote itself, and writing an
owned region so that our own version is never handled as a person's edit.

This module sits below the page-event router and the flows it routes to: they all import it, it
imports none of them.
"""

from __future__ import annotations

import logging

from addon.confluence.models import Page
from addon.confluence.owned_regions import (
    OwnedRegionError,
    find_region,
    insert_region_if_missing,
    read_region,
    region_storage,
    replace_region,
)
from addon.confluence.storage import document
from addon.confluence.storage import heading as heading_block
from addon.extensions import db
from addon.flows.editor_page_models import EditorPageState
from addon.jobs.outbox import PermanentError
from addon.jobs.unique import insert_once
from addon.platform.models import Tenant, utcnow

log = logging.getLogger("addon.flows.owned_pages")

OWN_VERSIONS_KEPT = 50
APP_VERSION_MESSAGE = "Consonance for Confluence"

# What a page editors write is, to the app (stored in EditorPageState.kind and EditorFlowPage.kind).
DECISION_LOG, PLAYBOOK, STANDARDS, RETROSPECTIVE, CHECKLIST = (
    "decision-log",
    "playbook",
    "standards",
    "retrospective",
    "launch-checklist",
)


def page_state(tenant: Tenant, page_id: str) -> EditorPageState:
    """The page's handled/own-version record, made on first use (safe under concurrent callers)."""
    state_id, _ = insert_once(
        EditorPageState,
        {
            "tenant_id": tenant.id,
            "page_id": str(page_id),
            "pending_version": 0,
            "handled_version": 0,
            "own_versions": [],
            "updated_at": utcnow(),
        },
        ("tenant_id", "page_id"),
    )
    state = db.session.get(EditorPageState, state_id, populate_existing=True)
    assert state is not None  # insert_once made or found it in this transaction
    return state


def remember_own_write(tenant: Tenant, page: Page) -> None:
    """Our write made `page.version`: its event is not handled (caller commits).

    When every earlier version was handled, the new one counts as handled too (we know its content).
    """
    if page.version is None:
        return
    state = page_state(tenant, page.id)
    state.own_versions = ([v for v in (state.own_versions or []) if v != page.version] + [page.version])[
        -OWN_VERSIONS_KEPT:
    ]
    absorb_own_versions(state)
    state.updated_at = utcnow()


def absorb_own_versions(state: EditorPageState) -> None:
    """Our versions right after the handled one are handled too: we wrote them on top of what we had read."""
    own = set(state.own_versions or [])
    while state.handled_version + 1 in own:
        state.handled_version += 1


def write_region(
    tenant: Tenant, client, page_id: str, region: str, content, *, message: str, heading: str | None = None
) -> bool:
    """Put `content` in the page's owned `region` (added at the end, under `heading`, if missing);
    `content` may be a function of the region's current inner storage (None when absent), so a
    person's edit made since we last read the page is merged, not overwritten;
    no new version when nothing changed; the version we make is remembered as our own (caller commits).
    A person's broken markers are a PermanentError: retrying cannot mend them."""
    seen: dict = {}

    def mutate(page: Page) -> str:
        seen["version"] = page.version
        body = page.body or ""
        try:
            wanted = content(read_region(body, region)) if callable(content) else content
            if heading is not None and find_region(body, region) is None:
                return body + document(heading_block(2, heading)) + region_storage(region, wanted)
            updated = insert_region_if_missing(body, region, wanted)
            return replace_region(updated, region, wanted)
        except OwnedRegionError as exc:
            raise PermanentError(
                f"the app's region {region!r} on page {page_id} was damaged by an edit: {exc}"
            ) from exc

    written = client.update_page_with_retry(page_id, mutate, message=f"{APP_VERSION_MESSAGE}: {message}")
    if written.version != seen.get("version"):
        remember_own_write(tenant, written)
        log.info("region %s on page %s written (version %s)", region, page_id, written.version)
        return True
    return False
