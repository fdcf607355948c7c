"""The tenant's compiled metadata standards (one row per tenant), written by the standards flow."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from addon.extensions import Model
from addon.platform.models import TenantOwned, utcnow


class CompiledStandards(TenantOwned, Model):
    """The tenant's current metadata standards: the table as read, its rule-set version and its problems."""

    __tablename__ = "compiled_standards"
    __table_args__ = (sa.UniqueConstraint("tenant_id", name="uq_compiled_standards_tenant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(32))
    source_page_id: Mapped[str] = mapped_column(sa.String(32))
    source_page_version: Mapped[int] = mapped_column(sa.Integer, default=0)
    table_rows: Mapped[list] = mapped_column(sa.JSON, default=list)
    problems: Mapped[list] = mapped_column(sa.JSON, default=list)
    rule_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    compiled_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
