"""`make run` on its own clock: with POLL_INTERVAL_SECONDS=20 and nobody clicking, a title acquired in the
Consonance sandbox gets its page set within one poll interval, on both install paths, and its rights
guidance link reaches the Consonance record; Forge's scheduled trigger reaches the app as Forge sends it."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.embedded_stack import embedded_stack

POLL_SECONDS = 20
# One poll interval, plus the clock's tick (a tenth of it) and the time the page set itself takes.
WITHIN_SECONDS = POLL_SECONDS + POLL_SECONDS / 10 + 8
CHILDREN = ("Manuscript brief", "Schedule & dates", "Key contacts", "Meeting notes", "Decision log")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["forge", "connect"])
def stack(request, tmp_path_factory):
    with embedded_stack(request.param, tmp_path_factory.mktemp(f"make-run-{request.param}"), POLL_SECONDS) as running:
        running.install = request.param
        yield running


def test_the_demo_site_starts_full(stack):
    titles = set(stack.page_titles())
    demo = {"Stage guide", "Translation and serial rights", "Metadata standards", "Production playbook"}
    assert demo <= titles and {"Launch hubs", "Pipeline summaries", "Lessons learned"} <= titles
    assert any(t.startswith("Launch hub — ") for t in titles)  # the first sync covered the forthcoming list
    homes = [t for t in titles if f"{t} — Decision log" in titles]
    assert len(homes) >= 2  # a few titles with their page sets, made by onboarding


def test_an_acquired_title_gets_its_pages_and_rights_link_with_nobody_clicking(stack):
    title = f"The Unattended {stack.install.title()} Title"
    started = time.monotonic()
    work = stack.acquire(title)
    wanted = {title} | {f"{title} — {child}" for child in CHILDREN}
    made = stack.wait_for(lambda: wanted <= set(stack.page_titles()), WITHIN_SECONDS + 5)
    took = time.monotonic() - started
    assert made, f"no page set for {title!r} after {took:.0f} s:\n{stack.log_path.read_text()[-3000:]}"
    assert took <= WITHIN_SECONDS, f"the page set took {took:.1f} s (poll interval {POLL_SECONDS} s)"
    links = stack.wait_for(lambda: stack.work(work["id"])["webLinks"], 15)
    assert links and {link["role"] for link in links} == {"rights-guidance"}
    assert all(link["link"].startswith(f"{stack.confluence_url}/wiki/pages/viewpage.action?pageId=") for link in links)


def test_forge_scheduled_trigger_reaches_the_app(stack):
    if stack.install != "forge":
        pytest.skip("Connect installs have no scheduled trigger")
    listed = requests.get(f"{stack.confluence_url}/_emulator/scheduled-triggers", timeout=10).json()
    assert [(t["key"], t["route"], t["intervalSeconds"]) for t in listed["triggers"]] == [
        ("schedule-tick", "/forge/scheduled", 300)  # manifest.yml: interval fiveMinute
    ]
    fired = requests.post(f"{stack.confluence_url}/_emulator/scheduled-triggers/schedule-tick/fire", timeout=60).json()
    assert fired["status"] == 202 and fired["attempt"] == 1


# --- the README's tour, in a browser, on the demo site `make run` seeded ------------------------------

STAGE_GUIDE_REVIEWERS = {"Editorial": "Commissioning editor; Publisher", "Copy-editing": "Desk editor"}


def _frame(page, macro):
    frame = page.frame_locator(f'iframe[data-macro-key="{macro}"]')
    frame.locator(f".c4c-panel--{macro}").wait_for()
    return frame


@pytest.mark.browser
def test_the_readme_tour_flow_by_flow(stack, page, artifacts):
    if stack.install != "forge":
        pytest.skip("the tour is walked once, on the default (Forge) install")
    (moved_id, moved_stage, moved_title), (done_id, _stage, done_title), *_ = stack.demo_titles
    new_stage = "Copy-editing" if moved_stage == "Editorial" else "Editorial"
    tasks_before = len(stack.work(moved_id)["tasks"])
    # Everything the tour does in Consonance, at once: each shows within one poll.
    stack.acquire("The Orchard Keeper")  # F1
    stack.move(moved_id, new_stage)  # F2, F3
    season = stack.slip(moved_id, 40)["season"]  # F6 (the slip may move it to another season)
    stack.move(done_id, "Published")  # F8
    wanted = {
        "The Orchard Keeper — Decision log",
        f"Launch checklist — {moved_title}",
        f"Retrospective — {done_title}",
        f"Launch hub — {season}",
    }
    links = stack.wait_for(lambda: wanted <= set(stack.page_links()) and stack.page_links(), WITHIN_SECONDS + 10)
    assert links and wanted <= set(links), sorted(wanted - set(links or {}))

    # The printed address: the welcome page with the four macros.
    page.goto(stack.open_url)
    for macro in ("title-status", "rights-link", "metadata-checklist", "launch-readiness"):
        _frame(page, macro)

    # F1: the new title's home, its stage from Consonance.
    page.goto(links["The Orchard Keeper"])
    assert page.locator("h1").first.inner_text().strip() == "The Orchard Keeper"
    assert "ACQUISITION" in page.locator("body").inner_text().upper()

    # F2: the moved title's home shows the new stage with the stage guide's reviewers; F4 its rights panel.
    page.goto(links[moved_title])
    body = page.locator("body").inner_text()
    assert new_stage.upper() in body.upper() and STAGE_GUIDE_REVIEWERS[new_stage] in body
    rights = _frame(page, "rights-link").locator(".c4c-panel--rights-link").inner_text()
    links_in_consonance = stack.work(moved_id)["webLinks"]
    assert links_in_consonance and any(link["note"].split(" (matches")[0] in rights for link in links_in_consonance)
    page.screenshot(path=str(artifacts / "tour-title-home.png"))

    # F3: the playbook's gates that apply became Consonance tasks.
    assert len(stack.work(moved_id)["tasks"]) > tasks_before

    # F5: the metadata checklist on the brief, and the rule set named on the Activity tab (below).
    page.goto(links[f"{moved_title} — Manuscript brief"])
    assert _frame(page, "metadata-checklist").locator(".c4c-check").count() > 0

    # F6: the launch hub lists the title; F7: this week's pipeline summary; F8: the retrospective.
    page.goto(links[f"Launch hub — {season}"])
    assert moved_title in page.locator("body").inner_text()
    summary = next(title for title in links if title.startswith("Pipeline summary — week"))
    page.goto(links[summary])
    assert "Titles by stage" in page.locator("body").inner_text()
    page.goto(links[f"Retrospective — {done_title}"])
    assert "Lessons learned" in page.locator("body").inner_text()

    # The admin page: what the first sync did, Sync now, Create pages counted before it runs.
    page.goto(stack.admin_url)
    admin = page.frame_locator('iframe[data-module-key="consonance-admin"]')
    admin.locator("#c4c-config-form").wait_for()
    admin.locator('[data-tab="activity"]').click()
    activity = admin.locator("#c4c-activity")
    activity.wait_for()
    assert "First sync" in activity.inner_text() and "your metadata standards page" in activity.inner_text()
    admin.locator('select[data-filter="stage"]').select_option("Production")
    admin.locator('[data-action="count-titles"]').click()
    counted = admin.locator(".c4c-onboarding-count")
    counted.filter(has_text="no pages yet").wait_for()
    assert admin.locator('[data-action="create-pages"]').is_enabled()
    page.screenshot(path=str(artifacts / "tour-admin-activity.png"), full_page=True)
