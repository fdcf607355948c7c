"""Imports every model so Alembic and `db.create_all` see the whole schema.

Each domain package keeps its own `models.py`; add new ones here.
"""

from addon.decisions.models import Decision  # noqa: F401
from addon.flows.sync_models import PollState, SyncPage, TitleSnapshot  # noqa: F401
from addon.jobs.models import JobRun, OutboxEntry, ProcessedEvent, ScheduleMark  # noqa: F401
from addon.platform.models import AuditEntry, Tenant, TenantSecret  # noqa: F401
from addon.settings.models import TenantSettings  # noqa: F401
from addon.standards.models import CompiledStandards  # noqa: F401
from addon.titles.models import TitlePage  # noqa: F401
