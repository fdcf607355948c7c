"""A decision's delivery state follows its outbox write: delivered, failed for good, retried."""

import pytest

from addon.consonance.errors import ConsonanceUnavailable
from addon.decisions.models import NOTE
from addon.decisions.service import record_decision
from addon.extensions import db
from addon.jobs import outbox
from addon.jobs.models import OutboxEntry
from addon.jobs.outbox import set_services_provider
from addon.platform.models import Tenant


class FlakyConsonance:
    def __init__(self):
        self.up = False
        self.notes = []

    def consonance(self, _tenant):
        return self

    def add_note(self, work_id, text, idempotency_key):
        if not self.up:
            raise ConsonanceUnavailable("Consonance is not answering")
        self.notes.append((work_id, idempotency_key))

        class Note:
            id = "n-1"

        return Note()


@pytest.fixture
def app_config(app_config):
    app_config.update(OUTBOX_MAX_ATTEMPTS=1, OUTBOX_DELIVER_ON_COMMIT="0")
    return app_config


def test_failed_write_shows_on_the_decision_and_retry_delivers_it(app):
    tenant = Tenant(transport="forge", external_id="inst-1")
    db.session.add(tenant)
    db.session.commit()
    consonance = FlakyConsonance()
    set_services_provider(app, lambda _tenant: consonance)
    decision = record_decision(
        tenant, idempotency_key="k-1", work_id="7", decision_type=NOTE, text="Cover approved", actor="557058:editor"
    ).decision
    entry_id = db.session.query(OutboxEntry).one().id

    assert outbox.deliver(entry_id) == outbox.Outcome.FAILED
    db.session.refresh(decision)
    assert decision.delivery_state == "failed"

    assert outbox.retry(entry_id, tenant=tenant)
    db.session.commit()
    db.session.refresh(decision)
    assert decision.delivery_state == "pending"

    consonance.up = True
    assert outbox.deliver(entry_id) == outbox.Outcome.DELIVERED
    db.session.refresh(decision)
    assert decision.delivery_state == "delivered"
    assert consonance.notes == [("7", "k-1")]
