"""Change detection: Consonance has no change feed, so each poll streams the catalogue's fingerprints,
compares them with the tenant's stored snapshots and turns differences into events and outbox work.

Reads: `iter_fingerprints()` (a few paged requests for the whole catalogue). Writes: only for works
whose digest changed — their snapshot rows and one outbox entry per owed page write, all in one
transaction, so an event exists exactly when its snapshot moved. The first poll of a tenant records the
catalogue as it stands and takes the forthcoming list under management: launch hubs and summaries cover
it at once, while page sets for those older titles wait until an admin asks (see docs/sync-flows.md).
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from addon.extensions import db
from addon.flows import launch_hubs, page_sets, rights_links, stage_followups, stage_status
from addon.flows.sync_models import PollState, TitleSnapshot
from addon.gateways import NotConfigured, gateways
from addon.jobs.runner import submit
from addon.jobs.schedule import RUN_SCHEDULED, scheduled
from addon.jobs.unique import insert_once
from addon.platform import own_writes
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.publishing.domain import TitleFingerprint, watches_key_names
from addon.publishing.stages import has_reached, is_acquired
from addon.settings.service import get_settings, poll_interval_seconds
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.flows.change_detection")

TITLE_ACQUIRED = "title_acquired"
STAGE_CHANGED = "stage_changed"
DATES_CHANGED = "dates_changed"
READINESS_CHANGED = "readiness_changed"
RIGHTS_CHANGED = "rights_changed"
EVENT_KINDS = (TITLE_ACQUIRED, STAGE_CHANGED, DATES_CHANGED, READINESS_CHANGED, RIGHTS_CHANGED)
CHUNK = 500


class _Unchanged(enum.Enum):
    SEASON = "unchanged"


_SAME = _Unchanged.SEASON  # "the work's season did not change" (None is a season value: no season)


@dataclass(frozen=True)
class ChangeEvent:
    kind: str
    work_id: str
    digest: str
    revision: int

    @property
    def dedupe_key(self) -> str:
        """Tenant scoping comes from the outbox's (tenant, key) uniqueness; the revision tells
        a flip back to an earlier digest (A→B→A→B) from a repeat."""
        return f"{self.kind}:{self.work_id}:{self.digest}:r{self.revision}"


def _short_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def dates_digest(fp: TitleFingerprint) -> str:
    return _short_hash(
        [fp.season, [(f.product_id, f.publication_date, f.planned_publication_date) for f in fp.formats]]
    )


def readiness_digest(fp: TitleFingerprint) -> str:
    return _short_hash(
        [
            fp.title,
            fp.contributors,
            fp.marketing_tier,
            [
                (
                    f.product_id,
                    f.kind,
                    f.isbn13,
                    f.isbn_problem,
                    f.status_code,
                    f.price_currencies,
                    f.subject_codes,
                    f.has_description,
                    f.has_cover,
                )
                for f in fp.formats
            ],
        ]
    )


def rights_digest(fp: TitleFingerprint) -> str:
    return _short_hash(
        [
            fp.licensed_rights,
            [
                (f.product_id, f.for_sale_countries, f.not_for_sale_countries, f.is_for_sale_worldwide)
                for f in fp.formats
            ],
        ]
    )


def snapshot_values(fp: TitleFingerprint) -> dict:
    return {
        "digest": fp.digest,
        "title": (fp.title or "")[:500],
        "stage": fp.stage,
        "season": fp.season,
        "dates_digest": dates_digest(fp),
        "readiness_digest": readiness_digest(fp),
        "rights_digest": rights_digest(fp),
    }


def acquired_stages(settings) -> list[str] | None:
    """None = any new work counts as acquired (the default); else the admin's stage names."""
    return list(settings.acquired_stages) or None


def is_forthcoming(stage: str | None) -> bool:
    """Not yet published: the list the first sync takes under management (an unknown stage counts)."""
    return not has_reached(stage, "published")


