"""The link between a Consonance work and the Confluence pages made or registered for it.

Pages also carry a content property naming the work, so the link survives our database
being restored; this table is the fast index (macros look up "the title of this page").
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from addon.extensions import Model
from addon.platform.models import TenantOwned, utcnow

# Roles a page plays for a title. Per-title roles are unique per (tenant, work, role).
HOME = "home"
BRIEF = "manuscript-brief"
SCHEDULE = "schedule"
CONTACTS = "key-contacts"
MEETINGS = "meeting-notes"
DECISIONS = "decision-log"
RETROSPECTIVE = "retrospective"
LAUNCH_HUB = "launch-hub"
ROLES = (HOME, BRIEF, SCHEDULE, CONTACTS, MEETINGS, DECISIONS, RETROSPECTIVE, LAUNCH_HUB)


class TitlePage(TenantOwned, Model):
    __tablename__ = "title_page"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "work_id", "role", name="uq_title_page_tenant_work_role"),
        sa.Index("ix_title_page_tenant_page", "tenant_id", "page_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(32))
    page_id: Mapped[str | None] = mapped_column(sa.String(32))  # None while the create is in flight
    space_id: Mapped[str | None] = mapped_column(sa.String(32))
    title: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
