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