def classify(old: TitleSnapshot, fp: TitleFingerprint, new: dict, stages: list[str] | None) -> list[str]:
    """Which events a changed work raises, given its previous snapshot."""
    # A work without a page set is acquired when it enters a configured "acquired" stage.
    entered = (
        not old.pages_owed
        and stages is not None
        and new["stage"] != old.stage
        and is_acquired(new["stage"], stages)
        and not is_acquired(old.stage, stages)
    )
    if not old.tracked:
        return [TITLE_ACQUIRED] if entered else []
    kinds = [TITLE_ACQUIRED] if entered else []
    if new["stage"] != old.stage:
        kinds.append(STAGE_CHANGED)
    if new["dates_digest"] != old.dates_digest:
        kinds.append(DATES_CHANGED)
    if new["readiness_digest"] != old.readiness_digest:
        kinds.append(READINESS_CHANGED)
    if new["rights_digest"] != old.rights_digest:
        kinds.append(RIGHTS_CHANGED)
    return kinds


class _Dispatcher:
    """Turns events into outbox entries; launch hub refreshes are collapsed to one per hub per poll."""

    def __init__(self, tenant: Tenant, settings):
        self.tenant, self.settings = tenant, settings
        self.hubs: dict[str, list[str]] = {}
        self.counts = {kind: 0 for kind in EVENT_KINDS}

    def emit(
        self,
        event: ChangeEvent,
        season: str | None,
        old_season: str | None | _Unchanged = _SAME,
        stage: str | None = None,
    ) -> None:
        self.counts[event.kind] += 1
        key = event.dedupe_key
        if event.kind == TITLE_ACQUIRED:
            page_sets.enqueue_page_set(self.tenant, event.work_id, key)
            rights_links.enqueue_rights_link(self.tenant, event.work_id, key)
        elif event.kind in (STAGE_CHANGED, DATES_CHANGED, READINESS_CHANGED):
            page_sets.enqueue_facts(self.tenant, event.work_id, key)  # dates, people, details on its pages
        if event.kind == STAGE_CHANGED:
            stage_status.enqueue_update(self.tenant, event.work_id, key)
            stage_followups.enqueue_followups(self.tenant, event.work_id, stage, key)
        elif event.kind == READINESS_CHANGED:  # a format gained or lost: the gates that apply may differ
            stage_followups.enqueue_followups(self.tenant, event.work_id, stage, key)
        elif event.kind == RIGHTS_CHANGED:
            rights_links.enqueue_rights_link(self.tenant, event.work_id, key)
            return
        self.cover(event.work_id, season, key, old_season)

    def cover(self, work_id: str, season: str | None, key: str, old_season: str | None | _Unchanged = _SAME) -> None:
        """The work's launch hub (and its old season's, when it moved) is owed a refresh."""
        mode = self.settings.launch_hub_mode
        for hub_season in {season} if old_season is _SAME else {season, old_season}:
            self.hubs.setdefault(launch_hubs.hub_key_for(mode, work_id, hub_season), []).append(key)

    def flush(self) -> int:
        for hub, keys in self.hubs.items():
            launch_hubs.enqueue_refresh(self.tenant, hub, f"launch_hub:{hub[:120]}:{_short_hash(sorted(keys))}")
        return len(self.hubs)


def _poll_state(tenant: Tenant) -> PollState | None:
    """The tenant's poll state, locked for this poll's transaction; None while another poll holds it.

    Two polls of one tenant at once (two schedulers, a manual run beside the schedule) would compare
    against the same snapshots and queue the same work twice: the second one steps aside instead.
    """
    _, created = insert_once(
        PollState, {"tenant_id": tenant.id, "mappings_digest": "", "works_seen": 0}, ("tenant_id",)
    )
    if created:
        db.session.commit()  # the row exists for every poll at once; only the lock below is per poll
    return db.session.execute(tenant_query(PollState, tenant).with_for_update(skip_locked=True)).scalar_one_or_none()


