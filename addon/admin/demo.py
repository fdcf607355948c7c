"""`flask demo set-up`: configure a site for the demo through the same configuration service the admin
page saves with — the pages are chosen by their titles in the demo space, as an admin would pick them —
then give a few forthcoming titles their page sets through onboarding, so every flow has something to show.

For the embedded default (`make run`), whose Confluence emulator seeds those pages (`--demo`).
"""

from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup

from addon.admin import configuration, onboarding
from addon.extensions import db
from addon.flows.change_detection import is_forthcoming, poll
from addon.flows.sync_models import PollState
from addon.gateways import gateways
from addon.jobs import outbox
from addon.jobs.runner import get_runner
from addon.platform.models import Tenant, tenant_query

log = logging.getLogger("addon.admin.demo")

demo_cli = AppGroup("demo", help="Set up the demo site (embedded default).")

TITLES_PARENT = "Titles"
STAGE_GUIDE = "Stage guide"
STANDARDS = "Metadata standards"
PLAYBOOK = "Production playbook"
HUBS_PARENT = "Launch hubs"
SUMMARIES_PARENT = "Pipeline summaries"
LESSONS = "Lessons learned"
RIGHTS_GUIDANCE = {  # guidance page title -> the licensed rights it is about
    "Translation and serial rights": ("Translation", "Serial", "Book club"),
    "Audio and digital editions": ("Audio", "Ebook", "Large print"),
    "US and film rights": ("US", "Film & TV"),
}
DEMO_TITLES = 3
WRITES_WAIT_SECONDS = 120
FIRST_SYNC_WAIT_SECONDS = 20  # the embedded clock ticks every few seconds and sees a change within 3 s


class DemoSetupError(click.ClickException):
    pass


def demo_form(client, space_key: str) -> dict:
    """The configuration form an admin would fill in for the demo space, pages found by title."""
    space = client.get_space_by_key(space_key)
    if space is None:
        raise DemoSetupError(f"Confluence has no space {space_key}")

    def page_id(title: str) -> str:
        page = client.find_page_by_title(space.id, title)
        if page is None:
            raise DemoSetupError(f"The demo page {title!r} is missing from space {space_key}")
        return page.id

    mappings = [
        {"right_type": right, "page_id": page_id(title), "label": title}
        for title, rights in RIGHTS_GUIDANCE.items()
        for right in rights
    ]
    return {
        "page_set_mode": "pages_in_space",
        "page_set_space_key": space_key,
        "page_set_parent_id": page_id(TITLES_PARENT),
        "stage_guide_page_id": page_id(STAGE_GUIDE),
        "standards_page_id": page_id(STANDARDS),
        "playbook_page_ids": [page_id(PLAYBOOK)],
        "lessons_index_page_id": page_id(LESSONS),
        "launch_hub_mode": "per_season",
        "launch_hub_parent_id": page_id(HUBS_PARENT),
        "summary_parent_id": page_id(SUMMARIES_PARENT),
        "rights_mappings": mappings,
    }


def demo_titles(tenant: Tenant, first: str | None, count: int = DEMO_TITLES) -> list:
    """A few forthcoming titles at different stages (`first` leading, when it is forthcoming)."""
    lead, others, stages = [], [], set()
    for title in gateways().consonance(tenant).iter_titles():
        stage = title.stage.name if title.stage else None
        if not is_forthcoming(stage):
            continue
        if title.work_id == first:
            lead.append(title)
        elif stage not in stages:
            others.append(title)
            stages.add(stage)
    return (lead + others)[:count]


def wait_for_first_sync(tenant: Tenant, seconds: float) -> dict | None:
    """What the first sync did, once the running app's clock has taken it (two at once would race); None
    when no clock took it in time (no app running), and the caller syncs itself."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        state = db.session.execute(tenant_query(PollState, tenant)).scalar_one_or_none()
        if state is not None and state.first_sync:
            return state.first_sync
        time.sleep(0.5)
    db.session.rollback()
    return None


def wait_for_writes(tenant: Tenant, seconds: float) -> bool:
    """True once no write owed for the site is waiting or in flight (failed ones show on the Activity page)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        depth = outbox.depth(tenant)
        if not depth["pending"] and not depth["in_flight"]:
            return True
        time.sleep(0.5)
    db.session.rollback()
    return False


def set_up(
    tenant: Tenant,
    space_key: str,
    first_title: str | None,
    host: str,
    api_key: str,
    built_in_standards: bool = False,
) -> dict:
    """Save the demo configuration (Consonance connection included, so no sync runs half-configured), let
    the first sync run, and have a few titles' page sets made before returning. `built_in_standards`: leave
    the space's Metadata standards page unchosen, so the built-in rule set applies (what the golden
    catalogue's table assumes)."""
    client = gateways().confluence(tenant)
    form = {**demo_form(client, space_key), "consonance_host": host, configuration.API_KEY_FIELD: api_key}
    if built_in_standards:
        form["standards_page_id"] = ""
    result = configuration.save_configuration(tenant, form, "demo", client)
    if not result.ok:
        raise DemoSetupError(f"{result.message} {result.errors}")
    first_sync = wait_for_first_sync(tenant, FIRST_SYNC_WAIT_SECONDS) or poll(tenant)
    titles = demo_titles(tenant, first_title)
    queued = onboarding.create_pages_for(tenant, [t.work_id for t in titles], "demo", "the demo's titles")
    runner = get_runner(current_app)
    if hasattr(runner, "wait_idle"):
        runner.wait_idle(timeout=300)  # the page sets made here exist on return
    wait_for_writes(tenant, WRITES_WAIT_SECONDS)  # and the first sync's hubs and links, made by the app
    return {"first_sync": first_sync, "titles": titles, "queued": queued["queued"], **onboarding.progress(tenant)}


@demo_cli.command("set-up")
@click.option("--space", "space_key", default="PUB", show_default=True, help="The demo space's key.")
@click.option("--site", "site_url", default=None, help="Only the newest installation on this site (else every one).")
@click.option("--title", "first_title", default=None, help="A work id to include among the demo titles.")
@click.option("--consonance-host", "host", required=True, help="The Consonance (sandbox) address.")
@click.option("--api-key", required=True, envvar="CONSONANCE_API_KEY", help="Its API key.")
@click.option(
    "--built-in-standards",
    is_flag=True,
    help="Leave the Metadata standards page unchosen: the built-in rule set applies (the golden catalogue's).",
)
def set_up_command(space_key, site_url, first_title, host, api_key, built_in_standards):
    """Configure installed sites for the demo space and give a few titles their pages."""
    query = db.select(Tenant).where(Tenant.enabled.is_(True), Tenant.uninstalled_at.is_(None))
    if site_url:
        query = query.where(Tenant.site_url == site_url.rstrip("/")).order_by(Tenant.id.desc()).limit(1)
    tenants = db.session.execute(query.order_by(Tenant.id)).scalars().all()
    if not tenants:
        raise DemoSetupError(f"No installed site{' at ' + site_url if site_url else ''} to set up")
    for tenant in tenants:
        outcome = set_up(tenant, space_key, first_title, host, api_key, built_in_standards)
        synced = outcome["first_sync"]
        click.echo(
            f"site {tenant.site_url or tenant.id}: first sync read {synced.get('works', 0)} titles and manages "
            f"{synced.get('managed', 0)}; {outcome['message']}"
        )
        for title in outcome["titles"]:
            click.echo(
                f"  demo title: work {title.work_id} at {title.stage.name if title.stage else '?'}: {title.title}"
            )
