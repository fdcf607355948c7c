"""A refused decision reads as a sentence in the panel, and the text typed stays for another try."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.browser


def test_a_viewer_who_cannot_edit_the_page_is_told_why_in_the_panel(page, site, artifacts):
    from addon.decisions.models import Decision
    from addon.extensions import db

    page.goto(f"{site.emulator.url}{site.page_url}?as=viewer")
    status = page.frame_locator('iframe[data-macro-key="title-status"]')
    status.locator(".c4c-panel--title-status").wait_for()
    status.locator("select[name=decisionType]").select_option("note")
    status.locator("textarea[name=text]").fill("Hold the cover until sales sign off")
    status.locator("button[type=submit]").click()
    refusal = status.locator(".c4c-form-status--error")
    refusal.wait_for()
    assert refusal.inner_text().startswith("Only people who can edit this page can record decisions from it.")
    assert status.locator("textarea[name=text]").input_value() == "Hold the cover until sales sign off"
    page.locator('iframe[data-macro-key="title-status"]').screenshot(path=str(artifacts / "decision-refused.png"))
    with site.app.app_context():
        assert db.session.scalars(sa.select(Decision).where(Decision.text.like("Hold the cover%"))).all() == []
