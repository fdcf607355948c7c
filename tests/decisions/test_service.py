"""A decision's delivery state follows its outbox write: delivered, failed for good, retried."""

import pytest

from addon.consonance.errors import ConsonanceUnavailable
from addon.decisions.models import NOTE
from addon.decisions.service import record_decision
from addon.extensions import db
from addon.gateways import NotConfigured, register_gateways
from addon.jobs import outbox
from addon.jobs.models import OutboxEntry
from addon.platform.models import Tenant


class FlakyConsonance:
    """The app's gateways for this test: a Consonance that is down until told otherwise."""

    def __init__(self):
        self.up = False
        self.notes = []

    def consonance(self, _tenant):
        return self

    def confluence(self, _tenant, user_token=None):
        raise NotConfigured("no Confluence in this test: the note goes without attribution")

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
    register_gateways(app, consonance)
    decision = record_decision(
        tenant, idempotency_key="k-1", work_id="7", decision_type=NOTE, text="Cover approved", actor="557058:editor"
    ).decision
    entry_id = db.session.query(OutboxEntry).one().id

    assert outbox.deliver(entry_id) == outbox.DeliveryOutcome.FAILED
    db.session.refresh(decision)
    assert decision.delivery_state == "failed"

    assert outbox.retry(entry_id, tenant=tenant)
    db.session.commit()
    db.session.refresh(decision)
    assert decision.delivery_state == "pending"

    consonance.up = True
    assert outbox.deliver(entry_id) == outbox.DeliveryOutcome.DELIVERED
    db.session.refresh(decision)
    assert decision.delivery_state == "delivered"
    assert consonance.notes == [("7", "k-1")]


# --- deciding: the page's title, the person's permission, the approver role --------------------------

from addon.decisions import service as decisions  # noqa: E402
from addon.decisions.models import APPROVE_STAGE, DECISION_LABELS, DECISION_TYPES  # noqa: E402
from addon.publishing.domain import Stage, Title  # noqa: E402
from addon.settings.service import update_settings  # noqa: E402


class PageSays:
    """What Confluence would say about one page (the service's PageAccess port), for the rules alone."""

    def __init__(self, shown=("7",), editor=True, admin=False, down=False):
        self.shown, self.editor, self.admin, self.down = frozenset(shown), editor, admin, down

    def titles_shown(self, page_id):
        if self.down:
            raise decisions.AccessUnavailable("confluence down")
        return self.shown

    def can_edit(self, page_id):
        return self.editor

    def is_site_admin(self):
        return self.admin


def _tenant():
    tenant = Tenant(transport="forge", external_id="inst-decide")
    db.session.add(tenant)
    db.session.commit()
    return tenant


def _decision(kind=NOTE, work_id="7", page_id="100", key="k" * 20):
    return decisions.PanelDecision(kind, work_id, "Why", key, "557058:editor", page_id)


def _title(stage="Editorial"):
    return Title(work_id="7", title="Orchard", stage=Stage(stage))


@pytest.mark.parametrize(
    "page, decision, error",
    [
        (PageSays(shown=("8",)), _decision(), "title_not_on_page"),
        (PageSays(editor=False), _decision(), "cannot_edit_page"),
        (PageSays(), _decision(page_id=None), "no_page"),
        (PageSays(down=True), _decision(), "confluence_unavailable"),
    ],
)
def test_a_decision_is_refused_with_a_reason(app, page, decision, error):
    tenant = _tenant()
    with pytest.raises(decisions.DecisionRefused) as refused:
        decisions.decide(tenant, decision, page, lambda _w: _title())
    assert refused.value.error == error and refused.value.message.endswith(".")
    assert db.session.query(OutboxEntry).count() == 0


def test_an_approval_moves_from_the_held_stage_to_the_next(app):
    recorded = decisions.decide(_tenant(), _decision(APPROVE_STAGE), PageSays(), lambda _w: _title("Editorial"))
    assert (recorded.decision.from_stage, recorded.decision.to_stage) == ("Editorial", "Copy-editing")


def test_site_admins_only_approve_when_the_admin_chose_so(app):
    tenant = _tenant()
    update_settings(tenant, {"stage_approvers": "site_admins"}, actor="admin")
    db.session.commit()
    with pytest.raises(decisions.DecisionRefused) as refused:
        decisions.decide(tenant, _decision(APPROVE_STAGE), PageSays(), lambda _w: _title())
    assert refused.value.error == "approver_role"
    assert decisions.decide(tenant, _decision(NOTE), PageSays(), lambda _w: _title()).created
    approved = decisions.decide(
        tenant, _decision(APPROVE_STAGE, key="a" * 20), PageSays(admin=True), lambda _w: _title()
    )
    assert approved.decision.to_stage == "Copy-editing"


def test_consonance_down_while_approving_is_a_503(app):
    def down(_work_id):
        raise ConsonanceUnavailable("down")

    with pytest.raises(decisions.DecisionRefused) as refused:
        decisions.decide(_tenant(), _decision(APPROVE_STAGE), PageSays(), down)
    assert refused.value.status == 503


def test_stage_move_names_the_target_or_the_next_stage():
    assert decisions.stage_move(_title("Proofs")) == ("Proofs", "Production")
    assert decisions.stage_move(_title("Proofs"), "Published") == ("Proofs", "Published")
    assert decisions.stage_move(_title("Published")) == ("Published", None)
    assert decisions.stage_move(None, "Typesetting") == (None, "Typesetting")


def test_every_kind_has_one_wording_used_by_the_note(app):
    assert set(DECISION_LABELS) == set(DECISION_TYPES)
    tenant = _tenant()
    decision = record_decision(
        tenant, idempotency_key="h" * 20, work_id="7", decision_type="hold", text="", actor=None
    ).decision
    assert decisions.note_text(decision).startswith("On hold (Confluence)")
    assert decisions.dedupe_key(decision.id) == f"decision:{decision.id}"
    assert db.session.query(OutboxEntry).one().dedupe_key == decisions.dedupe_key(decision.id)


def test_delivery_states_come_from_the_decision_and_its_write(app):
    tenant = _tenant()
    made = [
        record_decision(tenant, idempotency_key=k * 20, work_id="7", decision_type=NOTE, text="x", actor=None).decision
        for k in "pqr"
    ]
    entries = {e.dedupe_key: e for e in db.session.query(OutboxEntry)}
    entries[decisions.dedupe_key(made[0].id)].status = "failed"
    entries[decisions.dedupe_key(made[0].id)].last_error = "Consonance refused the key"
    entries[decisions.dedupe_key(made[1].id)].attempts = 2
    entries[decisions.dedupe_key(made[1].id)].last_error = "timed out"
    db.session.commit()
    states = decisions.delivery_states(tenant, made)
    assert states[made[0].id] == decisions.Delivery("failed", "Consonance refused the key")
    assert states[made[1].id] == decisions.Delivery("retrying", "timed out")
    assert states[made[2].id] == decisions.Delivery("pending")