def detect_and_dispatch(tenant: Tenant, fingerprints) -> dict:
    """Compare `fingerprints` (an iterable, consumed once) with the snapshots; write what changed and
    the outbox work it causes; commit. Returns counts for the JobRun."""
    try:
        return _detect_and_dispatch(tenant, fingerprints)
    except sa.exc.IntegrityError:
        # Only where the poll lock is not a row lock (SQLite, the embedded default): another poll of this
        # site recorded the same new works first. Its writes stand; this one has nothing left to add.
        db.session.rollback()
        log.info("another poll of this site recorded these works first; this one steps aside")
        return {"skipped": 1}


def _detect_and_dispatch(tenant: Tenant, fingerprints) -> dict:
    settings = get_settings(tenant)
    stages = acquired_stages(settings)
    state = _poll_state(tenant)
    if state is None:
        db.session.rollback()
        log.info("another poll of this site is running; this one steps aside")
        return {"skipped": 1}
    baseline = state.baseline_at is None
    known = dict(
        db.session.execute(
            sa.select(TitleSnapshot.work_id, TitleSnapshot.digest).where(TitleSnapshot.tenant_id == tenant.id)
        ).all()
    )
    with_pages = (
        set(
            db.session.execute(
                sa.select(TitlePage.work_id).where(TitlePage.tenant_id == tenant.id, TitlePage.role == roles.HOME)
            ).scalars()
        )
        if baseline
        else set()
    )
    dispatcher = _Dispatcher(tenant, settings)
    seen = new_count = taken_on = 0
    changed: list[TitleFingerprint] = []
    restamped: list[TitleFingerprint] = []
    inserts: list[dict] = []
    now = utcnow()
    for fp in fingerprints:
        seen += 1
        old_digest = known.pop(fp.work_id, None)
        if old_digest is None:
            new_count += 1
            values = snapshot_values(fp)
            if baseline:  # the list as it stands: pages only where they exist, the forthcoming list managed
                pages_owed = fp.work_id in with_pages
                tracked = pages_owed or is_forthcoming(fp.stage)
            else:
                pages_owed = tracked = is_acquired(fp.stage, stages)
            inserts.append(
                {
                    "tenant_id": tenant.id,
                    "work_id": fp.work_id,
                    "tracked": tracked,
                    "pages_owed": pages_owed,
                    "revision": 0,
                    "updated_at": now,
                    **values,
                }
            )
            if tracked and baseline:
                taken_on += 1
                dispatcher.cover(fp.work_id, fp.season, f"first_sync:{fp.work_id}")
            elif tracked:
                dispatcher.emit(ChangeEvent(TITLE_ACQUIRED, fp.work_id, values["digest"], 0), fp.season)
            if len(inserts) >= CHUNK:
                db.session.execute(sa.insert(TitleSnapshot), inserts)
                inserts = []
        elif old_digest != fp.digest:
            if not watches_key_names(old_digest) and old_digest == fp.digest_before_key_names:
                restamped.append(fp)  # the same data, fingerprinted before key names were watched
            else:
                changed.append(fp)
    if inserts:
        db.session.execute(sa.insert(TitleSnapshot), inserts)
    for start in range(0, len(changed), CHUNK):
        _apply_changes(tenant, changed[start : start + CHUNK], stages, dispatcher, now)
    for start in range(0, len(restamped), CHUNK):
        _restamp(tenant, restamped[start : start + CHUNK])
    mappings = _short_hash(settings.rights_mappings)
    if mappings != state.mappings_digest and (settings.rights_mappings or not baseline):
        # Mappings saved before the first sync count as a change too: the managed titles get their links.
        _rights_mappings_changed(tenant, mappings, dispatcher, now)
    state.mappings_digest = mappings
    hubs = dispatcher.flush()
    counts = {
        "works": seen,
        "new": new_count,
        "changed": len(changed),
        **({"restamped": len(restamped)} if restamped else {}),
        "missing": len(known),
        "baseline": int(baseline),
        "hub_refreshes": hubs,
        **dispatcher.counts,
    }
    if baseline:
        counts["managed"] = taken_on
        state.first_sync = {
            "at": now.isoformat(),
            "works": seen,
            "managed": taken_on,
            "with_pages": len(with_pages),
            "hub_refreshes": hubs,
            "rights_links": dispatcher.counts[RIGHTS_CHANGED],
        }
    state.baseline_at = state.baseline_at or now
    state.last_poll_at, state.works_seen = now, seen
    db.session.commit()
    log.info("poll: %s", counts)
    return counts


