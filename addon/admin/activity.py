"""What the app has been doing for one site, for its admins: polls, job runs, owed writes, rules, decisions.

Read-only views over the tables the jobs, flows and decisions keep; the one action is the outbox Retry.
Flow tables other engineers add are read when they exist, so this page grows with the flows.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from addon.admin import onboarding
from addon.confluence.errors import ConfluenceError
from addon.confluence.people import DISPLAY_NAMES
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
from addon.titles import models as roles
from addon.titles.models import TitlePage
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
    "capabilities_changed": "Found what Consonance offers",
    "sync_requested": "Asked for a sync now",
    "pages_requested": "Asked for pages for existing titles",
}


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def when(value: datetime | None) -> str:
    """A stored time as the admin reads it (UTC, to the second)."""
    value = _utc(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def when_written(stamp: str | None) -> str | None:
    """`when` for a time kept as ISO text ("2026-12-06T18:57:02+00:00"); None when there is none, and the text
    as it is when it is not a time."""
    if not stamp:
        return None
    try:
        return when(datetime.fromisoformat(stamp))
    except ValueError:
        return stamp


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
    """The change-detection poll's last run: the flows' poll state (the last poll that read Consonance), unless
    a poll job since then failed (Consonance not answering, say), which the admin must see first."""
    state = db.session.execute(tenant_query(PollState, tenant)).scalar_one_or_none()
    run = db.session.execute(
        tenant_query(JobRun, tenant).where(JobRun.kind.contains("poll")).order_by(JobRun.started_at.desc()).limit(1)
    ).scalar_one_or_none()
    if state is not None and state.last_poll_at is not None:
        good = {"at": when(state.last_poll_at), "detail": f"{state.works_seen} titles seen", "outcome": "ok"}
        failed_since = (
            run is not None
            and run.outcome == "failed"
            and as_utc(run.finished_at or run.started_at) > as_utc(state.last_poll_at)
        )
        if not failed_since:
            return good
        assert run is not None
        return {
            "at": when(run.finished_at or run.started_at),
            "detail": f"{run.error or 'it did not finish'}; the last poll that read Consonance was {good['at']}",
            "outcome": "failed",
        }
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

    def distinct(column: sa.orm.InstrumentedAttribute[str | None]) -> list[str]:
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
            (as_utc(run.finished_at) - as_utc(run.started_at)).total_seconds()
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
    entries = list(outbox.entries(tenant, status=FAILED, limit=limit))
    decision_ids = [(e.payload or {}).get("decision_id") for e in entries]
    decided = {
        d.id: d.work_id
        for d in db.session.execute(
            tenant_query(Decision, tenant).where(
                Decision.id.in_([i for i in decision_ids if isinstance(i, int)] or [0])
            )
        ).scalars()
    }
    work_of = {  # the title a write is for: its own work id, or its decision's
        e.id: (e.payload or {}).get("work_id") or _decided_work(decided, (e.payload or {}).get("decision_id"))
        for e in entries
    }
    titles = title_names(tenant, work_of.values())
    return [
        {
            "id": e.id,
            "kind": kind_label(e.kind),
            "target": e.target.capitalize(),
            "attempts": e.attempts,
            "reason": e.last_error or "no reason recorded",
            "advice": plain_reason(e.last_error, e.target),
            "created": when(e.created_at),
            "what": _payload_text({**(e.payload or {}), "work_id": work_of[e.id]}, titles),
        }
        for e in entries
    ]


def _payload_text(payload: dict | None, titles: dict | None = None) -> str:
    """What the write was for, in words: the title by name and any plain values; internal ids are left out."""
    if not payload:
        return ""
    parts = []
    work_id = payload.get("work_id")
    if work_id and titles and str(work_id) in titles:
        parts.append(f"for “{titles[str(work_id)]['name']}”")
    parts += [
        f"{k.replace('_', ' ')} {v}"
        for k, v in sorted(payload.items())
        if isinstance(v, (str, int, float)) and not (k == "id" or k.endswith(("_id", "_ids")))
    ]
    return ", ".join(parts)[:200]


def rule_set(tenant: Tenant, client=None) -> dict:
    """The metadata rules in force, named by the page they come from (never by their hash)."""
    compiled = db.session.execute(tenant_query(CompiledStandards, tenant)).scalar_one_or_none()
    if compiled is not None:
        name, url = _page_name(tenant, client, compiled.source_page_id)
        return {
            "source": f"your metadata standards page, “{name}”" if name else "your metadata standards page",
            "page_id": compiled.source_page_id,  # for links and checks; never shown
            "page_url": url,
            "page_version": compiled.source_page_version or None,
            "rules": compiled.rule_count,
            "compiled": when(compiled.compiled_at),
            "problems": [_problem_text(p) for p in compiled.problems or []],
        }
    return {
        "source": "the default rule set (no metadata standards page has been read yet)",
        "page_id": None,
        "page_url": None,
        "page_version": None,
        "rules": len(DEFAULT_RULE_SET.rules),
        "compiled": None,
        "problems": [_problem_text(p) for p in DEFAULT_RULE_SET.problems],
    }


def _decided_work(decided: dict[int, str], decision_id: object) -> str | None:
    return decided.get(decision_id) if isinstance(decision_id, int) else None


def page_url(tenant: Tenant, page_id: str | None) -> str | None:
    return f"{(tenant.api_base_url or '').rstrip('/')}/wiki/pages/viewpage.action?pageId={page_id}" if page_id else None


def _page_name(tenant: Tenant, client, page_id: str | None) -> tuple[str | None, str | None]:
    """A page's title (None when Confluence cannot say) and its link."""
    if not page_id or client is None:
        return None, page_url(tenant, page_id)
    try:
        return client.get_page(str(page_id)).title, page_url(tenant, page_id)
    except ConfluenceError as exc:
        log.info("no title for a standards page of tenant %s: %s", tenant.id, exc)
        return None, page_url(tenant, page_id)


