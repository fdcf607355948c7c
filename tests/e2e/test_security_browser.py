"""Issue #13 end to end, with the app installed as a Forge app in the Confluence emulator: a page viewer's
macro frame cannot reach the triggers' routes, the triggers themselves still work (the scheduled tick,
the uninstall that destroys the secrets), and past the per-person limits the panel shows the sentence."""

from __future__ import annotations

import pytest

from addon.platform import tenants
from tests.e2e.conftest import VIEWER, running_site

pytestmark = pytest.mark.browser

UNINSTALL = {"eventType": "avi:forge:uninstalled:app"}


@pytest.fixture(scope="module")
def limited_site(migrated_database, tmp_path_factory):
    from tests.e2e.conftest import _require_browser

    _require_browser()
    with running_site(
        "forge",
        migrated_database,
        tmp_path_factory.mktemp("e2e-security"),
        app_overrides={"DECISIONS_PER_MINUTE": 2, "REFRESHES_PER_MINUTE": 1},
    ) as running:
        yield running


def consonance_key(site):
    with site.app.app_context():
        from addon.extensions import db
        from addon.platform.models import Tenant

        return tenants.get_secret(db.session.get(Tenant, site.tenant_id), tenants.CONSONANCE_API_KEY)


def viewer_frame(site) -> dict:
    page_id = site.page_url.rstrip("/").split("/")[-1]
    return {"macroKey": "title-status", "accountId": VIEWER, "pageId": page_id, "config": {"title": site.work_id}}


@pytest.mark.parametrize("path", ["/forge/lifecycle", "/forge/scheduled", "/forge/events/page"])
def test_a_viewers_macro_frame_cannot_call_the_trigger_routes(limited_site, path):
    answer = limited_site.emulator.emulator.invoke_forge_remote(
        viewer_frame(limited_site), {"invokeType": "ui-remote-fetch", "path": path, "body": UNINSTALL}
    )
    assert answer["success"] is False and answer["error"]["status"] == 403
    assert answer["error"]["body"]["error"] == "wrong_module"
    assert consonance_key(limited_site) == limited_site.consonance.api_key


def test_the_scheduled_trigger_is_answered(limited_site):
    fired = limited_site.emulator.emulator.fire_scheduled_trigger("schedule-tick")
    assert fired["status"] == 202, fired


def test_past_the_decision_limit_the_panel_says_so(page, limited_site, artifacts):
    page.goto(limited_site.viewer_url())
    status = page.frame_locator('iframe[data-macro-key="title-status"]')
    status.locator(".c4c-panel--title-status").wait_for()
    for n in range(2):
        status.locator("select[name=decisionType]").select_option("note")
        status.locator("textarea[name=text]").fill(f"Security e2e note {n}")
        status.locator("button[type=submit]").click()
        status.locator(".c4c-form-status--ok").wait_for()
    status.locator("textarea[name=text]").fill("One too many")
    status.locator("button[type=submit]").click()
    refused = status.locator(".c4c-form-status--error")
    refused.wait_for()
    assert refused.inner_text().strip() == "You have sent many decisions in a minute; try again shortly."
    assert status.locator("textarea[name=text]").input_value() == "One too many"  # the text is kept
    page.locator('iframe[data-macro-key="title-status"]').screenshot(path=str(artifacts / "macro-rate-limited.png"))


def test_past_the_refresh_limit_the_button_says_so(page, limited_site):
    page.goto(limited_site.viewer_url())
    panel = page.frame_locator('iframe[data-macro-key="rights-link"]')
    panel.locator(".c4c-panel--rights-link").wait_for()
    panel.locator("[data-action=refresh]").click()
    panel.locator("[data-action=refresh]:not([disabled])").wait_for()
    button = panel.locator("[data-action=refresh]")
    button.click()
    panel.locator("[data-action=refresh]", has_text="try again shortly").wait_for()
    assert button.inner_text().strip() == "You have refreshed many times in a minute; try again shortly."


def test_the_lifecycle_trigger_uninstall_destroys_the_secrets(limited_site):
    """Last in the module: the site is uninstalled afterwards."""
    delivered = limited_site.emulator.emulator.uninstall_forge()["lifecycle"]
    assert delivered["status"] == 200, delivered
    assert consonance_key(limited_site) is None
