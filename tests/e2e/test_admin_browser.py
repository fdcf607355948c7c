"""The admin pages in a real browser inside the Confluence emulator (Forge `confluence:globalSettings`
module over @forge/bridge): a refused key says so, a good key saves and the macros start showing data, a
non-admin is refused, a failed write shows its reason and Retry delivers it. Guide screenshots come from here."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection

pytestmark = pytest.mark.browser

ADMIN_MODULE = "consonance-admin"
GUIDE_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
MACROS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")


def admin_url(site, viewer: str = "admin") -> str:
    return f"{site.emulator.url}/wiki/admin/apps/{ADMIN_MODULE}?as={viewer}"


def open_admin(page, site, viewer: str = "admin"):
    """The settings page as `viewer` (an emulator nickname): the frame, once the app has answered."""
    page.goto(admin_url(site, viewer))
    frame = page.frame_locator(f'iframe[data-module-key="{ADMIN_MODULE}"]')
    frame.locator("#c4c-config-form, .c4c-admin-refused").first.wait_for()
    return frame


def snapshot(page, artifacts: Path, name: str, guide: bool = False, upto=None) -> None:
    """A screenshot of the settings frame (down to the `upto` element, if given) under test-artifacts/;
    guide images are copied into docs/img/ by `make guide-images` (UPDATE_GUIDE_IMAGES=1), so an
    ordinary test run leaves the working tree as it was."""
    target = artifacts / f"{name}.png"
    iframe = page.locator(f'iframe[data-module-key="{ADMIN_MODULE}"]')
    if upto is None:
        iframe.screenshot(path=str(target))
    else:
        top, bottom = iframe.bounding_box(), upto.bounding_box()  # viewport coordinates
        scrolled = page.evaluate("window.scrollY")  # a full-page clip counts from the top of the page
        clip = {
            "x": top["x"],
            "y": top["y"] + scrolled,
            "width": top["width"],
            "height": bottom["y"] + bottom["height"] + 8 - top["y"],
        }
        page.screenshot(path=str(target), clip=clip, full_page=True)
    if guide and os.environ.get("UPDATE_GUIDE_IMAGES") == "1":
        GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, GUIDE_IMAGES / f"{name}.png")


def gateway(site) -> ConsonanceGateway:
    return ConsonanceGateway(ConsonanceConnection(host=site.consonance.url, api_key=site.consonance.api_key))


def choose(frame, field: str, typed: str, option: str) -> None:
    """Pick from a picker the way an admin does: type, wait for Confluence's list, click the entry."""
    picker = frame.locator(f'.c4c-picker[data-name="{field}"]')
    picker.locator(".c4c-picker-search").fill(typed)
    picker.locator(".c4c-picker-option", has_text=option).click()
    picker.locator(".c4c-picker-chosen .c4c-chip", has_text=option).wait_for()


def test_a_non_admin_is_refused_with_a_clear_page(page, unconfigured_site, artifacts):
    frame = open_admin(page, unconfigured_site, viewer="editor")
    refusal = frame.locator(".c4c-admin-refused")
    assert "Only Confluence site admins can open the Consonance for Confluence settings" in refusal.inner_text()
    assert frame.locator("#c4c-config-form").count() == 0 and frame.locator("#f-key").count() == 0
    snapshot(page, artifacts, "admin-refused")