def _problem_text(problem) -> str:
    """One standards row that did not become a rule, as a sentence (stored as [row, cells, what is wrong])."""
    if isinstance(problem, (list, tuple)):
        parts = [str(p).strip() for p in problem]
        row = parts[0] if parts and parts[0] not in ("", "0") else ""
        cells = parts[1] if len(parts) > 2 else ""
        what = parts[-1] if parts else ""
        where = f"Row {row}" if row else "The page"
        return f"{where}{f' ({cells})' if cells else ''}: {what}"
    if isinstance(problem, dict):
        number = problem.get("row_number") or problem.get("row")
        wrong = problem.get("what_is_wrong") or problem.get("problem") or problem.get("message") or ""
        return f"Row {number}: {wrong}" if number else str(wrong)
    number = getattr(problem, "row_number", None)
    wrong = getattr(problem, "what_is_wrong", None)
    return f"Row {number}: {wrong}" if number and wrong else str(problem)


def title_names(tenant: Tenant, work_ids) -> dict[str, dict]:
    """Each work's name and the link to its title home, from the pages the app made for it."""
    wanted = sorted({str(w) for w in work_ids if w})
    found: dict[str, dict] = {}
    if wanted:
        for row in db.session.execute(
            tenant_query(TitlePage, tenant).where(TitlePage.role == roles.HOME, TitlePage.work_id.in_(wanted))
        ).scalars():
            found[row.work_id] = {"name": row.title or "a title", "url": page_url(tenant, row.page_id)}
    for work_id in wanted:
        found.setdefault(work_id, {"name": "a title with no pages in Confluence yet", "url": None})
    return found


def people(tenant: Tenant, client, account_ids) -> dict[str, str]:
    return DISPLAY_NAMES.names(tenant.id, client, account_ids)


_DELIVERY_WORDS = {
    "delivered": "now in Consonance",
    "pending": "waiting to reach Consonance",
    "failed": "could not reach Consonance",
    "retrying": "being retried",
    "not_sent": "not sent",
}


def _delivery_advice(state: str, reason: str | None) -> str:
    """A decision's delivery in the admin's words; the recorded reason stays beside it for whoever digs."""
    if not reason or state not in ("retrying", "failed"):
        return ""
    plain = plain_reason(reason, "consonance")
    if state == "retrying":
        said = plain.split(". ")[0].rstrip(".") if plain else "The last try did not go through"
        return f"{said}. The app tries again by itself."
    return plain


def recent_decisions(tenant: Tenant, client=None, limit: int = 20) -> list[dict]:
    decisions = list(
        db.session.execute(
            tenant_query(Decision, tenant).order_by(Decision.created_at.desc(), Decision.id.desc()).limit(limit)
        ).scalars()
    )
    deliveries = delivery_states(tenant, decisions)
    titles = title_names(tenant, [d.work_id for d in decisions])
    names = people(tenant, client, [d.actor for d in decisions])
    rows = []
    for decision in decisions:
        state, reason = deliveries[decision.id].state, deliveries[decision.id].reason
        title = titles[str(decision.work_id)]
        rows.append(
            {
                "id": decision.id,
                "title": title["name"],
                "title_url": title["url"],
                "type": DECISION_LABELS[decision.decision_type].recorded
                if decision.decision_type in DECISION_LABELS
                else decision.decision_type,
                "actor": names.get(str(decision.actor), "the app") if decision.actor else "the app",
                "at": when(decision.created_at),
                "state": state,
                "state_words": _DELIVERY_WORDS.get(state, state),
                "advice": _delivery_advice(state, reason),
                "reason": reason,
                "to_stage": decision.to_stage or "",
            }
        )
    return rows


