"""Push decision: a real user is required, the idempotency key makes every resend one decision,
and the outbox writes exactly one note (and stage change) to the Consonance sandbox."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection
from addon.decisions.models import Decision
from addon.extensions import db
from addon.jobs import outbox
from addon.jobs.models import OutboxEntry
from addon.platform import tenants
from tests.fixtures.macros import connect_tenant_to
from tests.platform.signing import connect_claims
from tests.servers import serving

KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture
def app_config(app_config):
    app_config["OUTBOX_DELIVER_ON_COMMIT"] = "0"  # the tests drain the outbox themselves
    return app_config


@pytest.fixture
def fit(site_fit):
    """Forge headers from a panel on the emulator's page that shows every title but 4, with real tokens."""
    return site_fit


def notes_on(consonance, work_id):
    return ConsonanceGateway(ConsonanceConnection(host=consonance.url, api_key=consonance.api_key)).list_notes(work_id)


def decide(client, headers, **fields):
    body = {
        "workId": "3",
        "decisionType": "note",
        "text": "Cover approved <b>at</b> the meeting",
        "idempotencyKey": KEY,
        "macro": "title-status",
        **fields,
    }
    return client.post(body.pop("path", "/forge/actions/decision"), json=body, headers=headers)


def counts():
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Decision)),
        db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)),
    )


def test_a_resent_decision_is_recorded_once_and_lands_once_as_a_note(client, fit, forge_tenant, consonance):
    first = decide(client, fit())
    again = decide(client, fit())
    assert (first.status_code, first.get_json()["created"]) == (201, True)
    assert (again.status_code, again.get_json()["created"]) == (200, False)
    # not yet written to Consonance (the outbox has it): "recorded", never "sent"
    assert first.get_json()["message"] == "Recorded. It is on its way to Consonance; no need to send it again."
    assert again.get_json()["message"] == "Already sent — recorded once."
    assert counts() == (1, 1)
    assert outbox.drain()["delivered"] == 1
    decide(client, fit())
    assert outbox.drain()["delivered"] == 0
    notes = [n for n in notes_on(consonance, "3") if n.external_ref == KEY]
    assert len(notes) == 1
    assert "Cover approved <b>at</b> the meeting" in notes[0].text
    assert "in Confluence by User user-1)" in notes[0].text and "557058:user-1" not in notes[0].text  # by name
    assert db.session.scalar(sa.select(Decision.delivery_state)) == "delivered"


def test_approve_stage_moves_the_work_on_once(client, fit, forge_tenant, consonance):
    work = next(
        w for w in range(10, 31) if consonance.control.work(w)["projectStage"] not in ("Published", "Production")
    )
    stage = consonance.control.work(work)["projectStage"]
    key = "approve-" + KEY
    answer = decide(client, fit(), workId=str(work), decisionType="approve_stage", text="", idempotencyKey=key)
    assert answer.status_code == 201
    to_stage = answer.get_json()["toStage"]
    assert to_stage and to_stage != stage
    outbox.drain()
    entry = db.session.scalar(sa.select(OutboxEntry))
    assert consonance.control.work(work)["projectStage"] == to_stage
    # a redelivery (worker died after writing) converges: no second move, no second note
    entry.status, entry.next_attempt_at = "pending", entry.created_at
    db.session.commit()
    outbox.drain()
    assert consonance.control.work(work)["projectStage"] == to_stage
    notes = [n for n in notes_on(consonance, str(work)) if n.external_ref == key]
    assert len(notes) == 1 and f"{stage} → {to_stage}" in notes[0].text


def test_concurrent_double_click_makes_one_decision(app, fit, forge_tenant, consonance):
    headers = [fit() for _ in range(6)]
    with serving(app) as url:

        def send(h):
            return requests.post(
                f"{url}/forge/actions/decision",
                headers=h,
                timeout=30,
                json={
                    "workId": "3",
                    "decisionType": "hold",
                    "text": "Wait for the sales conference",
                    "idempotencyKey": KEY,
                },
            )

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = sorted(r.status_code for r in pool.map(send, headers))
    assert statuses == [200] * 5 + [201]
    assert counts() == (1, 1)


@pytest.mark.parametrize(
    "options, reason",
    [
        ({"user_token": False}, "user_token_required"),
        ({"principal": None}, "user_token_required"),
    ],
)
def test_forge_decisions_need_the_viewing_users_token(client, fit, forge_tenant, options, reason):
    answer = decide(client, fit(**options))
    assert answer.status_code == 401 and answer.get_json()["error"] == reason
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"decisionType": "delete_everything"}, "bad_decision_type"),
        ({"idempotencyKey": "short"}, "bad_idempotency_key"),
        ({"text": "  "}, "text_required"),
        ({"text": "x" * 5001}, "text_too_long"),
    ],
)
def test_bad_forms_are_refused_with_a_reason(client, fit, forge_tenant, fields, error):
    answer = decide(client, fit(), **fields)
    assert answer.status_code in (400, 422) and answer.get_json()["error"] == error


