"""Jobs tests: fake handlers registered, a recording runner and a fake Consonance by default."""

from __future__ import annotations

import pytest

from addon.gateways import register_gateways
from addon.jobs.runner import set_runner
from tests.fixtures.tenants import make_tenant
from tests.jobs.fake_handlers import FakeConsonance, FakeGateways


class RecordingRunner:
    """Remembers what was submitted and runs nothing, so a test decides when work happens."""

    def __init__(self):
        self.submitted: list[dict] = []
        self.broken = False
        self.emptied: list[bool] = []  # answers for queue_was_emptied, in turn (then False)

    def submit(self, func_path, args=(), kwargs=None, *, tenant_id=None, kind=None, dedupe_key=None, queue="default"):
        if self.broken:
            raise ConnectionError("queue unavailable")
        self.submitted.append(
            {
                "func": func_path,
                "args": tuple(args),
                "tenant_id": tenant_id,
                "kind": kind,
                "dedupe_key": dedupe_key,
                "queue": queue,
            }
        )
        return dedupe_key

    def queue_was_emptied(self) -> bool:
        return self.emptied.pop(0) if self.emptied else False


@pytest.fixture
def app_config(app_config):
    app_config["JOB_MODULES"] = "tests.jobs.fake_handlers"
    return app_config


@pytest.fixture
def fake_consonance():
    return FakeConsonance()


@pytest.fixture
def recorder():
    return RecordingRunner()


@pytest.fixture
def app(app, fake_consonance, recorder):
    register_gateways(app, FakeGateways(fake_consonance))
    set_runner(app, recorder)
    return app


@pytest.fixture
def tenant(app):
    return make_tenant()


@pytest.fixture
def other_tenant(app):
    return make_tenant()
