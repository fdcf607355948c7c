"""The rule set a tenant's titles are checked against, for every reader: the metadata-checklist
macro, the launch hubs and the pipeline summaries. The standards flow
(flows/metadata_standards.py) writes the record; this module only reads it.

Compiled rule sets are cached per (tenant, version) in each process, so a page view compiles nothing.
"""

from __future__ import annotations

import threading

from addon.extensions import db
from addon.platform.models import Tenant, tenant_query
from addon.publishing.rules import RuleSet
from addon.publishing.standards import DEFAULT_RULE_SET, compile_standards
from addon.standards.models import CompiledStandards

_cache: dict[tuple[int, str], RuleSet] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 256


def compiled_standards(tenant: Tenant) -> CompiledStandards | None:
    """The tenant's standards record (None until a standards page has been read)."""
    return db.session.execute(tenant_query(CompiledStandards, tenant)).scalar_one_or_none()


def current_rule_set(tenant: Tenant) -> RuleSet:
    """The tenant's compiled standards (cached per version in each process), or DEFAULT_RULE_SET."""
    record = compiled_standards(tenant)
    if record is None or not record.rule_count:
        return DEFAULT_RULE_SET
    key = (tenant.id, record.version)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    rule_set = compile_standards(record.table_rows)
    remember_rule_set(tenant, rule_set)
    return rule_set


def remember_rule_set(tenant: Tenant, rule_set: RuleSet) -> None:
    """Keep a just-compiled rule set so readers in this process need not compile it again."""
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[(tenant.id, rule_set.version)] = rule_set


def rule_set_summary(tenant: Tenant) -> dict:
    """For admin and summaries: which rule set is in use and how many rows failed."""
    record = compiled_standards(tenant)
    rule_set = current_rule_set(tenant)
    return {
        "version": rule_set.version,
        "rules": len(rule_set.rules),
        "problems": len(record.problems or []) if record else 0,
        "source_page_id": record.source_page_id if record else None,
        "compiled_at": record.compiled_at.isoformat() if record and record.compiled_at else None,
    }
