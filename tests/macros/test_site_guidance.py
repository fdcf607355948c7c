"""The title panel shows the reviewers and next step the admin's stage guide gives for the title's
stage, and the checklist judges titles by the site's own compiled standards — both read from
Confluence/the database once and shared, like titles."""

from __future__ import annotations

import pytest
import requests

from addon.confluence import storage as s
from addon.confluence.auth import ForgeAuth
from addon.confluence.client import ConfluenceClient
from addon.confluence.models import Page
from addon.extensions import db
from addon.flows.metadata_standards import process_standards_page
from addon.settings.service import update_settings
from sandbox.confluence import testing

GUIDE = s.document(
    s.table(
        ["Stage", "Reviewers", "Next step"],
        [
            ["Editorial", "Ada Okafor, Ben Lim", "Send the edited manuscript to copy-editing by Friday."],
            ["Proofs", "Cara Diaz", "Collate author corrections."],
        ],
    )
)


@pytest.fixture
def site():
    with testing.running_emulator() as emu:
        installation = emu.install_forge("http://127.0.0.1:9")  # no app listening: lifecycle delivery just fails
        yield emu, installation, ConfluenceClient(ForgeAuth(installation["apiBaseUrl"], emu.store.forge.system_token))


def test_reviewers_and_next_step_come_from_the_stage_guide(client, fit, forge_tenant, consonance, site):
    emu, installation, person = site
    space = person.get_space_by_key("GUIDE") or person.create_space("GUIDE", "Guides")
    guide = person.create_page(space.id, "Stage guide", GUIDE, parent_id=space.homepage_id)
    update_settings(forge_tenant, {"stage_guide_page_id": guide.id}, actor="admin")
    consonance.control.move_to_stage(3, "Editorial")
    headers = fit({"title": "3"}, api_base_url=installation["apiBaseUrl"])
    headers["x-forge-oauth-system"] = emu.store.forge.system_token

    html = client.post("/forge/macro/title-status", json={}, headers=headers).get_json()["html"]
    assert "Ada Okafor" in html and "Ben Lim" in html
    assert "Send the edited manuscript to copy-editing by Friday." in html

    def guide_reads() -> int:
        log = requests.get(f"{emu.url}/_emulator/requests", timeout=5).json()
        entries = log.get("requests", log) if isinstance(log, dict) else log
        return sum(1 for entry in entries if f"/pages/{guide.id}" in str(entry.get("path", "")))

    assert guide_reads() == 1
    client.post("/forge/macro/title-status", json={}, headers=headers)
    assert guide_reads() == 1  # the second view is served from the shared cache


def test_checklist_uses_the_sites_compiled_standards(client, fit, forge_tenant, consonance):
    rows = [
        ["Field", "Rule", "Severity", "Message"],
        ["Subtitle", "min length 500", "error", "House style: subtitles tell the whole story."],
    ]
    table = s.document(s.table(rows[0], rows[1:]))
    process_standards_page(
        forge_tenant,
        Page(id="900", title="Standards", space_id="1", parent_id=None, version=1, body=table, status="current"),
    )
    db.session.commit()
    html = client.post(
        "/forge/macro/metadata-checklist", json={}, headers=fit({"title": "3"}, module="metadata-checklist")
    ).get_json()["html"]
    assert "House style: subtitles tell the whole story." in html
    assert "site&#39;s metadata standards" in html or "site's metadata standards" in html


@pytest.mark.parametrize(
    "viewer, says", [("admin", "configuration page"), ("editor", "Ask a Confluence administrator")]
)
def test_not_connected_message_tells_admins_what_to_do(client, fit, app, site, viewer, says):
    """Before Consonance is connected, a site admin is sent to the configuration page; others to an admin."""
    emu, installation, _person = site
    from sandbox.confluence.users import EDITOR_ACCOUNT_ID

    principal = emu.emulator.config.get("DEFAULT_ACCOUNT_ID") if viewer == "admin" else EDITOR_ACCOUNT_ID
    headers = fit({"title": "3"}, principal=principal, api_base_url=installation["apiBaseUrl"])
    headers["x-forge-oauth-system"] = emu.store.forge.system_token
    headers["x-forge-oauth-user"] = emu.emulator.user_token(principal)
    answer = client.post("/forge/macro/title-status", json={}, headers=headers).get_json()
    assert answer["viewModel"]["message"]["kind"] == "not_configured"
    assert says in answer["html"]
