"""Fixtures of the flow tests: the Confluence emulator over HTTP (trusted by the app as Forge), a Forge
tenant connected to it and to the Consonance sandbox (`tenant`, `confluence`: outbox delivery left to
explicit drains), and the served app installed over HTTP (`world`). The sandbox itself comes from
tests/fixtures/consonance.py; each module here asks for the seeded catalogue back before every test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from addon.confluence.auth import ForgeAuth
from addon.confluence.client import ConfluenceClient
from addon.extensions import db
from addon.platform import tenants
from addon.platform.models import Tenant
from addon.settings.service import update_settings
from sandbox.confluence.testing import running_emulator
from tests.flows.sync_harness import SPACE
from tests.flows.upstream_harness import World
from tests.servers import serving

MANIFEST = str(Path(__file__).resolve().parents[2] / "manifest.yml")


@pytest.fixture
def emulator(app_config):
    """An emulator whose Forge tokens the app trusts (its JWKS and app id); fast event retries."""
    with running_emulator(
        FORGE_APP_ID=app_config["FORGE_APP_ID"], FORGE_MANIFEST=MANIFEST, EVENT_RETRY_BASE_SECONDS=0.2
    ) as emu:
        app_config["FORGE_JWKS_URL"] = emu.url + "/.well-known/jwks.json"
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
