"""A Consonance that offers only what its docs show, in a real browser: Test connection lists what is off and
why, the four macros show the documented facts and say what this Consonance cannot tell, and a decision
pushed from the panel is recorded, marked as not sent, with the reason."""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import _require_browser, running_site
from tests.e2e.test_admin_browser import MACROS, choose, open_admin

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def documented_only_site(migrated_database, tmp_path_factory):
    _require_browser()
    with running_site(
        "forge",
        migrated_database,
        tmp_path_factory.mktemp("e2e-capabilities"),
        connected=False,
        consonance_profile="documented-only",
    ) as running:
        yield running


def test_a_documented_only_consonance_switches_features_off_one_by_one(page, documented_only_site, artifacts):
    site = documented_only_site
    frame = open_admin(page, site)
    choose(frame, "page_set_space_key", "Publ", "Publishing (PUB)")
    frame.locator("#f-host").fill(site.consonance.url)
    frame.locator("#f-key").fill(site.consonance.api_key)
    frame.locator('button[data-action="test-connection"]').click()
    table = frame.locator(".c4c-connection-result .c4c-capabilities")
    table.wait_for()
    notes = table.locator("tr", has_text="Decisions sent to Consonance as notes")
    assert notes.locator("td").first.inner_text() == "No"
    assert "lacks the `createWorkNote` mutation" in notes.inner_text()
    assert table.locator("tr", has_text="Imprint").locator("td").first.inner_text() == "No"
    assert "without pagination" in table.locator("tr", has_text="Catalogue listing").inner_text()
    frame.locator(".c4c-connection-result").screenshot(path=str(artifacts / "admin-capabilities.png"))
    frame.locator('button[data-action="save"]').click()
    frame.locator(".c4c-form-status--ok").wait_for()
    kept = frame.locator("fieldset .c4c-capabilities")  # the saved page shows what was found, with its time
    assert "What your Consonance offers (checked" in kept.locator("caption").inner_text()

    page.goto(site.viewer_url())
    work = site.consonance.control.work(int(site.work_id))
    for macro in MACROS:
        panel = page.frame_locator(f'iframe[data-macro-key="{macro}"]')
        panel.locator(f".c4c-panel--{macro}").wait_for()
        assert panel.locator(".c4c-title__name").inner_text().strip() == work["title"]
        assert "Imprint: not available from your Consonance" in panel.locator(".c4c-unavailable").inner_text()

    status = page.frame_locator('iframe[data-macro-key="title-status"]')
    button = status.locator("button[type=submit]")
    assert button.inner_text() == "Record the decision (not sent)"
    assert (
        "your Consonance does not accept the `createWorkNote` mutation" in status.locator(".c4c-not-sent").inner_text()
    )
    text = f"Blurb approved {uuid.uuid4().hex[:8]}"
    status.locator("select[name=decisionType]").select_option("note")
    status.locator("textarea[name=text]").fill(text)
    button.click()
    status.locator(".c4c-form-status--ok").wait_for()
    page.locator('iframe[data-macro-key="title-status"]').screenshot(path=str(artifacts / "macro-not-sent.png"))

    from addon.decisions.models import Decision
    from addon.extensions import db

    deadline, state = time.monotonic() + 15, None
    while time.monotonic() < deadline and state != "not_sent":
        with site.app.app_context():
            state = db.session.scalar(sa.select(Decision.delivery_state).where(Decision.text == text))
            db.session.remove()
        time.sleep(0.2)
    assert state == "not_sent"
    assert not [
        r
        for r in site.consonance.control.requests(500)
        if r.get("refused") and "Capability" not in (r["operationName"] or "")
    ]
