"""The shared end-to-end harness: the app on a real server, the Consonance sandbox and the Confluence
emulator, the app installed (Forge or Connect) with its Consonance connection set, a seeded page with all four
macros, and headless Debian Chromium driven by Playwright.

Chromium missing: skipped locally, a failure under CI=true (the browser tests must run there).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FORGE_APP_ID = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SEEDED_WORK = "3"
VIEWER = "557058:e2e-editor"


def _require_browser():
    problem = None
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        problem = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install -e '.[test]')"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)


@dataclass
class Site:
    app: object
    app_url: str
    emulator: object
    consonance: object
    page_url: str
    tenant_id: int
    work_id: str

    def viewer_url(self) -> str:
        return f"{self.emulator.url}{self.page_url}?as={VIEWER}"


def _serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@contextlib.contextmanager
def running_site(
    mode: str,
    database_url: str,
    instance_path,
    *,
    connected: bool = True,
    app_overrides: dict | None = None,
    consonance_profile: str = "full",
):
    """The app, both sandboxes, the app installed with `mode` ("forge" or "connect") and connected to
    Consonance (unless `connected=False`: the admin has not configured it yet), and the seeded page;
    the app's tables are emptied afterwards. `app_overrides` adds to the app's test config;
    `consonance_profile` chooses which Consonance the sandbox pretends to be (sandbox/consonance/profiles.py)."""
    from addon import create_app
    from addon.extensions import db
    from addon.platform import tenants
    from addon.settings.service import update_settings
    from sandbox.confluence.testing import running_emulator
    from sandbox.consonance.testing import running_sandbox
    from tests.conftest import _empty_all_tables, _test_config

    manifest = str(Path(__file__).resolve().parents[2] / "manifest.yml")
    with (
        running_sandbox(SEED=7, SIZE=30, ANCHOR="2026-11-01", PROFILE=consonance_profile) as consonance,
        running_emulator(FORGE_APP_ID=FORGE_APP_ID, FORGE_MANIFEST=manifest) as emulator,
    ):
        config = _test_config(database_url, instance_path)
        config.update(
            {
                "FORGE_APP_ID": FORGE_APP_ID,
                "FORGE_JWKS_URL": f"{emulator.url}/.well-known/jwks.json",
                "CONNECT_INSTALL_KEYS_URL": f"{emulator.url}/install-keys",
            }
        )
        config.update(app_overrides or {})
        app = create_app(config)
        server, thread = _serve(app)
        app_url = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = app_url
        try:
            if mode == "forge":
                emulator.install_forge(app_url)
            else:
                emulator.install_connect(app_url)
            seeded = emulator.seed(work_id=SEEDED_WORK)
            with app.app_context():
                external_id = emulator.store.forge.id if mode == "forge" else emulator.store.connect.client_key
                tenant = tenants.find_tenant(mode, external_id)
                assert tenant is not None, "the install did not reach the app"
                if connected:
                    update_settings(tenant, {"consonance_host": consonance.url}, actor="557058:admin")
                    tenants.set_secret(tenant, tenants.CONSONANCE_API_KEY, consonance.api_key)
                    db.session.commit()
                tenant_id = tenant.id
            yield Site(app, app_url, emulator, consonance, seeded["pageUrl"], tenant_id, SEEDED_WORK)
        finally:
            server.shutdown()
            thread.join(timeout=5)
            with app.app_context():
                db.session.remove()
                _empty_all_tables()
                db.engine.dispose()


@pytest.fixture(scope="module")
def site(migrated_database, tmp_path_factory):
    """The app installed as a Forge app (macros in Custom UI frames), once per test module."""
    _require_browser()
    with running_site("forge", migrated_database, tmp_path_factory.mktemp("e2e-forge")) as running:
        yield running


@pytest.fixture(scope="module")
def connect_site(migrated_database, tmp_path_factory):
    """The app installed Connect-style (macros in iframes of our own pages), once per test module."""
    _require_browser()
    with running_site("connect", migrated_database, tmp_path_factory.mktemp("e2e-connect")) as running:
        yield running


@pytest.fixture(scope="module")
def unconfigured_site(migrated_database, tmp_path_factory):
    """A fresh Forge install nobody has configured yet (no Consonance connection), for the admin pages;
    a refused write fails at its first attempt so the activity page can show it."""
    _require_browser()
    with running_site(
        "forge",
        migrated_database,
        tmp_path_factory.mktemp("e2e-admin"),
        connected=False,
        app_overrides={"OUTBOX_MAX_ATTEMPTS": 1},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
