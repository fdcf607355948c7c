"""Tenants (one per Confluence installation) and the rows every tenant owns.

Every tenant-owned table mixes in `TenantOwned`, and every read goes through
`tenant_query`, so a query without a tenant cannot be written by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from addon.extensions import db
from addon.utc import utcnow as utcnow  # re-exported: every package's models take it from here


class Tenant(db.Model):
    __tablename__ = "tenant"
    __table_args__ = (sa.UniqueConstraint("transport", "external_id", name="uq_tenant_transport_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transport: Mapped[str] = mapped_column(sa.String(16))  # "forge" or "connect"
    # Forge: the installation id (ari:cloud:ecosystem::installation/...); Connect: the clientKey.
    external_id: Mapped[str] = mapped_column(sa.String(255))
    cloud_id: Mapped[str | None] = mapped_column(sa.String(255))
    site_url: Mapped[str | None] = mapped_column(sa.String(500))
    # Forge: app.apiBaseUrl; Connect: the product baseUrl (https://site/wiki).
    api_base_url: Mapped[str | None] = mapped_column(sa.String(500))
    display_url: Mapped[str | None] = mapped_column(sa.String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    installed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<Tenant {self.id} {self.transport}:{self.external_id}>"

    @property
    def log_name(self) -> str:
        return f"{self.id}:{self.site_url or self.external_id}"


class TenantOwned:
    """Mixin: a non-null, indexed tenant_id on every tenant-owned table."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True, nullable=False)


class TenantSecret(TenantOwned, db.Model):
    """Encrypted secrets (Connect shared secret, Consonance API key), one row per name."""

    __tablename__ = "tenant_secret"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name", name="uq_tenant_secret_tenant_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    ciphertext: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class AuditEntry(TenantOwned, db.Model):
    """Who did what, when: installs, configuration changes, pushed decisions."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)


TenantRow = TypeVar("TenantRow", bound=TenantOwned)


def tenant_query(model: type[TenantRow], tenant: Tenant) -> sa.Select[TenantRow]:
    """A SELECT on a tenant-owned model, already scoped to `tenant`."""
    if not hasattr(model, "tenant_id"):
        raise TypeError(f"{model.__name__} is not tenant-owned")
    return sa.select(model).where(model.tenant_id == tenant.id)
