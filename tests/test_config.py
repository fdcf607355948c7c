"""Settings: every environment variable has a default, a cast, and a row in the README table."""

import os

from addon.config import SETTINGS, load_settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_defaults_and_casts():
    config = load_settings({})
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///instance/addon.db"
    assert config["JWT_LEEWAY_SECONDS"] == 5


def test_environment_overrides():
    config = load_settings({"DATABASE_URL": "postgresql+psycopg://db/x", "JWT_LEEWAY_SECONDS": "3"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/x"
    assert config["JWT_LEEWAY_SECONDS"] == 3


def test_readme_documents_every_setting():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == [], f"README configuration table lacks {missing}"
