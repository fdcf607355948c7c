"""A Confluence emulator with pages whose title-status panels show known titles, for decision tests.

Decisions are bound to the page they are made on (the title a panel there shows, the person's permission
to edit it), so every decision test needs a real page in a real (emulated) Confluence: this module gives
a Forge installation and a Connect installation of the app on one emulator, and pages to decide on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import pytest

from addon.confluence.auth import ForgeAuth
from addon.confluence.client import ConfluenceClient

testing = pytest.importorskip("sandbox.confluence.testing")
from sandbox.confluence.store import ConnectInstallation  # noqa: E402

WORKS_ON_MAIN_PAGE = tuple(str(w) for w in range(1, 31) if w != 4)  # every title but 4
APP_KEY = "com.consonance.confluence"


def title_status(work_id: str, macro_id: str) -> str:
    return (
        f'<ac:structured-macro ac:name="title-status" ac:schema-version="1" ac:macro-id="{macro_id}">'
        f'<ac:parameter ac:name="title">{escape(work_id)}</ac:parameter></ac:structured-macro>'
    )


@dataclass
class DecisionSite:
    emulator: object
    api_base_url: str
    system_token: str
    main_page: str  # shows every title but 4
    page_four: str  # shows title 4 only
    wiki_url: str
    pages: dict = field(default_factory=dict)

    def user_token(self, principal: str) -> str:
        return self.emulator.emulator.user_token(principal)

    def restrict_editing(self, page_id: str, users: list[str] | None) -> None:
        page = self.emulator.store.page(page_id)
        page.edit_restricted_to = None if users is None else set(users)

    def connect_as(self, payload: dict) -> None:
        """Tell the emulator about a Connect install the app took (the emulator then accepts its JWTs)."""
        self.emulator.store.connect = ConnectInstallation(
            APP_KEY, payload["clientKey"], payload["sharedSecret"], "https://addon.example.test", {}
        )


@pytest.fixture(scope="module")
def decision_site():
    with testing.running_emulator() as emu:
        installation = emu.install_forge("http://127.0.0.1:9")  # no app listening: lifecycle delivery just fails
        client = ConfluenceClient(ForgeAuth(installation["apiBaseUrl"], emu.store.forge.system_token))
        space = client.get_space_by_key("DEC") or client.create_space("DEC", "Decisions")
        main = client.create_page(
            space.id,
            "Titles in progress",
            "<p>Every title but one.</p>" + "".join(title_status(w, f"m-{w}") for w in WORKS_ON_MAIN_PAGE),
            parent_id=space.homepage_id,
        )
        four = client.create_page(space.id, "Title four", title_status("4", "m-four"), parent_id=space.homepage_id)
        yield DecisionSite(
            emu,
            installation["apiBaseUrl"],
            emu.store.forge.system_token,
            main.id,
            four.id,
            emu.emulator.wiki_url,
        )


@pytest.fixture
def site(decision_site):
    """The module's site with page restrictions lifted for this test."""
    for page_id in (decision_site.main_page, decision_site.page_four):
        decision_site.restrict_editing(page_id, None)
    yield decision_site
    for page_id in (decision_site.main_page, decision_site.page_four):
        decision_site.restrict_editing(page_id, None)
