"""Fixtures: a fresh app per test on a database migrated once per run.

TEST_DATABASE_URL chooses the database (CI: PostgreSQL); unset, a SQLite file is used.
On PostgreSQL each run gets its own database, so parallel runs never share rows.
"""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from addon import create_app
from addon.extensions import db
from tests.platform.signing import KeyServer, new_rsa_key

# Fixtures more than one test package uses, defined once (tests/fixtures/).
# A plugin another one imports comes first: pytest must register it before it is imported.
pytest_plugins = [
    "tests.fixtures.admin",
    "tests.fixtures.consonance",
    "tests.fixtures.macros",
    "tests.fixtures.decision_site",
    "tests.fixtures.processes",
    "tests.fixtures.sites",
]

TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


class ServerLikeClient(FlaskClient):
    """Takes each answer whole and closes it, as a WSGI server does, before the test sees it. What a view
    leaves for after its answer (a first view's cache write, `macros.cache.writes_after_answer`) is then
    done, as it is in production before anyone else asks. `buffered=False` shows the answer before that."""

    def open(self, *args, buffered: bool = True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


Flask.test_client_class = ServerLikeClient  # every app a test makes, its own fixtures' or not


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    with scratch_postgres_database(base, "addon_test") as url:
        yield url


@contextlib.contextmanager
def scratch_postgres_database(server_url: str, prefix: str):
    """A database of its own on the server at `server_url`, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory):
    """Upgrade the test database from empty to head with Alembic, once per run."""
    from flask_migrate import upgrade

    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance-migrate")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _test_config(database_url: str, instance_path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "BASE_URL": "https://addon.example.test",
        "APP_KEY": "com.consonance.confluence",
        "FORGE_APP_ID": "ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555",
        "FORGE_JWKS_URL": "https://forge.example.test/.well-known/jwks.json",
        "CONNECT_INSTALL_KEYS_URL": "https://install-keys.example.test",
        "JOB_BACKEND": "inline",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "CONSONANCE_ALLOWED_HOSTS": "127.0.0.1",  # the sandboxes listen on loopback ports
    }


@pytest.fixture
def app_config(migrated_database, tmp_path, keyserver):
    """Override keys in a test with `app_config.update(...)` before asking for `app`.

    Forge and install keys come from the test key server (real HTTP), as from Atlassian's.
    """
    config = _test_config(migrated_database, tmp_path)
    config["FORGE_JWKS_URL"] = keyserver.url + "/jwks.json"
    config["CONNECT_INSTALL_KEYS_URL"] = keyserver.url + "/install-keys"
    return config


@pytest.fixture
def app(app_config, tmp_path):
    app = create_app(app_config)
    app.instance_path = str(tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def redis_url():
    """A real Redis (TEST_REDIS_URL, default local), flushed around the test; skipped if absent."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    conn = redis.Redis.from_url(url)
    try:
        conn.ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Redis is not running")
    conn.flushdb()
    yield url
    conn.flushdb()


# --- Atlassian's side of the handshakes (tests/platform/signing.py) ---------------------------

_FORGE_KEY = new_rsa_key()
_INSTALL_KEY = new_rsa_key()
_OTHER_KEY = new_rsa_key()


@pytest.fixture(scope="session")
def _keyserver_process():
    server = KeyServer().start()
    yield server
    server.stop()


@pytest.fixture
def keyserver(_keyserver_process):
    """The key server with one Forge key (`forge-1`) and one install key (`install-1`)."""
    server = _keyserver_process
    server.forge_keys.clear()
    server.install_keys.clear()
    server.forge_keys["forge-1"] = _FORGE_KEY
    server.install_keys["install-1"] = _INSTALL_KEY
    server.jwks_requests = server.install_key_requests = 0
    server.failing = False
    server.delay_seconds = 0.0
    return server


@pytest.fixture
def forge_key():
    return _FORGE_KEY


@pytest.fixture
def install_key():
    return _INSTALL_KEY


@pytest.fixture
def stranger_key():
    """An RSA key nobody publishes."""
    return _OTHER_KEY


@pytest.fixture
def connect_install(client, install_key):
    """Install a Connect tenant through the real signed-install route; returns its payload."""
    import time

    from addon.platform.qsh import query_string_hash
    from tests.platform.signing import install_payload, sign_rs256

    def install(client_key="client-key-A", base_url="https://site-a.atlassian.test/wiki"):
        payload = install_payload(client_key, base_url=base_url)
        now = int(time.time())
        token = sign_rs256(
            {
                "iss": client_key,
                "aud": "https://addon.example.test",
                "iat": now,
                "exp": now + 180,
                "qsh": query_string_hash("POST", "/connect/installed"),
            },
            install_key,
            "install-1",
        )
        response = client.post("/connect/installed", json=payload, headers={"Authorization": f"JWT {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return payload

    return install


@pytest.fixture(autouse=True)
def _display_names_forgotten():
    """People's names are cached per process by tenant id; tests reuse ids with other sites and people."""
    yield
    from addon.confluence.people import DISPLAY_NAMES

    DISPLAY_NAMES.forget()
