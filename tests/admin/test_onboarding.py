"""Onboarding a list that existed before the app, over HTTP against both sandboxes: "Create pages for
existing titles" counts before it runs, makes each title's page set once through the outbox and reports its
progress; "Sync now" polls at once; saving the configuration reads pages written before it."""

from __future__ import annotations

import sqlalchemy as sa

from addon.admin import activity, configuration, onboarding
from addon.extensions import db
from addon.flows import page_sets
from addon.flows.change_detection import poll
from addon.flows.editor_page_models import PlaybookSource
from addon.flows.sync_models import PollState, TitleSnapshot
from addon.gateways import gateways
from addon.jobs.models import JobRun, OutboxEntry
from addon.titles.models import TitlePage
from tests.flows.sync_harness import CATALOGUE, drain

CONSONANCE_CATALOGUE = CATALOGUE
CONSONANCE_RESET_EACH_TEST = True

EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "examples"


def _homes() -> set[str]:
    return set(db.session.execute(sa.select(TitlePage.work_id).where(TitlePage.role == "home")).scalars())


def _page_set_entries() -> int:
    return db.session.execute(
        sa.select(sa.func.count(OutboxEntry.id)).where(OutboxEntry.kind == page_sets.KIND)
    ).scalar()


def test_pages_for_existing_titles_are_counted_made_once_and_followed(tenant, consonance):
    poll(tenant)  # the first sync: the forthcoming list is managed, no page sets yet
    titles = list(gateways().consonance(tenant).iter_titles())
    stage = titles[0].stage.name
    expected = sorted(t.work_id for t in titles if t.stage and t.stage.name == stage)

    counted = onboarding.count(tenant, onboarding.Filters(stage=stage.upper()))  # case does not matter
    assert counted["count"] == len(expected) and counted["sample"][0] == titles[0].title
    assert f"stage {stage.upper()}" in counted["message"] and _page_set_entries() == 0  # counting makes nothing

    started = onboarding.create_pages(tenant, onboarding.Filters(stage=stage), "admin")
    assert started["queued"] == len(expected) and started["waiting"] == len(expected) and not started["done"]
    drain(tenant)
    done = onboarding.progress(tenant)
    assert (done["made"], done["failed"], done["waiting"], done["done"]) == (len(expected), 0, 0, True)
    assert f"{len(expected)} of {len(expected)} made" in done["message"]
    assert _homes() == set(expected)
    owed = db.session.execute(sa.select(TitleSnapshot.work_id).where(TitleSnapshot.pages_owed.is_(True))).scalars()
    assert sorted(owed) == expected  # kept by the nightly reconciliation from now on

    # Asking again finds nothing to do and makes nothing twice.
    assert onboarding.count(tenant, onboarding.Filters(stage=stage))["count"] == 0
    entries = _page_set_entries()
    assert onboarding.create_pages(tenant, onboarding.Filters(stage=stage), "admin")["queued"] == 0
    drain(tenant)
    assert _page_set_entries() == entries and _homes() == set(expected)


def test_filters_by_season_and_imprint(tenant, consonance):
    titles = list(gateways().consonance(tenant).iter_titles())
    imprint, season = titles[0].imprint, titles[0].season
    both = [t for t in titles if t.imprint == imprint and t.season == season]
    assert onboarding.count(tenant, onboarding.Filters(imprint=imprint))["count"] == sum(
        t.imprint == imprint for t in titles
    )
    assert onboarding.count(tenant, onboarding.Filters(season=season, imprint=f"  {imprint} "))["count"] == len(both)
    assert onboarding.count(tenant, onboarding.Filters(imprint="No Such Imprint"))["count"] == 0


def test_bad_filters_are_refused_with_words():
    filters, errors = onboarding.Filters.from_form({"stage": 5, "season": "x" * 101, "imprint": None})
    assert filters is None and set(errors) == {"stage", "season"}
    assert onboarding.Filters.from_form({"imprint": " Northlight "}) == (onboarding.Filters(imprint="Northlight"), {})


def test_sync_now_polls_at_once_and_the_activity_page_says_what_the_first_sync_did(tenant, consonance):
    assert activity.first_sync(tenant) is None
    onboarding.sync_now(tenant, "admin")  # the test runner runs jobs synchronously
    state = db.session.execute(sa.select(PollState)).scalar_one()
    assert state.last_poll_at is not None and state.first_sync["works"] == 40
    assert db.session.execute(sa.select(JobRun).where(JobRun.kind == "poll")).scalar_one().outcome == "ok"
    said = activity.first_sync(tenant)
    assert f"read 40 titles from Consonance and took the {state.first_sync['managed']} forthcoming ones" in said
    assert "use Create pages below" in said


def test_saving_the_configuration_reads_pages_written_before_it(tenant, confluence, emulator):
    space = confluence.get_space_by_key("PUB")
    standards = confluence.create_page(space.id, "Our standards", (EXAMPLES / "standards.xml").read_text())
    playbook = confluence.create_page(space.id, "Our playbook", (EXAMPLES / "playbook.xml").read_text())
    assert activity.rule_set(tenant)["page_id"] is None  # written, but nobody has told the app about them
    saved = configuration.save_configuration(
        tenant, {"standards_page_id": standards.id, "playbook_page_ids": [playbook.id]}, "admin", confluence
    )
    assert saved.ok, saved.errors
    rules = activity.rule_set(tenant)
    assert rules["page_id"] == standards.id and rules["rules"] == 5
    source = db.session.execute(sa.select(PlaybookSource)).scalar_one()
    assert source.page_id == playbook.id and any(item["is_gate"] for item in source.items)
