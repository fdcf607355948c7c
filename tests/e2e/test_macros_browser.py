"""The four macros in a real browser inside the Confluence emulator (Forge Custom UI over @forge/bridge):
right values, a double-clicked decision that lands once in Consonance, stale data when Consonance fails."""

from __future__ import annotations

import time
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection
from addon.publishing.territories import territory_name

pytestmark = pytest.mark.browser

MACROS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")


def gateway(site) -> ConsonanceGateway:
    return ConsonanceGateway(ConsonanceConnection(host=site.consonance.url, api_key=site.consonance.api_key))


def panel(page, macro):
    frame = page.frame_locator(f'iframe[data-macro-key="{macro}"]')
    frame.locator(f".c4c-panel--{macro}").wait_for()
    return frame


def open_page(page, site):
    page.goto(site.viewer_url())
    return {macro: panel(page, macro) for macro in MACROS}


def test_the_page_shows_the_right_values_in_all_four_macros(page, site, artifacts):
    expected = gateway(site).title(site.work_id)
    panels = open_page(page, site)

    status = panels["title-status"]
    assert status.locator(".c4c-title__name").inner_text().strip() == expected.title
    assert status.locator(".c4c-title__line .c4c-lozenge").inner_text().strip().lower() == expected.stage.name.lower()
    isbns = set(status.locator("td.c4c-mono").all_inner_texts())
    assert {f.isbn13 for f in expected.formats} <= {i.strip() for i in isbns}
    assert "as of" in status.locator(".c4c-asof").inner_text()

    rights = panels["rights-link"]
    position = expected.rights_position
    shown = rights.locator(".c4c-facts").inner_text()
    for country in position.not_for_sale_countries:
        assert territory_name(country) in shown  # in words: "Canada", not "CA"
    for right in position.licensed_right_types:
        assert right.upper() in shown.upper()

    checklist = panels["metadata-checklist"]
    completion = checklist.locator(".c4c-completion").inner_text()
    assert completion.endswith("%") and 0 <= int(completion[:-1]) <= 100
    assert checklist.locator(".c4c-check").count() > 0

    readiness = panels["launch-readiness"]
    days = (expected.earliest_publication_date - date.today()).days
    assert f"{days} days to go" in readiness.locator(".c4c-verdict").inner_text()
    assert readiness.locator(".c4c-format-card").count() == len(expected.formats)

    for macro in MACROS:  # the iframes grew to their content: nothing cut off
        box = page.locator(f'iframe[data-macro-key="{macro}"]').bounding_box()
        assert box["height"] > 120
        page.locator(f'iframe[data-macro-key="{macro}"]').screenshot(path=str(artifacts / f"macro-{macro}.png"))


def test_a_double_clicked_decision_lands_exactly_once_in_consonance(page, site, artifacts):
    from addon.decisions.models import Decision
    from addon.extensions import db

    text = f"Cover approved at the acquisitions meeting <em>{uuid.uuid4().hex[:8]}</em>"
    status = open_page(page, site)["title-status"]
    status.locator("select[name=decisionType]").select_option("note")
    status.locator("textarea[name=text]").fill(text)
    status.locator("button[type=submit]").dblclick()
    status.locator(".c4c-form-status--ok").wait_for()
    assert status.locator("textarea[name=text]").input_value() == ""

    def landed():
        return [n for n in gateway(site).list_notes(site.work_id) if text in n.text]

    deadline = time.monotonic() + 15
    while not landed() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # give a second write every chance to show up
    notes = landed()
    assert len(notes) == 1 and notes[0].external_ref
    with site.app.app_context():
        decisions = db.session.scalars(sa.select(Decision).where(Decision.text == text)).all()
        assert len(decisions) == 1 and decisions[0].actor and decisions[0].delivery_state == "delivered"
    page.locator('iframe[data-macro-key="title-status"]').screenshot(
        path=str(artifacts / "macro-title-status-sent.png")
    )


def test_with_consonance_failing_the_panels_show_stale_data_and_the_notice(page, site, artifacts):
    expected = gateway(site).title(site.work_id)
    panels = open_page(page, site)
    site.consonance.control.add_fault(errorRate=1.0, errorStatus=503)
    try:
        status = panels["title-status"]
        status.locator("button[data-action=refresh]").click()
        status.locator(".c4c-notice--warning").wait_for()
        panels = open_page(page, site)
        for macro in MACROS:
            notice = panels[macro].locator(".c4c-notice--warning").inner_text()
            assert "— Consonance is not answering" in notice and notice.strip().startswith("as of ")
            assert panels[macro].locator(".c4c-title__name").inner_text().strip() == expected.title
        page.screenshot(path=str(artifacts / "macros-consonance-down.png"), full_page=True)
    finally:
        site.consonance.control.clear_faults()


def test_narrow_columns_wrap_instead_of_scrolling_sideways(browser, site, artifacts):
    context = browser.new_context(viewport={"width": 420, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        open_page(page, site)
        frames = [f for f in page.frames if "/_forge/frames/" in f.url]
        assert len(frames) == len(MACROS)
        for frame in frames:
            overflow = frame.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{frame.url} scrolls sideways by {overflow}px"
        page.locator('iframe[data-macro-key="title-status"]').screenshot(
            path=str(artifacts / "macro-title-status-narrow.png")
        )
    finally:
        context.close()
