"""What the app has been doing for one site, for its admins: polls, job runs, owed writes, rules, decisions.

Read-only views over the tables the jobs, flows and decisions keep; the one action is the outbox Retry.
Flow tables other engineers add are read when they exist, so this page grows with the flows.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from addon.admin import onboarding
from addon.decisions.models import DECISION_LABELS, Decision
from addon.decisions.service import delivery_states
from addon.extensions import db
from addon.flows.sync_models import PollState, TitleSnapshot
from addon.jobs import outbox
from addon.jobs.models import FAILED, JobRun
from addon.platform.models import AuditEntry, Tenant, tenant_query, utcnow
from addon.publishing.stages import sort_stage_names
from addon.publishing.standards import DEFAULT_RULE_SET
from addon.standards.models import CompiledStandards
from addon.utc import as_utc

log = logging.getLogger("addon.admin.activity")

KIND_LABELS = {
    "consonance.push_decision": "Push a decision to Consonance",
    "outbox.deliver": "Deliver a write",
    "outbox.drain": "Deliver owed writes",
}
ACTION_LABELS = {
    "installed": "Installed the app",
    "reinstalled": "Reinstalled the app",
    "uninstalled": "Uninstalled the app",
    "enabled": "Enabled the app",
    "disabled": "Disabled the app",
    "settings_changed": "Changed the configuration",
    "consonance_key_replaced": "Replaced the Consonance API key",
    "outbox_retried": "Retried a failed write",
    "decision_pushed": "Pushed a decision",
    "sync_requested": "Asked for a sync now",
    "pages_requested": "Asked for pages for existing titles",
}


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def when(value: datetime | None) -> str:
    """A stored time as the admin reads it (UTC, to the second)."""
    value = _utc(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").replace(".", ": "))


def _counts_text(counts: dict | None) -> str:
    if not counts:
        return ""
    return ", ".join(
        f"{key.replace('_', ' ')} {value}"
        for key, value in sorted(counts.items())
        if key != "outcome" and not isinstance(value, (dict, list))
    )


def last_poll(tenant: Tenant) -> dict | None:
    """The change-detection poll's last run: the flows' poll state when it exists, else the newest poll job."""
    state = db.session.execute(tenant_query(PollState, tenant)).scalar_one_or_none()
    if state is not None and state.last_poll_at is not None:
        return {"at": when(state.last_poll_at), "detail": f"{state.works_seen} titles seen", "outcome": "ok"}
    run = db.session.execute(
        tenant_query(JobRun, tenant).where(JobRun.kind.contains("poll")).order_by(JobRun.started_at.desc()).limit(1)
    ).scalar_one_or_none()
    if run is None:
        return None
    return {
        "at": when(run.finished_at or run.started_at),
        "detail": _counts_text(run.counts) or (run.error or ""),
        "outcome": run.outcome or "running",
    }


def first_sync(tenant: Tenant) -> str | None:
    """What the site's first sync did, in a sentence (it took the forthcoming list under management)."""
    state = db.session.execute(tenant_query(PollState, tenant)).scalar_one_or_none()
    done = state.first_sync if state is not None else None
    if not done:
        return None
    at = when(datetime.fromisoformat(done["at"])) if done.get("at") else "—"
    managed = done.get("managed", 0)
    text = (
        f"First sync, {at}: read {done.get('works', 0)} titles from Consonance and took the "
        f"{managed} forthcoming ones under management — launch hubs ({done.get('hub_refreshes', 0)} queued) and "
        "pipeline summaries cover them from now on."
    )
    if done.get("rights_links"):
        text += f" Rights guidance links were owed to {done['rights_links']} of them."
    if done.get("with_pages"):
        text += f" {done['with_pages']} already had title pages."
    return text + " Titles acquired from now on get their page sets; for older ones use Create pages below."


def filter_choices(tenant: Tenant) -> dict:
    """Stages and seasons the last sync saw, to pick "Create pages" filters from."""

    def distinct(column) -> list[str]:
        query = sa.select(column).where(TitleSnapshot.tenant_id == tenant.id, column.is_not(None)).distinct()
        return sorted(value for value in db.session.execute(query).scalars() if value)

    return {"stages": sort_stage_names(distinct(TitleSnapshot.stage)), "seasons": distinct(TitleSnapshot.season)}


