"""The outbox: owed writes commit with their cause, dedupe, deliver once, back off, fail visibly, retry."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from addon.extensions import db
from addon.jobs import outbox
from addon.jobs.errors import short_error
from addon.jobs.models import DELIVERED, FAILED, IN_FLIGHT, PENDING, OutboxEntry
from addon.jobs.runner import InlineRunner, set_runner
from addon.platform.models import AuditEntry, utcnow
from addon.retries import backoff_delay
from addon.utc import as_utc
from tests.fixtures.tenants import make_tenant


def note(tenant, key="decision-1", text="Approved for copyedit"):
    return outbox.enqueue(
        tenant, "consonance", "test.add_note", {"work_id": "W1", "text": text, "key": key}, dedupe_key=key
    )


def count_entries() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(OutboxEntry)).scalar_one()


def fresh(entry_id) -> OutboxEntry:
    db.session.expire_all()
    return db.session.get(OutboxEntry, entry_id)


def test_entry_commits_with_the_change_that_caused_it(tenant):
    db.session.add(AuditEntry(tenant_id=tenant.id, action="decision"))
    note(tenant, key="kept")
    db.session.commit()
    db.session.add(AuditEntry(tenant_id=tenant.id, action="decision"))
    note(tenant, key="rolled-back")
    db.session.rollback()

    keys = db.session.execute(sa.select(OutboxEntry.dedupe_key)).scalars().all()
    assert keys == ["kept"]
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == 1


def test_enqueue_does_not_commit(tenant):
    note(tenant)
    db.session.rollback()
    assert count_entries() == 0


def test_same_dedupe_key_gives_the_same_entry(tenant, other_tenant):
    first = note(tenant)
    again_in_same_transaction = note(tenant, text="double click")
    db.session.commit()
    again_later = note(tenant, text="re-delivered")
    db.session.commit()
    elsewhere = note(other_tenant)
    db.session.commit()

    assert first.id == again_in_same_transaction.id == again_later.id
    assert fresh(first.id).payload["text"] == "Approved for copyedit"
    assert elsewhere.id != first.id, "tenants are walls: another site's key is its own"
    assert count_entries() == 2


def test_concurrent_enqueues_of_one_key_make_one_row(app, tenant):
    tenant_class, tenant_id = type(tenant), tenant.id  # the fixture's instance belongs to this thread's session
    barrier = threading.Barrier(4)
    ids, errors = [], []

    def click(n):
        try:
            with app.app_context():
                barrier.wait(timeout=5)
                entry = note(db.session.get(tenant_class, tenant_id), text=f"tab {n}")
                entry_id = entry.id
                db.session.commit()
                ids.append(entry_id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert len(ids) == 4 and len(set(ids)) == 1
    assert count_entries() == 1


def test_enqueue_rejects_unknown_kinds_targets_and_unserialisable_payloads(tenant):
    with pytest.raises(ValueError):
        outbox.enqueue(tenant, "consonance", "no.such.handler", {}, "k")
    with pytest.raises(ValueError):
        outbox.enqueue(tenant, "jira", "test.add_note", {}, "k")
    with pytest.raises(TypeError):
        outbox.enqueue(tenant, "consonance", "test.add_note", {"when": object()}, "k")


def test_commit_hands_new_entries_to_the_runner(tenant, recorder):
    entry = note(tenant)
    note(tenant)  # duplicate: not handed over twice
    assert recorder.submitted == [], "nothing is delivered before the transaction commits"
    db.session.commit()
    assert [(job["func"], job["args"], job["tenant_id"]) for job in recorder.submitted] == [
        (outbox.DELIVER_JOB, (entry.id,), tenant.id)
    ]

    note(tenant, key="never-committed")
    db.session.rollback()
    db.session.commit()
    assert len(recorder.submitted) == 1


def test_delivery_through_the_inline_runner_happens_after_commit(app, tenant, fake_consonance):
    set_runner(app, InlineRunner(app, synchronous=True))
    entry = note(tenant)
    db.session.commit()
    assert fresh(entry.id).status == DELIVERED
    assert fake_consonance.notes == {"decision-1": "W1: Approved for copyedit"}


def test_deliver_runs_the_handler_once_and_records_the_result(tenant, fake_consonance):
    entry = note(tenant)
    db.session.commit()
    assert outbox.deliver(entry.id) == outbox.DeliveryOutcome.DELIVERED
    assert outbox.deliver(entry.id) == outbox.DeliveryOutcome.SKIPPED
    row = fresh(entry.id)
    assert (row.status, row.attempts, row.result, row.locked_by) == (DELIVERED, 1, {"note_key": "decision-1"}, None)
    assert row.delivered_at is not None
    assert fake_consonance.calls == 1


def test_failures_back_off_then_fail_visibly_and_retry_resets(app, tenant, fake_consonance):
    app.config.update(OUTBOX_BACKOFF_BASE_SECONDS=10, OUTBOX_BACKOFF_CAP_SECONDS=25)
    fake_consonance.failures_left = 99
    entry = outbox.enqueue(
        tenant,
        "consonance",
        "test.add_note",
        {"work_id": "W1", "text": "t", "key": "k"},
        dedupe_key="k",
        max_attempts=3,
    )
    db.session.commit()
    now = utcnow()

    assert outbox.deliver(entry.id, now=now) == outbox.DeliveryOutcome.RETRYING
    row = fresh(entry.id)
    first_delay = (as_utc(row.next_attempt_at) - now).total_seconds()
    assert row.status == PENDING and row.attempts == 1 and 5 <= first_delay <= 10
    assert "ConnectionError: Consonance unavailable" in row.last_error
    assert "sk-live-123" not in row.last_error, "errors shown to admins never carry tokens"

    assert outbox.deliver(entry.id, now=now + timedelta(seconds=4)) == outbox.DeliveryOutcome.SKIPPED, "not due yet"
    now += timedelta(seconds=first_delay)
    assert outbox.deliver(entry.id, now=now) == outbox.DeliveryOutcome.RETRYING
    second_delay = (as_utc(fresh(entry.id).next_attempt_at) - now).total_seconds()
    assert 10 <= second_delay <= 20

    now += timedelta(seconds=second_delay)
    assert outbox.deliver(entry.id, now=now) == outbox.DeliveryOutcome.FAILED
    row = fresh(entry.id)
    assert (row.status, row.attempts) == (FAILED, 3)
    assert outbox.deliver(entry.id, now=now + timedelta(days=1)) == outbox.DeliveryOutcome.SKIPPED, (
        "failed stays failed"
    )
    assert fake_consonance.calls == 3

    assert outbox.retry(entry.id, tenant=make_tenant()) is False, "another tenant cannot retry it"
    fake_consonance.failures_left = 0
    assert outbox.retry(entry.id, tenant=tenant) is True
    db.session.commit()
    assert (fresh(entry.id).status, fresh(entry.id).attempts) == (PENDING, 0)
    assert outbox.deliver(entry.id) == outbox.DeliveryOutcome.DELIVERED
    assert fresh(entry.id).last_error is None


def test_a_permanent_error_fails_at_once_with_its_reason(tenant):
    entry = outbox.enqueue(tenant, "consonance", "test.permanent", {"work_id": "W9"}, dedupe_key="gone")
    db.session.commit()
    assert outbox.deliver(entry.id) == outbox.DeliveryOutcome.FAILED
    row = fresh(entry.id)
    assert row.attempts == 1 and row.last_error == "PermanentError: work W9 was deleted in Consonance"


def test_entries_of_an_uninstalled_site_fail_without_calling_out(tenant, fake_consonance):
    entry = note(tenant)
    db.session.commit()
    tenant.enabled = False
    tenant.uninstalled_at = utcnow()
    db.session.commit()
    assert outbox.deliver(entry.id) == outbox.DeliveryOutcome.FAILED
    assert fake_consonance.calls == 0
    assert "uninstalled" in fresh(entry.id).last_error


def test_an_expired_lease_makes_the_entry_claimable_again(app, tenant, fake_consonance):
    app.config["OUTBOX_LEASE_SECONDS"] = 60
    entry = note(tenant)
    db.session.commit()
    now = utcnow()
    assert outbox._claim(entry.id, "worker-that-dies", now, 60)  # claimed, then the worker is killed
    assert fresh(entry.id).status == IN_FLIGHT

    assert outbox.deliver(entry.id, now=now + timedelta(seconds=30)) == outbox.DeliveryOutcome.SKIPPED, (
        "lease still held"
    )
    assert outbox.deliver(entry.id, now=now + timedelta(seconds=61)) == outbox.DeliveryOutcome.DELIVERED
    row = fresh(entry.id)
    assert (row.status, row.attempts) == (DELIVERED, 2)
    assert fake_consonance.calls == 1


def test_a_worker_lost_on_the_last_attempt_leaves_the_entry_failed(tenant, fake_consonance):
    entry = outbox.enqueue(
        tenant,
        "consonance",
        "test.add_note",
        {"work_id": "W1", "text": "t", "key": "k"},
        dedupe_key="k",
        max_attempts=1,
    )
    db.session.commit()
    now = utcnow()
    assert outbox._claim(entry.id, "worker-that-dies", now, 5)
    assert outbox.deliver(entry.id, now=now + timedelta(seconds=6)) == outbox.DeliveryOutcome.FAILED
    assert "lease expired" in fresh(entry.id).last_error
    assert fake_consonance.calls == 0


def test_a_late_worker_cannot_overwrite_the_new_owner(tenant, fake_consonance):
    entry = note(tenant)
    db.session.commit()
    now = utcnow()
    assert outbox._claim(entry.id, "slow-worker", now, 5)
    assert outbox._claim(entry.id, "second-worker", now + timedelta(seconds=6), 5)
    stale = fresh(entry.id)
    assert outbox._record_success(stale, "slow-worker", {"late": True}, now=None) == outbox.DeliveryOutcome.SKIPPED
    row = fresh(entry.id)
    assert (row.status, row.locked_by) == (IN_FLIGHT, "second-worker")


def test_drain_delivers_what_is_due_for_one_tenant_or_all(tenant, other_tenant, fake_consonance):
    mine = [note(tenant, key=f"t1-{n}") for n in range(3)]
    theirs = note(other_tenant, key="t2-0")
    db.session.commit()
    assert outbox.drain(tenant=tenant) == {"delivered": 3, "retrying": 0, "failed": 0, "skipped": 0}
    assert fresh(theirs.id).status == PENDING, "draining one tenant leaves the others alone"
    assert all(fresh(entry.id).status == DELIVERED for entry in mine)
    assert outbox.drain()["delivered"] == 1
    assert outbox.drain()["delivered"] == 0


def test_depth_and_oldest_age(tenant, other_tenant, fake_consonance):
    assert outbox.depth() == {"pending": 0, "in_flight": 0, "delivered": 0, "failed": 0}
    assert outbox.oldest_age() == 0.0
    first = note(tenant, key="a")
    note(tenant, key="b")
    note(other_tenant, key="c")
    db.session.commit()
    outbox.deliver(first.id)
    assert outbox.depth(tenant) == {"pending": 1, "in_flight": 0, "delivered": 1, "failed": 0}
    assert outbox.depth()["pending"] == 2
    assert 59 <= outbox.oldest_age(now=utcnow() + timedelta(seconds=60)) <= 61
    assert [entry.dedupe_key for entry in outbox.entries(tenant)] == ["b", "a"]


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap():
    rng = random.Random(7)
    for attempt, ceiling in ((1, 5), (2, 10), (3, 20), (4, 40), (10, 300), (30, 300)):
        delays = [backoff_delay(attempt - 1, base=5, cap=300, rand=rng.random) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1, "jittered"


def test_short_error_masks_secrets_and_stays_short():
    message = short_error(RuntimeError("401 for https://x/api?jwt=abc.def.ghi token=xyz api_key: k1 " + "x" * 900))
    assert "abc.def" not in message and "xyz" not in message and "k1" not in message
    assert len(message) <= 500 and message.startswith("RuntimeError: 401")
