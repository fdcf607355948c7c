"""A worker killed mid-way through a page set, and Confluence refusing or throttling creates:
the rerun completes the set with no duplicates."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from addon.confluence.client import ConfluenceClient
from addon.extensions import db
from addon.flows.change_detection import poll
from addon.jobs.models import OutboxEntry
from addon.platform.models import utcnow
from addon.titles.models import TitlePage
from tests.flows.sync_harness import CATALOGUE, drain, pages_titled

CONSONANCE_CATALOGUE = CATALOGUE
CONSONANCE_RESET_EACH_TEST = True


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing on the way up records an outcome."""


def _acquire(consonance, tenant, title):
    poll(tenant)
    drain(tenant)  # the first sync's hub pages, so what follows is this title's work alone
    work_id = str(consonance.control.acquire_title(title)["id"])
    assert poll(tenant)["title_acquired"] == 1
    return work_id


def _assert_complete_set(emulator, title, work_id, confluence):
    pages = pages_titled(emulator, title)
    assert sorted(p.title for p in pages) == sorted(
        [title]
        + [
            f"{title} — {n}"
            for n in ("Manuscript brief", "Schedule & dates", "Key contacts", "Meeting notes", "Decision log")
        ]
    )
    rows = db.session.execute(sa.select(TitlePage).where(TitlePage.work_id == work_id)).scalars().all()
    assert sorted(r.page_id for r in rows) == sorted(p.id for p in pages)
    home = next(p for p in pages if p.title == title)
    for page in pages:
        prop = confluence.get_page_property(page.id, "consonance-title")
        assert prop is not None and prop.value["workId"] == work_id
        if page.id != home.id:
            assert page.parent_id == home.id


@pytest.mark.parametrize("killed_after", [1, 3])
def test_killed_between_creating_a_page_and_marking_it(
    tenant, consonance, emulator, confluence, monkeypatch, killed_after
):
    work_id = _acquire(consonance, tenant, "Half Built")
    real_create = ConfluenceClient.create_page
    created = []

    def create_then_die(self, *args, **kwargs):
        page = real_create(self, *args, **kwargs)
        created.append(page.id)
        if len(created) == killed_after:
            raise WorkerKilled()  # the page exists; no property, no label, no TitlePage row yet
        return page

    monkeypatch.setattr(ConfluenceClient, "create_page", create_then_die)
    with pytest.raises(WorkerKilled):
        drain(tenant)
    db.session.rollback()
    monkeypatch.setattr(ConfluenceClient, "create_page", real_create)
    assert len(pages_titled(emulator, "Half Built")) == killed_after
    stuck = db.session.execute(sa.select(OutboxEntry).where(OutboxEntry.kind == "confluence.page_set")).scalar_one()
    assert stuck.status == "in_flight"

    drain(tenant)  # the dead worker's lease still holds: nobody may claim the page set yet
    db.session.expire_all()
    assert db.session.get(OutboxEntry, stuck.id).status == "in_flight"
    later = utcnow() + timedelta(seconds=600)
    drain(tenant, now=later)
    db.session.expire_all()
    assert db.session.get(OutboxEntry, stuck.id).status == "delivered"
    _assert_complete_set(emulator, "Half Built", work_id, confluence)


def test_throttled_and_refused_creates_retry_to_one_complete_set(tenant, consonance, emulator, confluence):
    work_id = _acquire(consonance, tenant, "Stormy Weather")
    faults = f"{emulator.url}/_emulator/faults"
    # the first create is throttled for longer than the client will wait; later, creates are refused (503)
    requests.post(
        faults,
        json={"method": "POST", "path": "^/wiki/api/v2/pages$", "status": 429, "count": 1, "retry_after": 3600},
        timeout=5,
    )
    drain(tenant)
    entry = db.session.execute(sa.select(OutboxEntry).where(OutboxEntry.kind == "confluence.page_set")).scalar_one()
    assert entry.status == "pending" and entry.attempts == 1 and "RateLimited" in entry.last_error
    requests.post(faults, json={"method": "POST", "path": "^/wiki/api/v2/pages$", "status": 503, "count": 8}, timeout=5)
    drain(tenant, now=utcnow() + timedelta(hours=2))
    requests.delete(faults, timeout=5)
    drain(tenant, now=utcnow() + timedelta(hours=4))
    db.session.expire_all()
    assert db.session.get(OutboxEntry, entry.id).status == "delivered"
    _assert_complete_set(emulator, "Stormy Weather", work_id, confluence)
