"""Use cases, one module per flow (F1–F8 of DESIGN.md) plus change detection.

Importing this package registers every outbox handler and schedule the flows define, in every
process (web, worker, scheduler): `addon.jobs.init_app` imports it.
"""
from addon.decisions import service as _decisions  # noqa: F401  (outbox handler: push decision)
from addon.flows import change_detection as _change_detection  # noqa: F401  (poll + F1/F2/F4/F6 handlers)
from addon.flows import pipeline_summaries as _pipeline_summaries  # noqa: F401  (F7 schedule + handler)
from addon.flows import reconciliation as _reconciliation  # noqa: F401  (nightly reconciliation)
