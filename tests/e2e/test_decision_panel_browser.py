"""After an approval, the panel shows the title as it now stands, and not the same approval to press again
(a second press had sent a second note)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_macros_browser import gateway, panel

pytestmark = pytest.mark.browser


def test_an_approved_stage_is_not_offered_again(page, site, artifacts):
    """Once sent, the panel shows the move: waiting for Consonance, or (delivered at once here) the new stage,
    with an approval of the stage after it."""
    page.goto(site.viewer_url())
    status = panel(page, "title-status")
    approve = status.locator("select[name=decisionType] option[value=approve_stage]")
    offered = approve.inner_text().strip()  # "Approve stage (move to …)"
    status.locator("select[name=decisionType]").select_option("approve_stage")
    status.locator("button[type=submit]").click()
    status.locator(".c4c-form-status--ok").wait_for()
    deadline = time.monotonic() + 15
    while approve.count() and approve.inner_text().strip() == offered and time.monotonic() < deadline:
        time.sleep(0.2)
    assert approve.count() == 0 or approve.inner_text().strip() != offered
    moved = offered.split("move to ", 1)[1].rstrip(")")
    shown = " ".join(status.locator(".c4c-title__line, .c4c-pending").all_inner_texts()).lower()
    assert moved.lower() in shown  # the new stage, or "Moving to <stage>: waiting for Consonance to confirm"
    assert status.locator(".c4c-form-status--ok").inner_text().strip()  # what happened stays said
    page.locator('iframe[data-macro-key="title-status"]').screenshot(path=str(artifacts / "approval-sent.png"))

    time.sleep(1.0)  # give a second write every chance to show up
    assert len([n for n in gateway(site).list_notes(site.work_id) if "approv" in n.text.lower()]) == 1
