"""F4: each title's Consonance record carries a web link to each rights guidance page that fits it,
chosen by the same mapping rules the rights-link macro uses, and kept current.

Links are matched by URL, so a repeat writes nothing. Consonance's API offers no link removal, so a
guidance page that no longer fits keeps its link with the role `rights-guidance-superseded`.
"""

from __future__ import annotations

import logging

from addon.consonance.errors import ConsonanceNotFound
from addon.gateways import gateways
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.platform.models import Tenant
from addon.publishing.guidance import matching_guidance
from addon.settings.service import get_settings

log = logging.getLogger("addon.flows.rights_links")

KIND = "consonance.rights_link"
BATCH_KIND = "consonance.rights_links"
BATCH = 50  # titles per batch entry: one read for all, and a handler short enough for its lease (it writes per title)
ROLE = "rights-guidance"
SUPERSEDED_ROLE = "rights-guidance-superseded"


def enqueue_rights_link(tenant: Tenant, work_id: str, dedupe_key: str) -> None:
    """`dedupe_key` names the cause (an acquisition, a rights change): prefixed, so the page set the same
    acquisition owes (same cause, same key) is not taken for this write and the link dropped as a repeat."""
    enqueue(tenant, "consonance", KIND, {"work_id": str(work_id)}, dedupe_key=f"rights_link:{dedupe_key}"[:255])


def enqueue_rights_links(tenant: Tenant, work_ids: list[str], dedupe_key: str) -> None:
    """Links for many managed titles (a mapping change, the first sync, reconciliation): one entry per
    BATCH titles, each reading their rights and links in one Consonance request."""
    for start in range(0, len(work_ids), BATCH):
        batch = [str(w) for w in work_ids[start : start + BATCH]]
        key = f"rights_links:{dedupe_key}:{batch[0]}:{len(batch)}"[:255]
        enqueue(tenant, "consonance", BATCH_KIND, {"work_ids": batch}, dedupe_key=key)


def guidance_url(site_url: str, page_id: str) -> str:
    return f"{site_url.rstrip('/')}/wiki/pages/viewpage.action?pageId={page_id}"


@outbox_handler(KIND)
def link_rights_guidance(tenant: Tenant, payload: dict) -> dict:
    """Upsert a link per matching guidance page; mark links to pages that stopped matching as superseded."""
    work_id = str(payload["work_id"])
    mappings = get_settings(tenant).rights_mappings
    if not mappings:
        return {"linked": 0, "reason": "no rights mappings configured"}
    site_url = _site_url(tenant)
    gateway = gateways().consonance(tenant)
    try:
        rights = gateway.rights_for(work_id)
    except ConsonanceNotFound as exc:
        raise PermanentError(str(exc)) from exc
    return _link(gateway, work_id, rights, gateway.web_links(work_id), mappings, site_url)


@outbox_handler(BATCH_KIND)
def link_rights_guidance_for_many(tenant: Tenant, payload: dict) -> dict:
    """`link_rights_guidance` for a page of managed titles: their rights and links read in one request."""
    work_ids = [str(w) for w in payload["work_ids"]]
    mappings = get_settings(tenant).rights_mappings
    if not mappings:
        return {"linked": 0, "reason": "no rights mappings configured"}
    site_url = _site_url(tenant)
    gateway = gateways().consonance(tenant)
    found = gateway.rights_and_links(work_ids)
    linked = written = 0
    for work_id in work_ids:
        if work_id not in found:  # gone from Consonance since the poll: nothing to link
            continue
        rights, existing = found[work_id]
        outcome = _link(gateway, work_id, rights, existing, mappings, site_url)
        linked, written = linked + outcome["linked"], written + outcome["written"]
    return {"titles": len(found), "linked": linked, "written": written}


def _site_url(tenant: Tenant) -> str:
    if not tenant.site_url:
        raise PermanentError("The site address is unknown, so guidance links cannot be built")
    return tenant.site_url


def _link(gateway, work_id: str, rights, existing, mappings, site_url: str) -> dict:
    matches = matching_guidance(rights, mappings, site_url)
    wanted = {guidance_url(site_url, m["pageId"]): m for m in matches}
    written = 0
    for url, match in wanted.items():
        note = f"{match['label']} (matches {match['because']})"
        current = next((link for link in existing if link.url == url), None)
        if current is None or current.role != ROLE or current.note != note:
            gateway.upsert_web_link(work_id, url, role=ROLE, note=note)
            written += 1
    for link in existing:
        if link.role == ROLE and link.url not in wanted:
            gateway.upsert_web_link(work_id, link.url, role=SUPERSEDED_ROLE, note=link.note)
            written += 1
    return {"linked": len(wanted), "written": written}
