"""The admin fixtures live in fixtures.py so tests/web/test_admin.py can import the same ones."""

from tests.admin.fixtures import (  # noqa: F401
    _stub_process,
    connect_site,
    connect_token,
    consonance,
    forge,
    forge_tenant,
    sandbox,
    stub,
)