def job_runs(tenant: Tenant, limit: int = 25, problem_days: int = 7) -> list[dict]:
    """The latest runs, plus every run of the last week that failed, went partial or never finished
    (a lost run must not scroll off behind the frequent outbox drains)."""
    newest_first = (JobRun.started_at.desc(), JobRun.id.desc())
    recent = list(db.session.execute(tenant_query(JobRun, tenant).order_by(*newest_first).limit(limit)).scalars())
    problems = db.session.execute(
        tenant_query(JobRun, tenant)
        .where(
            JobRun.started_at >= utcnow() - timedelta(days=problem_days),
            sa.or_(JobRun.outcome.is_(None), JobRun.outcome != "ok"),
        )
        .order_by(*newest_first)
        .limit(limit)
    ).scalars()
    runs = sorted(
        {run.id: run for run in [*recent, *problems]}.values(),
        key=lambda run: (_utc(run.started_at), run.id),
        reverse=True,
    )
    rows = []
    for run in runs:
        seconds = (
            (_utc(run.finished_at) - _utc(run.started_at)).total_seconds()
            if run.finished_at and run.started_at
            else None
        )
        rows.append(
            {
                "kind": kind_label(run.kind),
                "started": when(run.started_at),
                "duration": f"{seconds:.1f} s" if seconds is not None else "—",
                "outcome": run.outcome or ("running" if not run.finished_at else "unknown"),
                "counts": _counts_text(run.counts),
                "error": run.error or "",
            }
        )
    return rows


# What a recorded failure means for the admin, first match wins; the recorded reason is shown beside it.
_PLAIN_REASONS = (
    (
        ("HTTP 429", "rate limit", "RateLimit"),
        "{target} asked the app to slow down (too many requests). Wait a few minutes, then press Retry.",
    ),
    (
        ("HTTP 401", "HTTP 403", "refused the API key"),
        "{target} refused the app's credentials. For Consonance, "
        "save a new API key on the Configuration tab, then press Retry.",
    ),
    (
        ("NotConfigured", "not connected"),
        "Consonance is not connected for this site. Connect it on the Configuration tab, then press Retry.",
    ),
    (
        ("HTTP 404",),
        "{target} no longer has what this write was for (it may have been deleted or moved). "
        "Put it back, or leave this write.",
    ),
    (
        ("HTTP 5", "unavailable", "Unavailable", "timed out", "Timeout", "ConnectionError"),
        "{target} did not answer. Press Retry once it is back.",
    ),
)


def plain_reason(error: str | None, target: str) -> str:
    """The failure in the admin's words ("" when there is nothing better to say than the recorded reason)."""
    for needles, advice in _PLAIN_REASONS:
        if error and any(needle in error for needle in needles):
            return advice.format(target=target.capitalize())
    return ""


def failed_writes(tenant: Tenant, limit: int = 50) -> list[dict]:
    return [
        {
            "id": e.id,
            "kind": kind_label(e.kind),
            "target": e.target.capitalize(),
            "attempts": e.attempts,
            "reason": e.last_error or "no reason recorded",
            "advice": plain_reason(e.last_error, e.target),
            "created": when(e.created_at),
            "what": _payload_text(e.payload),
        }
        for e in outbox.entries(tenant, status=FAILED, limit=limit)
    ]


def _payload_text(payload: dict | None) -> str:
    if not payload:
        return ""
    return ", ".join(
        f"{k.replace('_', ' ')} {v}" for k, v in sorted(payload.items()) if isinstance(v, (str, int, float))
    )[:200]


def rule_set(tenant: Tenant) -> dict:
    """The metadata rules in force: the site's compiled standards page when the flow has compiled one."""
    compiled = db.session.execute(tenant_query(CompiledStandards, tenant)).scalar_one_or_none()
    if compiled is not None:
        return {
            "source": "your metadata standards page",
            "page_id": compiled.source_page_id,
            "version": compiled.version,
            "rules": compiled.rule_count,
            "compiled": when(compiled.compiled_at),
            "problems": [_problem_text(p) for p in compiled.problems or []],
        }
    return {
        "source": "the default rule set (no standards page compiled yet)",
        "page_id": None,
        "version": DEFAULT_RULE_SET.version,
        "rules": len(DEFAULT_RULE_SET.rules),
        "compiled": None,
        "problems": [_problem_text(p) for p in DEFAULT_RULE_SET.problems],
    }


