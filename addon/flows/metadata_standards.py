"""F5: the standards page's table becomes the tenant's versioned rule set; rows it cannot use are
reported back on the page in an owned region and never stop the valid rows working.

Readers of the rule set (the metadata-checklist macro, the launch hubs, the pipeline summaries) go
through `addon.standards.service.current_rule_set` (DEFAULT_RULE_SET until a standards page has been read).
"""

from __future__ import annotations

import hashlib
import logging

from addon.confluence.models import Page
from addon.confluence.storage import document, emphasis, heading, paragraph, table
from addon.extensions import db
from addon.flows.owned_pages import write_region
from addon.flows.page_layout import PageFormatError, standards_table
from addon.gateways import gateways
from addon.jobs.outbox import enqueue, outbox_handler
from addon.jobs.unique import insert_once
from addon.platform.models import Tenant, utcnow
from addon.publishing.standards import DEFAULT_RULE_SET, compile_standards
from addon.standards.models import CompiledStandards
from addon.standards.service import compiled_standards, current_rule_set, remember_rule_set

log = logging.getLogger("addon.flows.metadata_standards")

REGION = "standards-problems"
REFRESH_KIND = "confluence.standards_problems"
NO_TABLE = (
    "The page has no table whose first row names a Field column and a Rule column, "
    "so the rules in use have not changed."
)


def process_standards_page(tenant: Tenant, page: Page) -> dict:
    """Compile the page's table; store it as the tenant's rule set unless no table could be read at all."""
    try:
        rows = standards_table(page.body or "")
        unreadable = None if rows is not None else NO_TABLE
    except PageFormatError as exc:
        rows, unreadable = None, f"The page could not be read ({exc}), so the rules in use have not changed."
    if rows is None:
        _store_problems(tenant, page, [[0, "", unreadable]])
        queue_refresh(tenant, page.id)
        return {"rules": 0, "problems": 1, "unchanged": True}
    rule_set = compile_standards(rows)
    problems = [[p.row_number, " | ".join(p.cells), p.what_is_wrong] for p in rule_set.problems]
    record_id, _ = insert_once(
        CompiledStandards,
        {
            "tenant_id": tenant.id,
            "version": rule_set.version,
            "source_page_id": page.id,
            "source_page_version": page.version or 0,
            "table_rows": rows,
            "problems": problems,
            "rule_count": len(rule_set.rules),
            "compiled_at": utcnow(),
        },
        ("tenant_id",),
    )
    record = db.session.get_one(CompiledStandards, record_id, populate_existing=True)
    changed = record.version != rule_set.version
    record.version, record.source_page_id, record.source_page_version = rule_set.version, page.id, page.version or 0
    record.table_rows, record.problems, record.rule_count = rows, problems, len(rule_set.rules)
    record.compiled_at = utcnow()
    db.session.commit()
    remember_rule_set(tenant, rule_set)
    if changed:
        log.info(
            "standards rule set now version %s (%d rules, %d problems)",
            rule_set.version,
            len(rule_set.rules),
            len(problems),
        )
    queue_refresh(tenant, page.id)
    return {"rules": len(rule_set.rules), "problems": len(problems), "version": rule_set.version}


def _store_problems(tenant: Tenant, page: Page, problems: list) -> None:
    """A page with no usable table keeps the rules in use; only its problems are recorded."""
    record = compiled_standards(tenant)
    if record is None:
        db.session.add(
            CompiledStandards(
                tenant_id=tenant.id,
                version=DEFAULT_RULE_SET.version,
                source_page_id=page.id,
                source_page_version=page.version or 0,
                table_rows=[],
                problems=problems,
                rule_count=0,
                compiled_at=utcnow(),
            )
        )
    else:
        record.problems = problems
        record.source_page_id = page.id
    db.session.commit()


def region_content(tenant: Tenant) -> str:
    record = compiled_standards(tenant)
    problems = list(record.problems or []) if record else []
    rule_count = record.rule_count if record else 0
    parts = [
        heading(2, "Standards in use"),
        paragraph(
            emphasis("Written by Consonance for Confluence each time this page is saved; edits here are replaced.")
        ),
        paragraph(
            f"{rule_count} rule{'s' if rule_count != 1 else ''} in use, from this page, for every title's checks."
            if rule_count
            else "No rules from this page are in use yet; titles are checked against the app's default standards."
        ),
    ]
    if problems:
        parts.append(
            paragraph(
                f"{len(problems)} row{'s' if len(problems) != 1 else ''} could not be used. "
                "Every other row works; fix these and save the page:"
            )
        )
        parts.append(
            table(
                ["Row", "The row", "What is wrong"],
                [[str(n) if n else "—", cells, what] for n, cells, what in problems],
            )
        )
    else:
        parts.append(paragraph("Every row of the table is in use."))
    return document(*parts)


def queue_refresh(tenant: Tenant, page_id: str) -> None:
    content = region_content(tenant)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:32]
    enqueue(tenant, "confluence", REFRESH_KIND, {"page_id": page_id}, dedupe_key=f"{REGION}:{page_id}:{digest}")
    db.session.commit()


@outbox_handler(REFRESH_KIND)
def write_standards_region(tenant: Tenant, payload: dict) -> dict:
    written = write_region(
        tenant,
        gateways().confluence(tenant),
        str(payload["page_id"]),
        REGION,
        region_content(tenant),
        message="standards in use",
    )
    return {"written": written}


__all__ = ["current_rule_set", "process_standards_page"]  # current_rule_set: kept for its importers
