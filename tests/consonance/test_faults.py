"""Faults over real HTTP: throttling, server errors, a dead server and a hang all end in clear outcomes in time."""

from __future__ import annotations

import socket
import time

import pytest

from addon.consonance.errors import ConsonanceUnavailable
from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection, GraphQLTransport, TransportOptions
from tests.consonance.conftest import operation_count


class RecordedSleep:
    """Records each wait the transport asks for; the clock it serves moves by those waits (no real sleeping)."""

    def __init__(self):
        self.waits: list[float] = []
        self._skipped = 0.0

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self._skipped += seconds

    def clock(self) -> float:
        return time.monotonic() + self._skipped


def gateway_with(sandbox, options: TransportOptions, sleeper: RecordedSleep | None = None) -> ConsonanceGateway:
    connection = ConsonanceConnection(sandbox.url, sandbox.api_key)
    if sleeper is None:
        return ConsonanceGateway(connection, options)
    transport = GraphQLTransport(connection, options, sleep=sleeper.sleep, clock=sleeper.clock)
    return ConsonanceGateway(connection, transport=transport)


def test_a_429_storm_is_ridden_out_honouring_retry_after(fresh_sandbox):
    fresh_sandbox.control.add_fault(operation="TitleByWorkId", rateLimitCount=4, retryAfter=2)
    sleeper = RecordedSleep()
    options = TransportOptions(max_attempts=6, max_total_seconds=30, backoff_base=0.05)
    title = gateway_with(fresh_sandbox, options, sleeper).title("1")
    assert title.work_id == "1"
    assert operation_count(fresh_sandbox, "TitleByWorkId") == 5
    assert fresh_sandbox.control.counters()["byStatus"]["429"] == 4
    assert len(sleeper.waits) == 4 and all(wait >= 2 for wait in sleeper.waits)  # Retry-After is a floor


def test_a_429_storm_longer_than_the_count_bound_fails_clearly(fresh_sandbox):
    fresh_sandbox.control.add_fault(operation="TitleByWorkId", rateLimitCount=50, retryAfter=1)
    options = TransportOptions(max_attempts=4, max_total_seconds=60, backoff_base=0.05)
    with pytest.raises(ConsonanceUnavailable) as caught:
        gateway_with(fresh_sandbox, options, RecordedSleep()).title("1")
    assert caught.value.status == 429 and caught.value.attempts == 4
    assert operation_count(fresh_sandbox, "TitleByWorkId") == 4
    assert "TitleByWorkId" in str(caught.value) and "HTTP 429" in str(caught.value)


def test_a_429_storm_longer_than_the_time_bound_stops_before_passing_it(fresh_sandbox):
    fresh_sandbox.control.add_fault(operation="TitleByWorkId", rateLimitCount=50, retryAfter=3)
    sleeper = RecordedSleep()
    options = TransportOptions(max_attempts=100, max_total_seconds=10, backoff_base=0.05)
    with pytest.raises(ConsonanceUnavailable):
        gateway_with(fresh_sandbox, options, sleeper).title("1")
    assert sum(sleeper.waits) <= 10 and len(sleeper.waits) == 3  # a fourth 3s wait would pass 10s
    assert operation_count(fresh_sandbox, "TitleByWorkId") == 4


def test_server_errors_are_retried_then_succeed(fresh_sandbox):
    fresh_sandbox.control.add_fault(operation="CatalogueFingerprints", errorCount=2, errorStatus=502)
    options = TransportOptions(max_attempts=3, backoff_base=0.01)
    gateway = gateway_with(fresh_sandbox, options)
    assert len(list(gateway.iter_fingerprints())) == len(fresh_sandbox.state.works)
    assert gateway.stats.retries == 2


def test_a_dead_server_gives_a_clear_error_within_the_bound():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    options = TransportOptions(connect_timeout=0.5, max_attempts=3, max_total_seconds=2, backoff_base=0.05)
    gateway = ConsonanceGateway(ConsonanceConnection(f"http://127.0.0.1:{port}", "k"), options)
    started = time.monotonic()
    with pytest.raises(ConsonanceUnavailable) as caught:
        gateway.title("1")
    assert time.monotonic() - started < 2
    assert "connection failed" in str(caught.value) and caught.value.attempts == 3


def test_a_hang_past_the_read_timeout_gives_a_clear_error(fresh_sandbox):
    fresh_sandbox.control.add_fault(operation="TitleByWorkId", hangCount=10, hangSeconds=30)
    options = TransportOptions(read_timeout=0.3, max_attempts=2, max_total_seconds=3, backoff_base=0.05)
    started = time.monotonic()
    with pytest.raises(ConsonanceUnavailable) as caught:
        gateway_with(fresh_sandbox, options).title("1")
    assert time.monotonic() - started < 1.5
    assert "read timeout" in str(caught.value) and caught.value.attempts == 2


def test_one_hang_then_recovery(fresh_sandbox):
    fresh_sandbox.control.add_fault(operation="TitleByWorkId", hangCount=1, hangSeconds=30)
    options = TransportOptions(read_timeout=0.3, max_attempts=3, max_total_seconds=5, backoff_base=0.05)
    assert gateway_with(fresh_sandbox, options).title("2").work_id == "2"
