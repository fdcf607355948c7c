"""State kept by the flows that read the pages editors write and send what they say to Consonance
(Confluence → Consonance, docs/editors-pages.md): page versions seen, playbooks,
gate ↔ task links with the last state synced on each side, pages the app made, lessons sent.

Every table is tenant-owned; these rows are what make re-deliveries, retries and our own edits harmless.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from addon.extensions import Model
from addon.platform.models import TenantOwned, utcnow


class EditorPageState(TenantOwned, Model):
    """Per page editors write (table `upstream_page_state`, its name from before): the newest version
    announced, the newest version handled, versions our own writes made."""

    __tablename__ = "upstream_page_state"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "page_id", name="uq_upstream_page_state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[str] = mapped_column(sa.String(32))
    pending_version: Mapped[int] = mapped_column(sa.Integer, default=0)
    handled_version: Mapped[int] = mapped_column(sa.Integer, default=0)
    own_versions: Mapped[list] = mapped_column(sa.JSON, default=list)
    kind: Mapped[str | None] = mapped_column(sa.String(32))
    last_actor: Mapped[str | None] = mapped_column(sa.String(255))
    problems: Mapped[list] = mapped_column(sa.JSON, default=list)  # lines of the page the app could not read
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class PlaybookSource(TenantOwned, Model):
    """One playbook page's checklist items as last read (gates and plain items), with a digest."""

    __tablename__ = "playbook_source"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "page_id", name="uq_playbook_source_page"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str | None] = mapped_column(sa.String(255))
    items: Mapped[list] = mapped_column(sa.JSON, default=list)
    digest: Mapped[str] = mapped_column(sa.String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class GateLink(TenantOwned, Model):
    """A playbook gate applied to a title: its Consonance task, and the state last synced on each side.

    `consonance_done` / `confluence_done` are what the app last saw or wrote; a side is acted on only
    when it differs from them, which is what stops a tick bouncing between the systems.
    `tick_pending` says the checklist must show `confluence_done` (set from Consonance) on the next write.
    """

    __tablename__ = "gate_link"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "work_id", "gate_key", name="uq_gate_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    gate_key: Mapped[str] = mapped_column(sa.String(128))
    external_ref: Mapped[str] = mapped_column(sa.String(255))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    task_title: Mapped[str] = mapped_column(sa.Text, default="")
    consonance_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    consonance_done: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    confluence_done: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    tick_pending: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class EditorFlowPage(TenantOwned, Model):
    """Pages these flows made (table `upstream_page`, its name from before): a title's launch checklist, the
    tenant's lessons-learned index."""

    __tablename__ = "upstream_page"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "work_id", "kind", name="uq_upstream_page"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[str] = mapped_column(sa.String(64), default="")  # "" for tenant-wide pages
    kind: Mapped[str] = mapped_column(sa.String(32))
    page_id: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class Lesson(TenantOwned, Model):
    """A lesson read from a retrospective page, sent to Consonance once and listed in the lessons index."""

    __tablename__ = "retrospective_lesson"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "page_id", "identity", name="uq_retrospective_lesson"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[str] = mapped_column(sa.String(32))
    page_title: Mapped[str | None] = mapped_column(sa.String(255))
    work_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    identity: Mapped[str] = mapped_column(sa.String(64))
    stage: Mapped[str] = mapped_column(sa.String(100), default="General")
    text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
