"""Fixtures for the sync-flow tests: the Consonance sandbox and the Confluence emulator over HTTP,
and a Forge tenant whose gateways point at both (outbox delivery left to explicit drains)."""

from __future__ import annotations

import pytest

from addon.confluence.auth import ForgeAuth
from addon.confluence.client import ConfluenceClient
from addon.extensions import db
from addon.jobs import outbox
from addon.platform import tenants
from addon.platform.models import Tenant
from addon.settings.service import update_settings
from sandbox.confluence.testing import running_emulator
from sandbox.consonance.testing import running_sandbox

SEED, SIZE = 7, 40
SPACE = "PUB"


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
def emulator():
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def flows_config(app_config):
    app_config["OUTBOX_DELIVER_ON_COMMIT"] = "0"  # tests drain the outbox themselves, to control crashes
    return app_config


@pytest.fixture
def tenant(flows_config, app, consonance, emulator):
    """A Forge tenant installed in the emulator (space PUB seeded) and connected to the sandbox."""
    installation = emulator.install_forge("http://127.0.0.1:9")  # nobody listens: the install event just fails
    emulator.seed("1")
    tenant = Tenant(
        transport=tenants.FORGE,
        external_id=installation["installationId"],
        cloud_id=installation.get("cloudId"),
        site_url=emulator.url,
        api_base_url=installation["apiBaseUrl"],
        enabled=True,
    )
    db.session.add(tenant)
    db.session.commit()
    tenants.set_secret(tenant, tenants.FORGE_SYSTEM_TOKEN, emulator.store.forge.system_token)
    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, consonance.api_key)
    db.session.commit()
    update_settings(tenant, {"consonance_host": consonance.url, "page_set_space_key": SPACE}, actor="admin")
    return tenant


@pytest.fixture
def confluence(tenant, emulator):
    """A client of our own for reading and for playing the people who edit pages."""
    return ConfluenceClient(ForgeAuth(tenant.api_base_url, emulator.store.forge.system_token))


def drain(tenant, **kwargs) -> dict:
    """Deliver everything due for the tenant, until nothing is left (entries may enqueue none)."""
    totals: dict = {}
    for _ in range(10):
        counts = outbox.drain(tenant=tenant, limit=500, **kwargs)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if not any(counts.values()):
            break
    return totals


def versions(emulator) -> dict[str, int]:
    """Every current page's version number in the emulator."""
    store = emulator.store
    with store.lock:
        return {p.id: p.current.number for p in store.pages.values() if p.status == "current"}


def pages_titled(emulator, prefix: str) -> list:
    store = emulator.store
    with store.lock:
        return [p for p in store.pages.values() if p.status == "current" and p.title.startswith(prefix)]


def consonance_web_links(consonance, work_id) -> list[dict]:
    """The work's web links as Consonance holds them (the sandbox's own record, read through its control API)."""
    return consonance.control.work(int(work_id))["webLinks"]
