"""Use cases, one module per flow (F1–F8 of DESIGN.md) plus change detection.

Importing this package registers every outbox handler and schedule the flows define, in every
process (web, worker, scheduler): `addon.jobs.init_app` imports it.
"""
from addon.decisions import service as _decisions  # noqa: F401  (outbox handler: push decision)
