"""Alembic migrations upgrade from empty to head, and match the models, on SQLite and PostgreSQL."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from addon import create_app
from addon.extensions import db
from tests.conftest import scratch_postgres_database


def _postgres_url():
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith("postgresql"):
        return base
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    try:
        sa.create_engine(url).connect().close()
    except sa.exc.OperationalError:
        if os.environ.get("CI"):
            raise
        pytest.skip("PostgreSQL is not running")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "migrate.db")
        return
    with scratch_postgres_database(_postgres_url(), "addon_migrate") as url:
        yield url


def test_upgrade_from_empty_to_head_matches_the_models(empty_database, tmp_path):
    from cryptography.fernet import Fernet

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SECRET_KEY": "x",
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert differences == [], "models changed without a migration: run `flask db migrate`"
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() in ([], ["alembic_version"])
        upgrade()
        db.engine.dispose()
