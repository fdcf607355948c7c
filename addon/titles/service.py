"""Lookups macros and flows share: the title a page belongs to, and a title's pages."""

from __future__ import annotations

from addon.extensions import db
from addon.platform.models import Tenant, tenant_query
from addon.titles.models import TitlePage


def work_id_for_page(tenant: Tenant, page_id: str | int | None) -> str | None:
    """The work whose page set holds this page (any role), or None."""
    if page_id in (None, ""):
        return None
    row = db.session.execute(
        tenant_query(TitlePage, tenant).where(TitlePage.page_id == str(page_id)).limit(1)
    ).scalar_one_or_none()
    return row.work_id if row else None


def pages_of(tenant: Tenant, work_id: str) -> dict[str, TitlePage]:
    rows = db.session.execute(tenant_query(TitlePage, tenant).where(TitlePage.work_id == str(work_id))).scalars()
    return {row.role: row for row in rows}