def test_a_bad_key_is_refused_clearly_and_a_good_key_saves_and_the_macros_show_data(page, unconfigured_site, artifacts):
    site = unconfigured_site
    page.goto(site.viewer_url())  # before: the macros say Consonance is not connected yet
    status = page.frame_locator('iframe[data-macro-key="title-status"]')
    assert "Consonance is not connected" in status.locator(".c4c-message--not_configured").inner_text()
    frame = open_admin(page, site)

    # spaces and pages come from Confluence's lists (a fresh site must choose where title pages go)
    choose(frame, "page_set_space_key", "Publ", "Publishing (PUB)")
    choose(frame, "stage_guide_page_id", "Welcome to Pub", "Welcome to Publishing")

    # a wrong key: Test connection says Consonance refused it, and saving keeps nothing
    frame.locator("#f-host").fill(site.consonance.url)
    frame.locator("#f-key").fill("not-the-key-" + uuid.uuid4().hex[:8])
    frame.locator('button[data-action="test-connection"]').click()
    result = frame.locator(".c4c-connection-result.is-failed")
    result.wait_for()
    assert "key" in result.locator(".c4c-connection-headline").inner_text().lower()
    frame.locator('button[data-action="save"]').click()
    key_error = frame.locator('[data-error-for="consonance_api_key"]')
    key_error.filter(has_text="key").wait_for()
    assert "Nothing was saved" in frame.locator(".c4c-form-summary").inner_text()
    snapshot(page, artifacts, "admin-bad-key", guide=True, upto=frame.locator("fieldset").first)

    # the right key: saved, the key is never shown again, and the page says a key is saved
    frame.locator("#f-key").fill(site.consonance.api_key)
    frame.locator('button[data-action="save"]').click()
    frame.locator(".c4c-form-status--ok").wait_for()
    assert frame.locator("#f-key").input_value() == ""
    assert "A key is saved" in frame.locator("#f-key").get_attribute("placeholder")
    assert site.consonance.api_key not in frame.locator("body").inner_html()
    page.reload()
    frame = open_admin(page, site)
    assert frame.locator("#f-host").input_value() == site.consonance.url
    assert (
        frame.locator('.c4c-picker[data-name="stage_guide_page_id"] .c4c-chip')
        .inner_text()
        .startswith("Welcome to Publishing")
    )
    assert (
        frame.locator('.c4c-picker[data-name="page_set_space_key"] .c4c-chip')
        .inner_text()
        .startswith("Publishing (PUB)")
    )
    snapshot(page, artifacts, "admin-configuration", guide=True)

    # the seeded page's four macros now show Consonance's values (nothing else changed)
    expected = gateway(site).title(site.work_id)
    page.goto(site.viewer_url())
    for macro in MACROS:
        panel = page.frame_locator(f'iframe[data-macro-key="{macro}"]')
        panel.locator(f".c4c-panel--{macro}").wait_for()
        assert panel.locator(".c4c-title__name").inner_text().strip() == expected.title
    isbns = {
        t.strip()
        for t in page.frame_locator('iframe[data-macro-key="title-status"]').locator("td.c4c-mono").all_inner_texts()
    }
    assert {f.isbn13 for f in expected.formats} <= isbns
    page.screenshot(path=str(artifacts / "admin-macros-after-configuration.png"), full_page=True)


def test_the_activity_page_shows_a_failed_write_and_retry_delivers_it(page, unconfigured_site, artifacts):
    from addon.decisions import service as decisions
    from addon.extensions import db
    from addon.platform import tenants
    from addon.platform.models import Tenant
    from addon.settings.service import update_settings

    site = unconfigured_site
    text = f"Cover approved at the launch meeting {uuid.uuid4().hex[:8]}"
    with site.app.app_context():
        tenant = db.session.get(Tenant, site.tenant_id)
        update_settings(tenant, {"consonance_host": site.consonance.url}, actor="557058:e2e-setup")
        tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, site.consonance.api_key)
        db.session.commit()
        # Consonance throttles for longer than the app waits: the write fails at its first attempt
        site.consonance.control.add_fault(operation="AddWorkNote", rateLimitCount=50, retryAfter=120)
        try:
            decisions.record_decision(
                tenant,
                idempotency_key=uuid.uuid4().hex,
                work_id=site.work_id,
                decision_type="note",
                text=text,
                actor="557058:e2e-editor",
                source="macro",
            )
        finally:
            pass

    try:
        frame = open_admin(page, site)
        frame.locator('[data-tab="activity"]').click()
        row = frame.locator(".c4c-failed-writes tbody tr").first
        row.wait_for()
        assert "Push a decision to Consonance" in row.inner_text()
        reason = row.locator(".c4c-reason").inner_text()
        assert "Consonance asked the app to slow down" in reason and "HTTP 429" in reason  # words, then detail
        assert row.locator('button[data-action="retry"]').is_visible()
        snapshot(page, artifacts, "admin-activity", guide=True)
    finally:
        site.consonance.control.clear_faults()

    frame.locator('button[data-action="retry"]').first.click()
    frame.locator(".c4c-form-status--ok").wait_for()
    frame.get_by_text("No failed writes.").wait_for()
    notes = [n for n in gateway(site).list_notes(site.work_id) if text in (n.text or "")]
    deadline = time.monotonic() + 10
    while not notes and time.monotonic() < deadline:
        time.sleep(0.2)
        notes = [n for n in gateway(site).list_notes(site.work_id) if text in (n.text or "")]
    assert len(notes) == 1
    snapshot(page, artifacts, "admin-activity-after-retry")


