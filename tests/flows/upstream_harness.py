"""Fixtures for the upstream-flow tests: the app served on an ephemeral port with a real Forge install
in the Confluence emulator (page events arrive over HTTP), connected to the Consonance sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from addon.confluence.auth import ForgeAuth
from addon.confluence.client import ConfluenceClient
from addon.extensions import db
from tests.servers import serving
from addon.platform import tenants
from addon.platform.models import Tenant
from addon.settings.service import update_settings
from addon.titles.models import TitlePage
from sandbox.confluence.testing import running_emulator
from sandbox.consonance.testing import running_sandbox

SEED, SIZE = 7, 30
MANIFEST = str(Path(__file__).resolve().parents[2] / "manifest.yml")


@pytest.fixture(scope="module")
def consonance_server():
    with running_sandbox(SEED=SEED, SIZE=SIZE, ANCHOR="2026-11-01") as sandbox:
        yield sandbox


@pytest.fixture
def consonance(consonance_server):
    consonance_server.control.reset(SEED, SIZE)
    yield consonance_server
    consonance_server.control.clear_faults()


@pytest.fixture
def emulator(app_config):
    """An emulator whose Forge tokens the app trusts (its JWKS and app id); fast event retries."""
    with running_emulator(
        FORGE_APP_ID=app_config["FORGE_APP_ID"], FORGE_MANIFEST=MANIFEST, EVENT_RETRY_BASE_SECONDS=0.2
    ) as emu:
        app_config["FORGE_JWKS_URL"] = emu.url + "/.well-known/jwks.json"
        yield emu


class World:
    """Both sandboxes, the served app and its tenant, plus the moves people make in Confluence."""

    def __init__(self, app, emulator, consonance, tenant):
        self.app, self.emulator, self.consonance, self.tenant = app, emulator, consonance, tenant
        self.person = ConfluenceClient(ForgeAuth(tenant.api_base_url, emulator.store.forge.system_token))
        self.space_id = self.person.get_space_by_key("PUB").id

    def settle(self) -> None:
        """Wait until every page event (and what handling it wrote, and its events) is done."""
        for _ in range(3):
            assert self.emulator.emulator.events.wait_idle(timeout=30), "page events did not settle"
        db.session.rollback()
        db.session.expire_all()

    def gateway(self):
        from addon.gateways import gateways

        return gateways().consonance(self.tenant)

    def page(self, title: str, body: str, parent_id: str | None = None):
        return self.person.create_page(self.space_id, title, body, parent_id=parent_id)

    def edit(self, page_id: str, body: str):
        return self.person.update_page(self.person.get_page(page_id), body)

    def link(self, work_id: str, role: str, page) -> None:
        db.session.add(
            TitlePage(
                tenant_id=self.tenant.id,
                work_id=str(work_id),
                role=role,
                page_id=page.id,
                space_id=self.space_id,
                title=page.title,
            )
        )
        db.session.commit()

    def title_pages(self, work_id: str, name: str) -> dict:
        """A title home and its Decision log, registered as F1 would."""
        home = self.page(name, "<p>Title home.</p>")
        self.link(work_id, "home", home)
        log_page = self.page(f"Decision log — {name}", "<p>Decisions for this title.</p>", parent_id=home.id)
        self.link(work_id, "decision-log", log_page)
        self.settle()
        return {"home": home, "decision-log": log_page}

    def versions(self, page_id: str) -> int:
        return self.person.get_page(page_id).version

    def events(self, settings: dict) -> None:
        import requests

        requests.post(self.emulator.url + "/_emulator/events/settings", json=settings, timeout=5).raise_for_status()


@pytest.fixture
def world(emulator, app, consonance):
    """The app installed in the emulator over HTTP (tenant made by Forge's lifecycle call), connected to Consonance."""
    with serving(app) as app_url:
        emulator.install_forge(app_url)
        db.session.expire_all()
        tenant = db.session.query(Tenant).filter_by(transport=tenants.FORGE).one()
        tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, consonance.api_key)
        tenants.set_secret(tenant, tenants.FORGE_SYSTEM_TOKEN, emulator.store.forge.system_token)
        db.session.commit()
        update_settings(tenant, {"consonance_host": consonance.url, "page_set_space_key": "PUB"}, actor="admin")
        db.session.commit()
        emulator.seed("1")
        result = World(app, emulator, consonance, tenant)
        result.settle()
        yield result
        result.settle()
