"""Every kind of page the app writes for a seeded title, opened in Chromium inside the Confluence emulator:
people by name (never an account id), the contacts table and milestones filled from Consonance, a Decision
log table row sent to Consonance with its outcome beside it, the hub's campaign calendar, a retrospective
with the title's slips; and a crawl of every page and panel the app wrote for visible ids or hashes."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection

pytestmark = pytest.mark.browser

GUIDE_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
PERSON = "Priya Patel"  # the e2e viewer, as Confluence names them
STARTER_ROW = "<tr><td></td><td></td><td></td><td></td></tr>"  # the Decision log's empty first row
DECISION_ROW = (
    "<tr><td>Approved: jacket brief</td><td>the blue version, with the quote on the front</td>"
    '<td><ac:link><ri:user ri:account-id="{viewer}" /></ac:link></td><td><time datetime="2026-11-03" /></td></tr>'
)
ACCOUNT_ID = re.compile(r"\b\d{6}:[0-9a-z-]{6,}", re.I)
HASH = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{12,}\b")


def _shot(page, artifacts, name: str, locator=None) -> None:
    """A screenshot under test-artifacts/; `make guide-images` (UPDATE_GUIDE_IMAGES=1) copies it into docs/img/."""
    target = artifacts / f"{name}.png"
    (locator or page).screenshot(path=str(target), **({} if locator else {"full_page": True}))
    if os.environ.get("UPDATE_GUIDE_IMAGES") == "1":
        GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, GUIDE_IMAGES / f"{name}.png")


def _gateway(site) -> ConsonanceGateway:
    return ConsonanceGateway(ConsonanceConnection(host=site.consonance.url, api_key=site.consonance.api_key))


def _drain(app, tenant_id: int) -> None:
    from addon.extensions import db
    from addon.jobs import outbox
    from addon.platform.models import Tenant

    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        for _ in range(10):
            if not any(outbox.drain(tenant=tenant, limit=500).values()):
                break


@pytest.fixture(scope="module")
def title_site(site):
    """The seeded title with its page set, a launch hub, a retrospective (after a slipped delivery), the
    stage guide chosen, and the e2e viewer known to Confluence by name."""
    from addon.extensions import db
    from addon.flows import launch_hubs, page_sets, retrospectives
    from addon.flows.pipeline_summaries import owe_summary
    from addon.platform import tenants
    from addon.platform.models import Tenant, utcnow
    from addon.settings.service import update_settings

    from .conftest import VIEWER

    site.emulator.emulator.users.add(VIEWER, PERSON)
    work = site.consonance.control.work(int(site.work_id))
    site.consonance.control.slip_delivery(work["deliveryDates"][0]["id"], 21)
    with site.app.app_context():
        tenant = db.session.get(Tenant, site.tenant_id)
        tenants.set_secret(tenant, tenants.FORGE_SYSTEM_TOKEN, site.emulator.store.forge.system_token)
        update_settings(tenant, {"page_set_space_key": "PUB", "launch_hub_mode": "per_title"}, actor=VIEWER)
        db.session.commit()
        page_sets.enqueue_page_set(tenant, site.work_id, "e2e:page-set")
        db.session.commit()
    _drain(site.app, site.tenant_id)
    with site.app.app_context():
        tenant = db.session.get(Tenant, site.tenant_id)
        launch_hubs.enqueue_refresh(tenant, site.work_id, "e2e:hub")
        db.session.commit()
        retrospectives.ensure_retrospective(tenant, site.work_id)
        owe_summary(tenant, "weekly", utcnow().date())
        db.session.commit()
    _drain(site.app, site.tenant_id)
    _people_write_their_pages(site)
    return site


PLAYBOOK = (
    "<h2>All formats</h2><ac:task-list>"
    "<ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>"
    "<ac:task-body>GATE: Sign off the cover — 6 weeks before publication — owner: Art director</ac:task-body></ac:task>"
    "<ac:task><ac:task-id>2</ac:task-id><ac:task-status>incomplete</ac:task-status>"
    "<ac:task-body>QC: check the running heads</ac:task-body></ac:task></ac:task-list>"
)


def _person(site):
    from addon.confluence.auth import ForgeAuth
    from addon.confluence.client import ConfluenceClient
    from addon.extensions import db
    from addon.platform.models import Tenant

    with site.app.app_context():
        api_base = db.session.get(Tenant, site.tenant_id).api_base_url
    return ConfluenceClient(ForgeAuth(api_base, site.emulator.store.forge.system_token))


def _people_write_their_pages(site) -> None:
    """A playbook with a gate (so the title gets its launch checklist) and a lesson on the retrospective
    (so the lessons index is made): the pages the app writes when people write theirs."""
    from addon.extensions import db
    from addon.flows.editor_page_models import EditorFlowPage
    from addon.platform.models import Tenant
    from addon.settings.service import update_settings

    from .conftest import VIEWER

    person = _person(site)
    space_id = person.get_space_by_key("PUB").id
    playbook = person.create_page(space_id, "Production playbook", "<p>draft</p>")
    site.people_pages = {playbook.id}
    with site.app.app_context():
        tenant = db.session.get(Tenant, site.tenant_id)
        update_settings(tenant, {"playbook_page_ids": [playbook.id]}, actor=VIEWER)
        db.session.commit()
    person.update_page(person.get_page(playbook.id), PLAYBOOK)
    retro = person.get_page(_pages(site)["retrospective"])
    person.update_page(
        retro,
        retro.body.replace(
            "<h2>Lessons learned</h2><ul><li></li></ul>",
            "<h2>Lessons learned</h2><ul><li>Production: book the printer slot before proofs</li></ul>",
        ),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _drain(site.app, site.tenant_id)
        with site.app.app_context():
            kinds = set(
                db.session.execute(
                    sa.select(EditorFlowPage.kind).where(
                        EditorFlowPage.tenant_id == site.tenant_id, EditorFlowPage.page_id.is_not(None)
                    )
                ).scalars()
            )
        if {"launch-checklist", "lessons-index"} <= kinds:
            break
        time.sleep(0.3)
    assert {"launch-checklist", "lessons-index"} <= kinds, kinds


def _pages(site) -> dict[str, str]:
    from addon.extensions import db
    from addon.titles.models import TitlePage

    with site.app.app_context():
        rows = db.session.execute(sa.select(TitlePage).where(TitlePage.tenant_id == site.tenant_id)).scalars()
        return {row.role: row.page_id for row in rows if row.page_id}


def _open(page, site, page_id: str):
    from .conftest import VIEWER

    page.goto(f"{site.emulator.url}/wiki/pages/viewpage.action?pageId={page_id}&as={VIEWER}")
    page.locator("h1").first.wait_for()
    for frame in page.locator("iframe[data-macro-key]").all():  # the app's panels, once they answered
        frame.content_frame.locator(".c4c-panel, .c4c-message").first.wait_for()


def _visible_text(page) -> str:
    """What the app wrote as a reader sees it: the page's title and content, and each of its panels
    (the emulator's own chrome, such as who the page is viewed as, is not the app's)."""
    texts = [page.locator("h1").first.inner_text(), page.locator("#main-content").inner_text()]
    for frame in page.locator("iframe[data-macro-key]").all():
        texts.append(frame.content_frame.locator("body").inner_text())
    return "\n".join(texts)


def test_contacts_and_milestones_are_filled_from_consonance(page, title_site, artifacts):
    title = _gateway(title_site).title(title_site.work_id)
    pages = _pages(title_site)

    _open(page, title_site, pages["key-contacts"])
    contacts = page.locator("table").first
    for person in title.contributors:
        assert person.name in contacts.inner_text()

    _shot(page, artifacts, "page-key-contacts", page.locator("#main-content"))

    _open(page, title_site, pages["schedule"])
    _shot(page, artifacts, "page-schedule", page.locator("#main-content"))
    milestones = page.locator("table", has_text="Manuscript delivery").first
    text = milestones.inner_text()
    assert "Manuscript delivery" in text and "SLIPPED" in text and "Slipped " in text and "(planned " in text
    assert "Publication — " in text

    _open(page, title_site, pages["home"])
    assert "About the book" in page.locator("body").inner_text()


def test_a_decision_table_row_reaches_consonance_and_its_outcome_shows_beside_it(page, title_site, artifacts):
    from .conftest import VIEWER

    pages = _pages(title_site)
    person = _person(title_site)  # a person's edit
    log_page = person.get_page(pages["decision-log"])
    assert STARTER_ROW in log_page.body
    person.update_page(log_page, log_page.body.replace(STARTER_ROW, DECISION_ROW.format(viewer=VIEWER)))  # filled in

    deadline = time.monotonic() + 30
    while True:
        _open(page, title_site, pages["decision-log"])
        outcome = page.locator("tr", has_text="Approved: jacket brief").filter(has=page.locator(".status-lozenge"))
        if outcome.count() and "SENT" in outcome.first.inner_text() or time.monotonic() > deadline:
            break
        _drain(title_site.app, title_site.tenant_id)
        time.sleep(0.5)
    row = outcome.first.inner_text()
    assert "SENT" in row and "Approved. In Consonance" in row and PERSON in row
    assert VIEWER not in _visible_text(page)
    _shot(page, artifacts, "page-decision-log", page.locator("#main-content"))

    notes = [n for n in _gateway(title_site).list_notes(title_site.work_id) if "jacket brief" in n.text]
    assert len(notes) == 1 and f"Decided by {PERSON} on 3 November 2026." in notes[0].text


def test_the_hub_shows_a_campaign_calendar(page, title_site, artifacts):
    title = _gateway(title_site).title(title_site.work_id)
    _open(page, title_site, _pages(title_site)["launch-hub"])
    body = page.locator("body").inner_text()
    assert "Campaign calendar" in body and "All dates" in body and "By month" in body
    calendar = page.locator("table", has_text="Announce by").first
    assert "Publication" in calendar.inner_text() and title.title in calendar.inner_text()
    assert page.locator("table", has_text="Mon").count() >= 1  # the month view
    _shot(page, artifacts, "page-hub-calendar", page.locator("#main-content"))


def test_the_retrospective_carries_the_titles_slips(page, title_site, artifacts):
    _open(page, title_site, _pages(title_site)["retrospective"])
    body = page.locator("body").inner_text()
    assert "Planned and actual dates" in body and "Slips" in body
    slips = page.locator("h3:has-text('Slips') + ul").inner_text()
    assert "Manuscript delivery" in slips and "Slipped " in slips
    _shot(page, artifacts, "page-retrospective", page.locator("#main-content"))


def test_no_page_or_panel_the_app_wrote_shows_an_id_or_a_hash(page, title_site):
    """Every page in the site except the seeded welcome page, the space home and the playbook people wrote:
    the title's page set, its hub, checklist and retrospective, the lessons index, the pipeline summary."""
    from .conftest import VIEWER

    store = title_site.emulator.store
    with store.lock:
        seeded = {store.space_by_key("PUB").homepage_id} | {
            p.id for p in store.pages.values() if p.title == "Welcome to Publishing"
        }
        written = {p.id: p.title for p in store.pages.values() if p.status == "current"}
    crawl = {pid: title for pid, title in written.items() if pid not in seeded | title_site.people_pages}
    titles = set(crawl.values())
    assert any(t.startswith("Launch checklist") for t in titles) and "Lessons learned" in titles, titles
    assert any(t.startswith("Launch hub") for t in titles) and any(t.startswith("Retrospective") for t in titles)
    assert any("Week" in t or "week" in t for t in titles), titles  # the pipeline summary
    roles = {page_id: role for role, page_id in _pages(title_site).items()}
    work = title_site.work_id
    for page_id, title in crawl.items():
        _open(page, title_site, page_id)
        text = _visible_text(page)
        if roles.get(page_id) == "decision-log":
            assert PERSON in text  # who decided, by name
        assert not ACCOUNT_ID.search(text) and VIEWER not in text, (title, ACCOUNT_ID.search(text))
        assert not HASH.search(text), (title, HASH.search(text))
        assert not re.search(rf"\bwork[\s#-]*{work}\b", text, re.I), title
        shown_ids = [pid for pid in written if re.search(rf"(?<![\d.,:/£$€]){pid}(?![\d.,:/])", text)]
        assert not shown_ids, (title, shown_ids)


def test_activity_and_audit_name_people_and_titles(page, title_site, artifacts):
    from .conftest import VIEWER

    title = _gateway(title_site).title(title_site.work_id)
    page.goto(f"{title_site.emulator.url}/wiki/admin/apps/consonance-admin?as=admin")
    frame = page.frame_locator('iframe[data-module-key="consonance-admin"]')
    frame.locator("#c4c-config-form").wait_for()
    frame.locator('[data-tab="activity"]').click()
    frame.locator("#c4c-activity").wait_for()
    activity = frame.locator("#c4c-activity").inner_text()
    assert PERSON in activity and title.title in activity  # the decision: who, on which title
    frame.locator('[data-tab="audit"]').click()
    frame.locator(".c4c-audit").wait_for()
    audit = frame.locator(".c4c-audit").inner_text()
    assert f"{PERSON} recorded an approval on “{title.title}”." in audit
    assert f"{PERSON} changed the configuration." in audit
    for text in (activity, audit):
        assert VIEWER not in text and not ACCOUNT_ID.search(text) and not HASH.search(text)
        assert not re.search(rf"\bwork[\s#-]*{title_site.work_id}\b", text, re.I)
