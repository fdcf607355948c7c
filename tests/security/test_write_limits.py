"""Per-person write limits through the real decision route: past the limit, 429 with the sentence the panel
shows, and nothing recorded for the refused ones (decisions are bound to a page, so these run against the
Confluence emulator's decision pages, as tests/web/test_actions.py does)."""

from __future__ import annotations

import sqlalchemy as sa

from addon.decisions.models import Decision
from addon.extensions import db
from tests.web.test_actions import app_config, decide, fit  # noqa: F401


def test_decisions_past_the_limit_are_answered_429_with_a_sentence(app, client, fit, forge_tenant):  # noqa: F811
    app.config["DECISIONS_PER_MINUTE"] = 3
    answers = [decide(client, fit(), idempotencyKey=f"{n:032x}") for n in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    refused = answers[-1]
    assert refused.get_json() == {
        "error": "rate_limited",
        "message": "You have sent many decisions in a minute; try again shortly.",
        "retryAfter": int(refused.headers["Retry-After"]),
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 3


def test_another_person_on_the_same_site_is_not_held_back(app, client, fit, forge_tenant):  # noqa: F811
    app.config["DECISIONS_PER_MINUTE"] = 1
    assert decide(client, fit(), idempotencyKey="1" * 32).status_code == 201
    assert decide(client, fit(), idempotencyKey="2" * 32).status_code == 429
    other = fit(principal="557058:user-2")
    assert decide(client, other, idempotencyKey="3" * 32).status_code == 201
