"""What the Consonance → Confluence flows remember between runs: per-tenant title snapshots (to notice
changes without a change feed), each tenant's poll state, and the shared pages they maintain."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from addon.extensions import Model, db
from addon.platform.models import TenantOwned, utcnow


class TitleSnapshot(TenantOwned, Model):
    """The last fingerprint seen for one work, with just enough fields to say *what* changed."""

    __tablename__ = "title_snapshot"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "work_id", name="uq_title_snapshot_tenant_work"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[str] = mapped_column(sa.String(64))
    digest: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(500), default="")
    stage: Mapped[str | None] = mapped_column(sa.String(100))
    season: Mapped[str | None] = mapped_column(sa.String(100))
    dates_digest: Mapped[str] = mapped_column(sa.String(32), default="")
    readiness_digest: Mapped[str] = mapped_column(sa.String(32), default="")
    rights_digest: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    # managed: acquired since install, or forthcoming when the site's first sync ran (hubs, summaries, status)
    tracked: Mapped[bool] = mapped_column(default=False)
    # has (or is owed) a page set: acquired since install, or onboarded by an admin ("Create pages ...")
    pages_owed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    revision: Mapped[int] = mapped_column(default=0)  # bumped on every change; part of outbox dedupe keys
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


def managed_work_ids(tenant_id: int, limit: int | None = None) -> list[str]:
    """The works the app manages for a tenant (acquired since install, or forthcoming at the first sync),
    in work id order."""
    query = (
        sa.select(TitleSnapshot.work_id)
        .where(TitleSnapshot.tenant_id == tenant_id, TitleSnapshot.tracked.is_(True))
        .order_by(TitleSnapshot.work_id)
    )
    return list(db.session.execute(query.limit(limit) if limit else query).scalars())


def paged_work_ids(tenant_id: int) -> list[str]:
    """The works whose page sets the app makes and keeps (acquired since install, or onboarded), in work id order."""
    return list(
        db.session.execute(
            sa.select(TitleSnapshot.work_id)
            .where(TitleSnapshot.tenant_id == tenant_id, TitleSnapshot.pages_owed.is_(True))
            .order_by(TitleSnapshot.work_id)
        ).scalars()
    )


class PollState(TenantOwned, Model):
    """One row per tenant: whether the baseline exists, and what the last poll saw."""

    __tablename__ = "flow_poll_state"
    __table_args__ = (sa.UniqueConstraint("tenant_id", name="uq_flow_poll_state_tenant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    baseline_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_poll_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    works_seen: Mapped[int] = mapped_column(default=0)
    first_sync: Mapped[dict | None] = mapped_column(sa.JSON)  # what the first sync did, for the Activity page
    mappings_digest: Mapped[str] = mapped_column(sa.String(32), default="")


class SyncPage(TenantOwned, Model):
    """A page the flows keep that belongs to no single title: a season's launch hub, a pipeline summary."""

    __tablename__ = "flow_sync_page"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "kind", "key", name="uq_flow_sync_page_tenant_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))  # launch-hub | summary-weekly | summary-monthly
    key: Mapped[str] = mapped_column(sa.String(200))  # season name / work id / period key
    page_id: Mapped[str] = mapped_column(sa.String(32))
    attachment_digest: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
