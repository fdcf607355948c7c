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
ROLE = "rights-guidance"
SUPERSEDED_ROLE = "rights-guidance-superseded"


def enqueue_rights_link(tenant: Tenant, work_id: str, dedupe_key: str) -> None:
    """`dedupe_key` names the cause (an acquisition, a rights change): prefixed, so the page set the same
    acquisition owes (same cause, same key) is not taken for this write and the link dropped as a repeat."""
    enqueue(tenant, "consonance", KIND, {"work_id": str(work_id)}, dedupe_key=f"rights_link:{dedupe_key}"[:255])


def guidance_url(site_url: str, page_id: str) -> str:
    return f"{site_url.rstrip('/')}/wiki/pages/viewpage.action?pageId={page_id}"


@outbox_handler(KIND)
def link_rights_guidance(tenant: Tenant, payload: dict) -> dict:
    """Upsert a link per matching guidance page; mark links to pages that stopped matching as superseded."""
    work_id = str(payload["work_id"])
    mappings = get_settings(tenant).rights_mappings
    if not mappings:
        return {"linked": 0, "reason": "no rights mappings configured"}
    site_url = tenant.site_url or ""
    if not site_url:
        raise PermanentError("The site address is unknown, so guidance links cannot be built")
    gateway = gateways().consonance(tenant)
    try:
        rights = gateway.rights_for(work_id)
    except ConsonanceNotFound as exc:
        raise PermanentError(str(exc)) from exc
    matches = matching_guidance(rights, mappings, site_url)
    wanted = {guidance_url(site_url, m["pageId"]): m for m in matches}
    existing = gateway.web_links(work_id)
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
