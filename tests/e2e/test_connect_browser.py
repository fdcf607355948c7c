"""The Connect transport in a real browser: our iframe page with the emulator's all.js (AP), Refresh
and a double-clicked decision sent with a fresh context token plus the form's action token."""

from __future__ import annotations

import time
import uuid

import pytest

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection

pytestmark = pytest.mark.browser


def test_connect_iframe_panels_refresh_and_push_a_decision_once(page, connect_site, artifacts):
    site = connect_site
    gateway = ConsonanceGateway(ConsonanceConnection(host=site.consonance.url, api_key=site.consonance.api_key))
    expected = gateway.title(site.work_id)
    page.goto(site.viewer_url())
    assert page.locator("iframe.connect-macro").count() == 4
    status = page.frame_locator('iframe[data-macro-key="title-status"]')
    status.locator(".c4c-panel--title-status").wait_for()
    assert status.locator(".c4c-title__name").inner_text().strip() == expected.title
    assert page.locator('iframe[data-macro-key="title-status"]').bounding_box()["height"] > 300  # AP.resize

    site.consonance.control.move_to_stage(int(site.work_id), "Editorial")
    status.locator("button[data-action=refresh]").click()
    status.locator(".c4c-title__line .c4c-lozenge", has_text="Editorial").wait_for()

    text = f"Hold until the sales conference {uuid.uuid4().hex[:8]}"
    status.locator("select[name=decisionType]").select_option("hold")
    status.locator("textarea[name=text]").fill(text)
    status.locator("button[type=submit]").dblclick()
    status.locator(".c4c-form-status--ok").wait_for()
    deadline = time.monotonic() + 15
    while not [n for n in gateway.list_notes(site.work_id) if text in n.text] and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    assert len([n for n in gateway.list_notes(site.work_id) if text in n.text]) == 1
    page.locator('iframe[data-macro-key="title-status"]').screenshot(path=str(artifacts / "connect-title-status.png"))