def activity_view(tenant: Tenant, client=None) -> dict:
    """`client` (the app's Confluence client) names people and pages; without it the wording stays neutral."""
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
        "rule_set": rule_set(tenant, client),
        "decisions": recent_decisions(tenant, client),
        "summaries": summary_choices(tenant),
        "capabilities": capabilities(tenant),
        "generated": when(utcnow()),
    }


def summary_choices(tenant: Tenant) -> list[dict]:
    """This week's and this month's summary pages, for the Regenerate buttons."""
    from addon.flows.pipeline_summaries import local_today
    from addon.publishing.pipeline import MONTHLY, WEEKLY, period_for

    today = local_today(tenant)
    return [
        {"cadence": cadence, "label": label, "title": period_for(today, cadence).title}
        for cadence, label in ((WEEKLY, "this week's"), (MONTHLY, "this month's"))
    ]


def capabilities(tenant: Tenant, limit: int = 10) -> dict:
    """What the site's Consonance offers now, and the last times that changed (turned features on or off)."""
    from addon.flows import capability_discovery

    profile = capability_discovery.stored_profile(tenant)
    changes = db.session.execute(
        tenant_query(AuditEntry, tenant)
        .where(AuditEntry.action == capability_discovery.CHANGED)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).scalars()
    from addon.gateways import gateways

    usage = gateways().budget(tenant).usage()
    return {
        "budget": {
            "per_minute": usage.per_minute,
            "used": usage.used_this_minute,
            "concurrency": usage.concurrency,
            "in_flight": usage.in_flight,
            "paused_for": usage.paused_for,
            "shared": usage.shared,
        },
        "rows": capability_discovery.capability_rows(profile),
        "checked": when_written(profile.checked_at) if profile else None,
        "source": profile.source if profile else None,
        "changes": [{"at": when(e.at), "what": list((e.detail or {}).get("changes") or [])} for e in changes],
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
    from addon.gateways import gateways

    gateways().budget(tenant).resume()  # the admin asked to try now: a pause a 429 set does not hold this back
    from addon.platform import tenants

    tenants.record(tenant, "outbox_retried", actor=actor, entry_id=entry_id)
    db.session.commit()
    return True


def audit_view(tenant: Tenant, client=None, limit: int = 100) -> list[dict]:
    """Configuration changes, installs and pushed decisions, newest first, each as a sentence: who did what."""
    entries = list(
        db.session.execute(
            tenant_query(AuditEntry, tenant).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        ).scalars()
    )
    decisions = list(
        db.session.execute(tenant_query(Decision, tenant).order_by(Decision.created_at.desc()).limit(limit)).scalars()
    )
    names = people(tenant, client, [e.actor for e in entries] + [d.actor for d in decisions])
    titles = title_names(tenant, [d.work_id for d in decisions])

    def who(actor: str | None) -> str:
        return names.get(str(actor), "the app") if actor else "the app"

    rows = []
    for e in entries:
        action = ACTION_LABELS.get(e.action, e.action.replace("_", " ").capitalize())
        rows.append(
            {
                "sort": _utc(e.at),
                "at": when(e.at),
                "actor": who(e.actor),
                "action": action,
                "sentence": _sentence(f"{who(e.actor)} {action[:1].lower()}{action[1:]}."),
                "title_url": None,
                "detail": _detail_text(e.detail),
            }
        )
    for d in decisions:
        what = DECISION_WORDS.get(d.decision_type, d.decision_type.replace("_", " "))
        title = titles[str(d.work_id)]
        stage = f", moving it to {d.to_stage}" if d.to_stage else ""
        rows.append(
            {
                "sort": _utc(d.created_at),
                "at": when(d.created_at),
                "actor": who(d.actor),
                "action": ACTION_LABELS["decision_pushed"],
                "sentence": _sentence(f"{who(d.actor)} {what} on “{title['name']}”{stage}."),
                "title_url": title["url"],
                "detail": f"The decision is {_DELIVERY_WORDS.get(d.delivery_state, d.delivery_state)}.",
            }
        )
    rows.sort(key=lambda r: r["sort"] or utcnow(), reverse=True)
    for row in rows:
        row.pop("sort")
    return rows[:limit]


DECISION_WORDS = {
    "approve_stage": "recorded an approval",
    "request_changes": "requested changes",
    "hold": "put a hold",
    "note": "recorded a note",
}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _detail_text(detail: dict | None) -> str:
    """The details people can act on; internal ids (entries, pages, accounts) are left out."""
    if not detail:
        return ""
    parts = []
    for key, value in sorted(detail.items()):
        if key == "id" or key.endswith(("_id", "_ids")):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v).replace("_", " ") for v in value) or "nothing"
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)[:300]
