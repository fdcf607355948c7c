"""Choosing a macro's title in a real browser: the emulator's Configure button opens the app's picker
(Forge config resource over @forge/bridge, or the Connect macro editor over all.js), a person types part of
a title, picks it with the keyboard, and the page's macro then shows that title."""

from __future__ import annotations

import re

import pytest

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection
from sandbox.confluence import storage

pytestmark = pytest.mark.browser

MACRO = "title-status"
TARGET_WORK = "10"  # not the seeded page's title; with the fixed sandbox seed its first word matches several titles


def gateway(site) -> ConsonanceGateway:
    return ConsonanceGateway(ConsonanceConnection(host=site.consonance.url, api_key=site.consonance.api_key))


def page_id(site) -> str:
    return site.page_url.rstrip("/").rsplit("/", 1)[-1]


def macro_parameters(site) -> dict:
    body = site.emulator.store.page(page_id(site)).current.body
    return next(m.parameters for m in storage.macros_in(body) if m.name == MACRO)


def open_picker(page, site):
    page.goto(site.viewer_url())
    page.frame_locator(f'iframe.app-macro[data-macro-key="{MACRO}"]').locator(f".c4c-panel--{MACRO}").wait_for()
    page.locator(f'button.macro-configure[data-macro-key="{MACRO}"]').click()
    page.locator("dialog.macro-config-dialog").wait_for()
    picker = page.frame_locator("dialog.macro-config-dialog iframe")
    picker.locator('[role="combobox"]').wait_for()
    return picker


def pick_with_keyboard(picker, query: str, work_id: str):
    box = picker.locator('[role="combobox"]')
    box.press_sequentially(query, delay=40)  # keystrokes: debounced searches, older answers dropped
    target = picker.locator(f'[role="option"][data-value="{work_id}"]')
    target.wait_for()
    values = picker.locator('[role="option"]').evaluate_all("els => els.map(e => e.dataset.value)")
    active = picker.locator('[role="option"][aria-selected="true"]').get_attribute("data-value")
    steps = values.index(work_id) - values.index(active)
    for _ in range(abs(steps)):
        box.press("ArrowDown" if steps > 0 else "ArrowUp")
    assert box.get_attribute("aria-activedescendant") == target.get_attribute("id")
    assert target.get_attribute("aria-selected") == "true"
    return box


def title_shown(page) -> str:
    panel = page.frame_locator(f'iframe.app-macro[data-macro-key="{MACRO}"]')
    return panel.locator(".c4c-title__name").inner_text().strip()


def choose_and_check(page, site, artifacts, name: str):
    expected = gateway(site).title(TARGET_WORK)
    version_before = site.emulator.store.page(page_id(site)).current.number
    picker = open_picker(page, site)
    query = expected.title.split()[0][:4].lower()
    box = pick_with_keyboard(picker, query, TARGET_WORK)
    option = picker.locator(f'[role="option"][data-value="{TARGET_WORK}"]').inner_text()
    assert expected.title in option
    assert any(f.isbn13 and f.isbn13 in option for f in expected.formats)
    page.screenshot(path=str(artifacts / f"title-picker-{name}.png"))
    box.press("Enter")
    page.locator("dialog.macro-config-dialog").wait_for(state="detached")
    page.wait_for_function(f"document.getElementById('page-version').textContent == '{version_before + 1}'")
    page.frame_locator(f'iframe.app-macro[data-macro-key="{MACRO}"]').locator(".c4c-title__name").wait_for()
    assert title_shown(page) == expected.title
    assert macro_parameters(site)["title"] == TARGET_WORK
    page.screenshot(path=str(artifacts / f"title-picker-{name}-chosen.png"))


def test_forge_config_picks_a_title_with_the_keyboard(page, site, artifacts):
    choose_and_check(page, site, artifacts, "forge")


def test_forge_config_can_go_back_to_the_page_sets_title(page, site):
    picker = open_picker(page, site)
    box = picker.locator('[role="combobox"]')
    first = picker.locator('[role="option"]').first
    assert re.search("title this page belongs to", first.inner_text())
    assert first.get_attribute("aria-selected") == "true"
    box.press("Enter")
    page.locator("dialog.macro-config-dialog").wait_for(state="detached")
    message = page.frame_locator(f'iframe.app-macro[data-macro-key="{MACRO}"]').locator("text=No title chosen")
    message.wait_for()
    assert "title" not in macro_parameters(site)


def test_connect_editor_picks_a_title_with_the_keyboard(page, connect_site, artifacts):
    choose_and_check(page, connect_site, artifacts, "connect")
