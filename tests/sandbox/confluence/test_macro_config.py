"""Configuring an app macro in the emulator: the viewer's Configure button opens the macro's config
frame, `view.submit` (Forge bridge) and the control path write its parameters into a new page version."""

from __future__ import annotations

import re

import requests

from sandbox.confluence import storage

MACRO_ID = "seed-title-status"


def _seeded(emulator):
    return requests.post(f"{emulator.url}/_emulator/seed", json={"work_id": "42"}).json()


def _parameters(emulator, page_id, macro_id=MACRO_ID):
    body = emulator.store.page(page_id).current.body
    return next(m.parameters for m in storage.macros_in(body) if m.macro_id == macro_id)


def test_storage_edit_sets_and_removes_one_parameter_and_keeps_every_other_byte():
    body = (
        '<p>a &amp; b</p><ac:structured-macro ac:name="x" ac:macro-id="m1"><ac:parameter ac:name="title">1'
        '</ac:parameter><ac:parameter ac:name="other">keep</ac:parameter></ac:structured-macro><p>tail</p>'
    )
    changed = storage.set_macro_parameters(body, "m1", {"title": "978-1 <x>"})
    assert changed == body.replace(">1</ac:parameter>", ">978-1 &lt;x&gt;</ac:parameter>")
    removed = storage.set_macro_parameters(body, "m1", {"title": ""})
    assert removed == body.replace('<ac:parameter ac:name="title">1</ac:parameter>', "")
    closed = storage.set_macro_parameters('<ac:structured-macro ac:name="x" ac:macro-id="m2"/>', "m2", {"title": "7"})
    assert (
        closed
        == '<ac:structured-macro ac:name="x" ac:macro-id="m2"><ac:parameter ac:name="title">7</ac:parameter></ac:structured-macro>'
    )


def test_control_path_saves_a_new_version_only_when_something_changed(emulator):
    seeded = _seeded(emulator)
    url = f"{emulator.url}/_emulator/pages/{seeded['pageId']}/macros/{MACRO_ID}"
    version = emulator.store.page(seeded["pageId"]).current.number
    answer = requests.post(url, json={"parameters": {"title": "12"}})
    assert answer.status_code == 200 and answer.json()["parameters"] == {"title": "12"}
    assert answer.json()["version"] == version + 1
    assert _parameters(emulator, seeded["pageId"]) == {"title": "12"}
    assert _parameters(emulator, seeded["pageId"], "seed-rights-link") == {"title": "42"}  # its neighbour untouched
    assert requests.post(url, json={"parameters": {"title": "12"}}).json()["version"] == version + 1
    assert requests.post(url, json={"parameters": {"title": ""}}).json()["parameters"] == {}
    assert requests.post(url, json={"parameters": "12"}).status_code == 400
    missing = f"{emulator.url}/_emulator/pages/{seeded['pageId']}/macros/no-such-macro"
    assert requests.post(missing, json={"parameters": {"title": "1"}}).status_code == 404


def test_configure_opens_the_config_resource_and_submit_saves_into_the_page(emulator, fake_app):
    seeded = _seeded(emulator)
    html = requests.get(emulator.url + seeded["pageUrl"]).text
    buttons = re.findall(
        r'<button type="button" class="macro-configure" data-macro-key="([^"]+)" '
        r'data-configure-url="([^"]+)"',
        html,
    )
    assert len(buttons) == 4
    configure_url = dict(buttons)["title-status"]
    opened = requests.post(emulator.url + configure_url.replace("&amp;", "&")).json()
    assert opened["transport"] == "forge" and opened["title"] == "Choose the Consonance title"
    frame = emulator.emulator.frames[opened["frameId"]]
    assert frame["resourcePath"] == "static/macroconfig" and frame["config"] == {"title": "42"}
    bridge = f"{emulator.url}/wiki/_forge/frames/{opened['frameId']}/bridge"
    context = requests.post(bridge, json={"method": "getContext"}).json()["result"]
    assert context["extension"]["config"] == {"title": "42"} and context["extension"]["isEditing"] is True
    saved = requests.post(bridge, json={"method": "submit", "payload": {"config": {"title": "9"}}})
    assert saved.status_code == 200 and _parameters(emulator, seeded["pageId"]) == {"title": "9"}

    macro_frame = re.search(r'data-macro-key="title-status" data-frame-id="([0-9a-f]+)"', html).group(1)
    refused = requests.post(
        f"{emulator.url}/wiki/_forge/frames/{macro_frame}/bridge",
        json={"method": "submit", "payload": {"config": {"title": "1"}}},
    ).json()
    assert refused["result"] is False and _parameters(emulator, seeded["pageId"]) == {"title": "9"}
