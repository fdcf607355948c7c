"""Use cases, one module per flow (F1–F8 of DESIGN.md) plus change detection.

Importing this package registers every outbox handler and schedule the flows define, in every
process (web, worker, scheduler): `addon.jobs.init_app` imports it.
"""

from addon.decisions import service as _decisions  # noqa: F401  (outbox handler: push decision)
from addon.flows import capability_discovery as _capability_discovery  # noqa: F401  (daily capability check)
from addon.flows import change_detection as _change_detection  # noqa: F401  (poll + F1/F2/F4/F6 handlers)
from addon.flows import decision_log as _decision_log  # noqa: F401  (Decision log region, refresh schedule)
from addon.flows import metadata_standards as _metadata_standards  # noqa: F401  (standards region)
from addon.flows import page_events as _page_events  # noqa: F401  (page events: sweep schedule)
from addon.flows import pipeline_summaries as _pipeline_summaries  # noqa: F401  (F7 schedule + handler)
from addon.flows import playbook_gates as _playbook_gates  # noqa: F401  (gate tasks, checklist, gates_sync)
from addon.flows import reconciliation as _reconciliation  # noqa: F401  (nightly reconciliation)
from addon.flows import retrospectives as _retrospectives  # noqa: F401  (retrospective page, lesson notes, index)
from addon.flows import stage_followups as _stage_followups  # noqa: F401  (F3 gates and F8 retrospective on stage moves)
