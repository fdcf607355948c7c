"""One row of settings per tenant, stored as validated JSON so new settings need no migration."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from addon.extensions import Model
from addon.platform.models import TenantOwned, utcnow


class TenantSettings(TenantOwned, Model):
    __tablename__ = "tenant_settings"
    __table_args__ = (sa.UniqueConstraint("tenant_id", name="uq_tenant_settings_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    values: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(255))
