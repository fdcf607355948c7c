"""Page sets filled from Consonance over HTTP: the author on Key contacts, the delivery and publication
dates on Schedule & dates (slips marked), About the book on the home page, a dated meeting template, and a
Decision log whose instructions are the forms the app reads; a slip rewrites only the app's region and
keeps every word people wrote around it."""

from __future__ import annotations

import sqlalchemy as sa

from addon.confluence.owned_regions import read_region
from addon.extensions import db
from addon.flows import page_templates as templates
from addon.flows.change_detection import poll
from addon.flows.page_layout import parse_decision_log
from addon.titles.models import TitlePage
from tests.flows.sync_harness import CATALOGUE, drain

CONSONANCE_CATALOGUE = CATALOGUE
CONSONANCE_RESET_EACH_TEST = True


def _pages(work_id: str) -> dict[str, str]:
    rows = db.session.execute(sa.select(TitlePage).where(TitlePage.work_id == work_id)).scalars()
    return {row.role: row.page_id for row in rows}


def test_pages_carry_the_titles_people_and_dates_and_keep_what_people_wrote(tenant, consonance, confluence):
    assert poll(tenant)["baseline"] == 1
    work = consonance.control.acquire_title("The Orchard Keeper")
    work_id = str(work["id"])
    poll(tenant)
    drain(tenant)
    pages = _pages(work_id)
    title = consonance.sandbox.catalogue.works[int(work_id)]

    contacts = read_region(confluence.get_page(pages["key-contacts"]).body, templates.CONTACTS_REGION)
    assert title.contributions
    for contribution in title.contributions:
        assert contribution.person.name in contacts
    assert "By (author)" in contacts or "Contributor" in contacts

    schedule_page = confluence.get_page(pages["schedule"])
    milestones = read_region(schedule_page.body, templates.MILESTONES_REGION)
    assert "Manuscript delivery" in milestones and "On plan" in milestones and "Slipped" not in milestones

    home = confluence.get_page(pages["home"]).body
    about = read_region(home, templates.ABOUT_REGION)
    assert f"By: </strong>{title.contributions[0].person.name}" in about
    meetings = confluence.get_page(pages["meeting-notes"]).body
    assert "— Kick-off" in meetings and "Attendees" in meetings and "Action items" in meetings

    decision_log = confluence.get_page(pages["decision-log"]).body
    assert "<th>Decision</th><th>Detail</th><th>Decided by</th><th>Date</th>" in decision_log
    assert parse_decision_log(decision_log) == ([], [])  # the empty starter row is not a decision

    # a person writes around the region; then the manuscript slips in Consonance
    edited = schedule_page.body.replace(
        "<h2>Dependencies and risks</h2>", "<h2>Dependencies and risks</h2><p>Author on leave in March.</p>"
    )
    confluence.update_page(schedule_page, edited)
    delivery_id = work["deliveryDates"][0]["id"]
    consonance.control.slip_delivery(delivery_id, 21)
    consonance.control.slip_publication(int(work_id), 30)
    consonance.control.move_to_stage(int(work_id), "Contracted")  # a change the poll sees
    poll(tenant)
    drain(tenant)

    after = confluence.get_page(pages["schedule"]).body
    milestones = read_region(after, templates.MILESTONES_REGION)
    assert "Slipped 3 weeks" in milestones
    assert "Author on leave in March." in after
    again = confluence.get_page(pages["schedule"]).version
    poll(tenant)
    drain(tenant)
    assert confluence.get_page(pages["schedule"]).version == again  # nothing new: no new version
