"""Onboarding a list that existed before the app: "Sync now", and "Create pages for existing titles"
chosen by stage, season or imprint — counted first, then made through the outbox with progress.

Titles acquired after install get their pages from change detection; older titles get them only when an
admin asks here. Each title's page set is one outbox write keyed by its work (`onboard:page_set:<work>`),
and titles that have (or are owed) pages are never counted again, so asking twice makes nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from addon.extensions import db
from addon.flows import page_sets
from addon.flows.sync_models import TitleSnapshot
from addon.gateways import NotConfigured, gateways
from addon.jobs.models import DELIVERED, FAILED, OutboxEntry
from addon.jobs.runner import submit
from addon.jobs.schedule import RUN_SCHEDULED
from addon.platform import tenants
from addon.platform.models import AuditEntry, Tenant, tenant_query, utcnow
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.admin.onboarding")

KEY_PREFIX = "onboard:page_set:"
REQUESTED = "pages_requested"
MAX_TITLES = 500  # per request: a long list is made in runs the admin can watch
SAMPLE = 5
MAX_FILTER = 100


@dataclass(frozen=True)
class Filters:
    """Which existing titles: every filter set must match (case and spacing ignored); none set = all."""

    stage: str = ""
    season: str = ""
    imprint: str = ""

    @classmethod
    def from_form(cls, form) -> tuple[Filters | None, dict[str, str]]:
        form = form if isinstance(form, dict) else {}
        values, errors = {}, {}
        for name in ("stage", "season", "imprint"):
            value = form.get(name, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[name] = "Choose from the list or type the name."
            elif len(value.strip()) > MAX_FILTER:
                errors[name] = f"Use at most {MAX_FILTER} characters."
            else:
                values[name] = value.strip()
        return (None, errors) if errors else (cls(**values), {})

    def matches(self, title) -> bool:
        stage = title.stage.name if title.stage else ""
        return all(
            not wanted or _norm(wanted) == _norm(have)
            for wanted, have in ((self.stage, stage), (self.season, title.season), (self.imprint, title.imprint))
        )

    def describe(self) -> str:
        chosen = [f"{name} {value}" for name, value in asdict(self).items() if value]
        return ", ".join(chosen) or "every title"


def _norm(value) -> str:
    return " ".join(str(value or "").lower().split())


class NotConnected(Exception):
    """Consonance is not connected yet: there is no list to count."""


def _with_pages(tenant: Tenant) -> set[str]:
    """Works that have a title home, or are owed a page set already."""
    homes = db.session.execute(
        sa.select(TitlePage.work_id).where(TitlePage.tenant_id == tenant.id, TitlePage.role == roles.HOME)
    ).scalars()
    owed = db.session.execute(
        sa.select(TitleSnapshot.work_id).where(TitleSnapshot.tenant_id == tenant.id, TitleSnapshot.pages_owed.is_(True))
    ).scalars()
    return set(homes) | set(owed)


def titles_without_pages(tenant: Tenant, filters: Filters) -> list:
    """The titles Consonance lists now that match `filters` and have no page set, in work id order."""
    try:
        gateway = gateways().consonance(tenant)
    except NotConfigured as exc:
        raise NotConnected(str(exc)) from None
    have = _with_pages(tenant)
    return [t for t in gateway.iter_titles() if t.work_id not in have and filters.matches(t)]


def count(tenant: Tenant, filters: Filters) -> dict:
    """What "Create pages" would do, before it runs."""
    titles = titles_without_pages(tenant, filters)
    return {
        "count": len(titles),
        "now": min(len(titles), MAX_TITLES),
        "sample": [t.title for t in titles[:SAMPLE]],
        "filters": filters.describe(),
        "message": _count_message(len(titles), filters),
    }


def _count_message(n: int, filters: Filters) -> str:
    if n == 0:
        return f"No titles without pages match ({filters.describe()})."
    titles = "1 title has" if n == 1 else f"{n} titles have"
    extra = f" The first {MAX_TITLES} are made per run; run it again for the rest." if n > MAX_TITLES else ""
    return f"{titles} no pages yet ({filters.describe()}).{extra}"


def create_pages(tenant: Tenant, filters: Filters, actor: str | None) -> dict:
    """Owe a page set to each matching title without one (at most MAX_TITLES); commits."""
    titles = titles_without_pages(tenant, filters)[:MAX_TITLES]
    return create_pages_for(tenant, [t.work_id for t in titles], actor, filters.describe())


def create_pages_for(tenant: Tenant, work_ids: list[str], actor: str | None, description: str) -> dict:
    """Owe a page set to each of these works (one outbox write per work, ever); commits."""
    started = utcnow()
    for work_id in work_ids:
        page_sets.enqueue_page_set(tenant, work_id, f"{KEY_PREFIX}{work_id}")
    if work_ids:  # kept by the nightly reconciliation from now on, like titles acquired since install
        db.session.execute(
            sa.update(TitleSnapshot)
            .where(TitleSnapshot.tenant_id == tenant.id, TitleSnapshot.work_id.in_(work_ids))
            .values(pages_owed=True, tracked=True)
            .execution_options(synchronize_session=False)
        )
    request = tenants.record(tenant, REQUESTED, actor=actor, titles=len(work_ids), filters=description)
    request.at = started  # progress counts the writes queued from this moment
    db.session.commit()
    log.info("page sets requested for %d existing titles (%s)", len(work_ids), description)
    return {"queued": len(work_ids), **progress(tenant)}


def progress(tenant: Tenant) -> dict:
    """How far the latest "Create pages" request has got: page sets made, failed and still waiting."""
    request = (
        db.session.execute(
            tenant_query(AuditEntry, tenant)
            .where(AuditEntry.action == REQUESTED)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )
    if request is None:
        return {"total": 0, "made": 0, "failed": 0, "waiting": 0, "done": True, "message": ""}
    detail = request.detail or {}
    total = int(detail.get("titles") or 0)
    rows = db.session.execute(
        sa.select(OutboxEntry.status, sa.func.count(OutboxEntry.id))
        .where(
            OutboxEntry.tenant_id == tenant.id,
            OutboxEntry.dedupe_key.like(f"{KEY_PREFIX}%"),
            OutboxEntry.created_at >= request.at,
        )
        .group_by(OutboxEntry.status)
    ).all()
    by_status = {status: n for status, n in rows}
    made, failed = by_status.get(DELIVERED, 0), by_status.get(FAILED, 0)
    waiting = max(total - made - failed, 0)
    message = f"Page sets for {detail.get('filters') or 'existing titles'}: {made} of {total} made"
    message += f", {failed} failed (see Writes below)" if failed else ""
    message += f", {waiting} waiting." if waiting else "."
    return {
        "total": total,
        "made": made,
        "failed": failed,
        "waiting": waiting,
        "done": waiting == 0,
        "message": message,
    }


def sync_now(tenant: Tenant, actor: str | None) -> dict:
    """Queue a poll of Consonance now (the scheduled one runs too; two at once, the second steps aside)."""
    try:
        gateways().consonance(tenant)
    except NotConfigured as exc:
        raise NotConnected(str(exc)) from None
    now = utcnow()
    submit(
        RUN_SCHEDULED,
        args=("poll", tenant.id),
        tenant_id=tenant.id,
        kind="poll",
        dedupe_key=f"poll:{tenant.id}:now:{int(now.timestamp()) // 5}",  # a double click is one sync
    )
    tenants.record(tenant, "sync_requested", actor=actor)
    db.session.commit()
    return {"message": "Sync started: new and changed titles appear on this page within a minute."}
