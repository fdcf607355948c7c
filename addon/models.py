"""Imports every model so Alembic and `db.create_all` see the whole schema.

Each domain package keeps its own `models.py`; add new ones here.
"""
from addon.platform.models import AuditEntry, Tenant, TenantSecret  # noqa: F401
