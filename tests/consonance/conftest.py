"""An in-process Consonance sandbox over real HTTP, and gateways pointed at it."""

from __future__ import annotations

import pytest

from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection, TransportOptions

SANDBOX_SIZE = 60


@pytest.fixture(scope="module")
def sandbox():
    from sandbox.consonance.testing import running_sandbox

    with running_sandbox(SEED=7, SIZE=SANDBOX_SIZE) as running:
        yield running


@pytest.fixture
def fresh_sandbox(sandbox):
    """The module's sandbox with no faults and an empty request log, before and after the test."""
    sandbox.control.clear_faults()
    sandbox.control.clear_requests()
    yield sandbox
    sandbox.control.clear_faults()


@pytest.fixture
def gateway(fresh_sandbox):
    options = TransportOptions(
        connect_timeout=1, read_timeout=5, max_attempts=3, max_total_seconds=10, backoff_base=0.05
    )
    gateway = ConsonanceGateway(ConsonanceConnection(fresh_sandbox.url, fresh_sandbox.api_key), options)
    yield gateway
    gateway.close()


def operation_count(sandbox, name: str) -> int:
    return sandbox.control.counters()["byOperation"].get(name, 0)