def _problem_text(problem) -> str:
    if isinstance(problem, dict):
        row = problem.get("row_number") or problem.get("row")
        text = problem.get("what_is_wrong") or problem.get("problem") or problem.get("message") or ""
        return f"Row {row}: {text}" if row else str(text)
    row = getattr(problem, "row_number", None)
    text = getattr(problem, "what_is_wrong", None)
    return f"Row {row}: {text}" if row and text else str(problem)


def recent_decisions(tenant: Tenant, limit: int = 20) -> list[dict]:
    decisions = list(
        db.session.execute(
            tenant_query(Decision, tenant).order_by(Decision.created_at.desc(), Decision.id.desc()).limit(limit)
        ).scalars()
    )
    deliveries = delivery_states(tenant, decisions)
    rows = []
    for decision in decisions:
        state, reason = deliveries[decision.id].state, deliveries[decision.id].reason
        rows.append(
            {
                "id": decision.id,
                "work_id": decision.work_id,
                "type": DECISION_LABELS[decision.decision_type].recorded
                if decision.decision_type in DECISION_LABELS
                else decision.decision_type,
                "actor": decision.actor or "—",
                "at": when(decision.created_at),
                "state": state,
                "reason": reason,
                "to_stage": decision.to_stage or "",
            }
        )
    return rows


def activity_view(tenant: Tenant) -> dict:
    depth = outbox.depth(tenant)
    return {
        "last_poll": last_poll(tenant),
        "first_sync": first_sync(tenant),
        "onboarding": onboarding.progress(tenant),
        "filters": filter_choices(tenant),
        "job_runs": job_runs(tenant),
        "outbox": {
            "pending": depth["pending"],
            "in_flight": depth["in_flight"],
            "failed": depth["failed"],
            "delivered": depth["delivered"],
            "oldest_age": _age_text(outbox.oldest_age(tenant)),
        },
        "failed_writes": failed_writes(tenant),
        "rule_set": rule_set(tenant),
        "decisions": recent_decisions(tenant),
        "generated": when(utcnow()),
    }


def _age_text(seconds: float) -> str:
    if seconds <= 0:
        return "nothing waiting"
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def retry_write(tenant: Tenant, entry_id: int, actor: str | None) -> bool:
    """The admin's Retry: make a failed write due again (scoped to this site), audited; commits."""
    if not outbox.retry(entry_id, tenant=tenant):
        db.session.rollback()
        return False
    from addon.platform import tenants

    tenants.record(tenant, "outbox_retried", actor=actor, entry_id=entry_id)
    db.session.commit()
    return True


def audit_view(tenant: Tenant, limit: int = 100) -> list[dict]:
    """Configuration changes, installs and pushed decisions, newest first: who, when, what."""
    entries = db.session.execute(
        tenant_query(AuditEntry, tenant).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    ).scalars()
    rows = [
        {
            "sort": _utc(e.at),
            "at": when(e.at),
            "actor": e.actor or "the app",
            "action": ACTION_LABELS.get(e.action, e.action.replace("_", " ").capitalize()),
            "detail": _detail_text(e.detail),
        }
        for e in entries
    ]
    decisions = db.session.execute(
        tenant_query(Decision, tenant).order_by(Decision.created_at.desc()).limit(limit)
    ).scalars()
    for d in decisions:
        what = f"{d.decision_type.replace('_', ' ')} on work {d.work_id}"
        if d.to_stage:
            what += f" → {d.to_stage}"
        rows.append(
            {
                "sort": _utc(d.created_at),
                "at": when(d.created_at),
                "actor": d.actor or "—",
                "action": ACTION_LABELS["decision_pushed"],
                "detail": f"{what} ({d.delivery_state})",
            }
        )
    rows.sort(key=lambda r: r["sort"] or utcnow(), reverse=True)
    for row in rows:
        row.pop("sort")
    return rows[:limit]


def _detail_text(detail: dict | None) -> str:
    if not detail:
        return ""
    parts = []
    for key, value in sorted(detail.items()):
        if isinstance(value, list):
            value = ", ".join(str(v).replace("_", " ") for v in value) or "nothing"
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)[:300]
