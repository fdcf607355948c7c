"""Forge's scheduled trigger, as the emulator fires it: every interval (the manifest's, or a shorter one
for demos), a system call to the trigger's endpoint route with a FIT naming the trigger module and no
principal, retried when the app fails, and stopped when the app is uninstalled."""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from sandbox.confluence.app_descriptors import parse_manifest
from sandbox.confluence.testing import running_emulator

from .conftest import FORGE_APP_ID, MANIFEST


def _fired(fake_app):
    return [r for r in fake_app["received"] if r["name"] == "forge:scheduled"]


def _wait(check, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not check():
        time.sleep(0.05)
    return check()


@pytest.fixture
def ticking(fake_app, signing_keys):
    with running_emulator(
        **signing_keys,
        FORGE_APP_ID=FORGE_APP_ID,
        FORGE_MANIFEST=str(MANIFEST),
        SCHEDULED_TRIGGER_SECONDS=0.3,
        EVENT_RETRY_BASE_SECONDS=0.02,
    ) as emu:
        emu.install_forge(fake_app["base_url"])
        yield emu


def test_the_manifest_names_the_trigger_its_route_and_interval():
    app = parse_manifest(MANIFEST.read_text())
    assert [(t.key, t.route, t.interval_seconds) for t in app.scheduled_triggers] == [
        ("schedule-tick", "/forge/scheduled", 300)
    ]


def test_the_trigger_fires_at_its_interval_as_a_system_call(ticking, fake_app, signing_keys):
    assert _wait(lambda: len(_fired(fake_app)) >= 2), "the trigger did not fire twice in 5 s"
    call = _fired(fake_app)[0]
    token = call["headers"]["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(
        token, signing_keys["FIT_SIGNING_KEY"].private_key.public_key(), algorithms=["RS256"], audience=FORGE_APP_ID
    )
    assert claims["app"]["module"] == {"type": "core:scheduledTrigger", "key": "schedule-tick"}
    assert claims["context"]["moduleKey"] == "schedule-tick" and "principal" not in claims
    assert call["headers"]["X-Forge-Oauth-System"] == ticking.store.forge.system_token
    assert "X-Forge-Oauth-User" not in call["headers"]
    assert call["json"]["context"] == {"cloudId": ticking.store.cloud_id, "moduleKey": "schedule-tick"}
    listed = requests.get(f"{ticking.url}/_emulator/scheduled-triggers", timeout=5).json()
    assert listed["triggers"][0]["firesEverySeconds"] == 0.3 and listed["fired"][0]["status"] == 200


def test_a_failed_firing_is_retried(ticking, fake_app):
    ticking.emulator.stop_scheduled_triggers()  # only the firing asked for below
    time.sleep(0.4)
    fake_app["event_failures"] = 1
    answer = requests.post(f"{ticking.url}/_emulator/scheduled-triggers/schedule-tick/fire", timeout=10).json()
    assert answer["status"] == 200 and answer["attempt"] == 2


def test_uninstall_stops_the_clock(ticking, fake_app):
    assert _wait(lambda: len(_fired(fake_app)) >= 1)
    ticking.emulator.uninstall_forge()
    time.sleep(0.4)  # a firing already under way may still land
    before = len(_fired(fake_app))
    time.sleep(1.0)
    assert len(_fired(fake_app)) == before