def test_a_key_reused_for_another_decision_is_a_conflict(client, fit, forge_tenant):
    assert decide(client, fit()).status_code == 201
    assert decide(client, fit(principal="557058:someone-else")).status_code == 409


# --- Connect -------------------------------------------------------------------------------------


@pytest.fixture
def connect_site(client, connect_install, consonance, site):
    payload = connect_install(base_url=site.wiki_url)
    site.connect_as(payload)
    connect_tenant_to(tenants.find_tenant(tenants.CONNECT, payload["clientKey"]), consonance)
    payload["pageId"] = site.main_page
    return payload


def context_token(payload, sub="557058:user-1"):
    return jwt.encode(
        connect_claims(payload["clientKey"], "GET", "/", qsh="context-qsh", sub=sub),
        payload["sharedSecret"],
        algorithm="HS256",
    )


def rendered_action_token(client, payload):
    path = "/connect/macro/title-status"
    html = client.get(f"{path}?title=3&pageId={payload['pageId']}&jwt={context_token(payload)}").get_data(as_text=True)
    return re.search(r'name="actionToken" value="([^"]+)"', html).group(1)


def connect_decide(client, payload, token, **fields):
    fields.setdefault("pageId", payload["pageId"])
    return decide(client, {"Authorization": f"JWT {token}"}, path="/connect/actions/decision", **fields)


def test_connect_context_token_alone_is_not_enough(client, connect_site):
    answer = connect_decide(client, connect_site, context_token(connect_site))
    assert answer.status_code == 403 and answer.get_json()["error"] == "bad_action_token"
    assert counts() == (0, 0)


def test_connect_context_token_with_the_forms_action_token_records(client, connect_site):
    action = rendered_action_token(client, connect_site)
    answer = connect_decide(client, connect_site, context_token(connect_site), actionToken=action)
    assert answer.status_code == 201
    assert counts() == (1, 1)


@pytest.mark.parametrize(
    "fields, sub",
    [
        ({"workId": "4"}, "557058:user-1"),  # the form was for another title
        ({"macro": "rights-link"}, "557058:user-1"),
        ({}, "557058:another-user"),  # someone else's form
    ],
)
def test_connect_action_tokens_are_bound_to_user_title_and_macro(client, connect_site, fields, sub):
    action = rendered_action_token(client, connect_site)
    answer = connect_decide(client, connect_site, context_token(connect_site, sub=sub), actionToken=action, **fields)
    assert answer.status_code == 403


def test_connect_expired_form_asks_to_resend_and_a_new_token_works(app, client, connect_site):
    tenant = tenants.find_tenant(tenants.CONNECT, connect_site["clientKey"])
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="c4c.macro-action.v1")
    claims = {"t": tenant.id, "u": "557058:user-1", "w": "3", "m": "title-status"}
    import itsdangerous.timed

    old = itsdangerous.timed.TimestampSigner.get_timestamp
    itsdangerous.timed.TimestampSigner.get_timestamp = lambda self: int(time.time()) - 3600
    try:
        expired = serializer.dumps(claims)
    finally:
        itsdangerous.timed.TimestampSigner.get_timestamp = old
    answer = connect_decide(client, connect_site, context_token(connect_site), actionToken=expired)
    assert answer.status_code == 401 and answer.get_json()["error"] == "form_expired"
    assert "Your text is kept" in answer.get_json()["message"]
    renewed = client.get(
        f"/connect/macro/title-status/action-token?workId=3&pageId={connect_site['pageId']}"
        f"&jwt={context_token(connect_site)}"
    )
    answer = connect_decide(
        client, connect_site, context_token(connect_site), actionToken=renewed.get_json()["actionToken"]
    )
    assert answer.status_code == 201


def test_connect_request_bound_jwt_needs_no_action_token(client, connect_site):
    path = "/connect/actions/decision"
    token = jwt.encode(
        connect_claims(connect_site["clientKey"], "POST", path), connect_site["sharedSecret"], algorithm="HS256"
    )
    assert connect_decide(client, connect_site, token).status_code == 201


def test_the_form_starts_with_no_decision_chosen(client, fit, forge_tenant):
    html = client.post("/forge/macro/title-status", json={}, headers=fit(config={"title": "3"})).get_json()["html"]
    assert '<option value="" selected disabled>Choose a decision…</option>' in html
    answer = decide(client, fit(), decisionType="")
    assert answer.status_code == 422 and "Choose" in answer.get_json()["message"]
