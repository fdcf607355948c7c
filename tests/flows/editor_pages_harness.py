"""The editors'-page flow tests' world: the app served on an ephemeral port with a real Forge install in the
Confluence emulator (page events arrive over HTTP), connected to the Consonance sandbox (fixture `world`
in tests/flows/conftest.py)."""

from __future__ import annotations

from addon.confluence.auth import ForgeAuth
from addon.confluence.client import ConfluenceClient
from addon.extensions import db
from addon.titles.models import TitlePage


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