def _snapshot_rows(tenant: Tenant, fps: list[TitleFingerprint]) -> dict[str, TitleSnapshot]:
    """The stored snapshots of these works, by work id (one query)."""
    return {
        row.work_id: row
        for row in db.session.execute(
            tenant_query(TitleSnapshot, tenant).where(TitleSnapshot.work_id.in_([fp.work_id for fp in fps]))
        ).scalars()
    }


def _apply_changes(tenant: Tenant, fps: list[TitleFingerprint], stages, dispatcher: _Dispatcher, now) -> None:
    rows = _snapshot_rows(tenant, fps)
    for fp in fps:
        row = rows[fp.work_id]
        values = snapshot_values(fp)
        kinds = classify(row, fp, values, stages)
        old_season = row.season
        for name, value in values.items():
            setattr(row, name, value)
        row.revision += 1
        row.updated_at = now
        if TITLE_ACQUIRED in kinds:
            row.tracked = row.pages_owed = True
        if kinds:
            own_writes.title_changed(tenant.id, fp.work_id)  # panels on every process read the change
        for kind in kinds:
            dispatcher.emit(
                ChangeEvent(kind, fp.work_id, values["digest"], row.revision), fp.season, old_season, stage=fp.stage
            )


def _restamp(tenant: Tenant, fps: list[TitleFingerprint]) -> None:
    """Snapshots stored before key names were watched, whose works have not changed: their digests are
    brought up to date with nothing raised (else the first poll after the upgrade would rewrite every page)."""
    rows = _snapshot_rows(tenant, fps)
    for fp in fps:
        for name, value in snapshot_values(fp).items():
            setattr(rows[fp.work_id], name, value)


def _rights_mappings_changed(tenant: Tenant, mappings_digest: str, dispatcher: _Dispatcher, now) -> None:
    """The admin changed the rights mapping: every managed title's guidance links are owed again, in batches
    that each read their titles' rights in one Consonance request (the first sync owes the whole forthcoming list)."""
    work_ids = list(
        db.session.execute(
            sa.select(TitleSnapshot.work_id)
            .where(TitleSnapshot.tenant_id == tenant.id, TitleSnapshot.tracked.is_(True))
            .order_by(TitleSnapshot.work_id)
        ).scalars()
    )
    rights_links.enqueue_rights_links(tenant, work_ids, f"mappings:{mappings_digest}:{now.isoformat()}")
    dispatcher.counts[RIGHTS_CHANGED] += len(work_ids)


def _poll_interval(app: Flask, tenant: Tenant) -> timedelta:
    return timedelta(seconds=poll_interval_seconds(tenant))


@scheduled("poll", every=_poll_interval)
def poll(tenant: Tenant) -> dict:
    """One poll of a tenant's catalogue (a JobRun records the counts, including Consonance requests)."""
    try:
        gateway = gateways().consonance(tenant)
    except NotConfigured:
        return {"skipped": 1}  # not connected to Consonance yet: nothing to compare
    before = gateway.stats.requests
    counts = detect_and_dispatch(tenant, gateway.iter_fingerprints())
    counts["consonance_requests"] = gateway.stats.requests - before
    if counts.get("baseline"):
        # The pipeline summaries due this period cover the list now, not at the next hourly check.
        submit(
            RUN_SCHEDULED,
            args=("pipeline_summary", tenant.id),
            tenant_id=tenant.id,
            kind="pipeline_summary",
            dedupe_key=f"pipeline_summary:{tenant.id}:first-sync",
            queue="low",
        )
    return counts
