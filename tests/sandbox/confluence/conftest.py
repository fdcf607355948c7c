"""Fixtures: a fake app, an emulator (Forge-installed against it) and contract-checked sessions."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.confluence.testing import running_emulator
from sandbox.confluence.tokens import SigningKey

from .contract import CheckedSession, Contract
from .fake_app import running_fake_app

MANIFEST = Path(__file__).resolve().parents[3] / "manifest.yml"
FORGE_APP_ID = "ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555"


@pytest.fixture
def fake_app():
    with running_fake_app() as state:
        yield state


@pytest.fixture(scope="session")
def signing_keys():
    return {"FIT_SIGNING_KEY": SigningKey(), "INSTALL_SIGNING_KEY": SigningKey()}


@pytest.fixture
def emulator(fake_app, signing_keys):
    with running_emulator(
        **signing_keys,
        FORGE_APP_ID=FORGE_APP_ID,
        FORGE_MANIFEST=str(MANIFEST) if MANIFEST.exists() else None,
        EVENT_RETRY_BASE_SECONDS=0.02,
        EVENT_TIMEOUT_SECONDS=2,
    ) as emu:
        emu.install_forge(fake_app["base_url"])
        yield emu


@pytest.fixture
def contract(emulator):
    return Contract(emulator.url)


@pytest.fixture
def api(emulator, contract):
    """A session acting as the app itself (x-forge-oauth-system token), every exchange validated."""
    return CheckedSession(contract, f"Bearer {emulator.store.forge.system_token}")


@pytest.fixture
def space(api, emulator):
    response = api.post(f"{emulator.url}/wiki/api/v2/spaces", json={"name": "Test space", "key": "TST"})
    assert response.status_code == 201
    return response.json()