def test_the_connect_configure_page_works_for_admins_and_refuses_others(page, connect_site, artifacts):
    site = connect_site
    url = f"{site.emulator.url}/wiki/admin/apps/consonance-configuration"
    page.goto(f"{url}?as=editor")
    frame = page.frame_locator('iframe[data-module-key="consonance-configuration"]')
    assert "Only Confluence site admins" in frame.locator(".c4c-admin-refused").inner_text()
    assert frame.locator("#c4c-config-form").count() == 0

    page.goto(f"{url}?as=admin")
    frame.locator("#c4c-config-form").wait_for()
    assert frame.locator("#f-host").input_value() == site.consonance.url
    frame.locator('button[data-action="test-connection"]').click()  # AP context token + the page's admin token
    frame.locator(".c4c-connection-result.is-ok").wait_for()
    assert "every check passed" in frame.locator(".c4c-connection-headline").inner_text()
    frame.locator('[data-tab="activity"]').click()
    frame.locator("#c4c-activity").wait_for()
    page.locator('iframe[data-module-key="consonance-configuration"]').screenshot(
        path=str(artifacts / "connect-admin-activity.png")
    )


def test_regenerate_on_the_activity_page_rewrites_this_weeks_summary(page, site, artifacts):
    """The button in a real browser: the admin page's script sends it, the app queues the job, the job
    reads Consonance and owes the summary page's write (delivered by the outbox into the emulator)."""
    import sqlalchemy as sa

    from addon.extensions import db
    from addon.jobs.models import OutboxEntry
    from addon.platform.models import Tenant
    from addon.settings.service import update_settings

    with site.app.app_context():
        tenant = db.session.get(Tenant, site.tenant_id)
        update_settings(tenant, {"page_set_space_key": "PUB"}, actor="557058:e2e-setup")
    frame = open_admin(page, site)
    frame.locator('[data-tab="activity"]').click()
    button = frame.locator('button[data-action="regenerate"][data-cadence="weekly"]')
    button.wait_for()
    assert button.inner_text().strip() == "Regenerate this week's"
    button.click()
    status = frame.locator(".c4c-form-status--ok")
    status.wait_for()
    assert "commentary and action items are kept" in status.inner_text()
    deadline, entries = time.monotonic() + 20, []
    while not entries and time.monotonic() < deadline:
        with site.app.app_context():
            entries = db.session.scalars(
                sa.select(OutboxEntry).where(
                    OutboxEntry.tenant_id == site.tenant_id, OutboxEntry.dedupe_key.like("summary:weekly:%")
                )
            ).all()
        time.sleep(0.2)
    assert len(entries) == 1 and "in the pipeline (not yet published)" in entries[0].payload["region"]
    snapshot(page, artifacts, "admin-activity-regenerate")
