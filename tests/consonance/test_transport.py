"""Transport behaviour with a faked HTTP layer and a fake clock: headers, retry bounds, error mapping.

Real-HTTP faults against the sandbox live in test_faults.py; these pin down the arithmetic.
"""

from __future__ import annotations

import json
import logging

import pytest
import responses

from addon.consonance.errors import (
    ConsonanceAuthError,
    ConsonanceQueryError,
    ConsonanceUnavailable,
    ConsonanceValidationError,
)
from addon.consonance.transport import (
    ConsonanceConnection,
    GraphQLTransport,
    TransportOptions,
    _retry_after_seconds,
    raise_for_payload_errors,
)

HOST = "https://acme.consonance.example"
URL = HOST + "/graphql"
SECRET = "sk-test-very-secret-key"


class FakeClock:
    """A monotonic clock that only moves when the transport sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_transport(clock: FakeClock | None = None, **options) -> GraphQLTransport:
    clock = clock or FakeClock()
    return GraphQLTransport(
        ConsonanceConnection(HOST + "/", SECRET),
        TransportOptions(**options),
        sleep=clock.sleep,
        clock=clock,
        rand=lambda: 0.5,
    )


@responses.activate
def test_posts_graphql_with_bearer_key_and_json_content_type():
    responses.post(URL, json={"data": {"ok": True}})
    data = make_transport().execute("query Ping { ok }", {"a": 1}, operation_name="Ping")
    assert data == {"ok": True}
    request = responses.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request.body) == {"query": "query Ping { ok }", "variables": {"a": 1}, "operationName": "Ping"}


def test_connection_repr_hides_the_key():
    assert SECRET not in repr(ConsonanceConnection(HOST, SECRET))


@responses.activate
def test_retries_5xx_with_exponential_backoff_then_succeeds(caplog):
    for _ in range(3):
        responses.post(URL, status=503)
    responses.post(URL, json={"data": {"ok": 1}})
    clock = FakeClock()
    transport = make_transport(clock, backoff_base=1.0, jitter=0.5)
    with caplog.at_level(logging.WARNING, logger="addon.consonance"):
        assert transport.execute("{ ok }") == {"ok": 1}
    assert clock.sleeps == [0.75, 1.5, 3.0]  # base * 2^n, jitter at its midpoint (rand=0.5)
    assert transport.stats.requests == 4 and transport.stats.retries == 3
    assert SECRET not in caplog.text


@responses.activate
def test_gives_up_after_max_attempts_with_a_clear_error():
    responses.post(URL, status=502)
    transport = make_transport(max_attempts=3, backoff_base=0.1)
    with pytest.raises(ConsonanceUnavailable) as caught:
        transport.execute("{ ok }", operation_name="Ping")
    assert caught.value.attempts == 3 and caught.value.status == 502
    assert "Ping" in str(caught.value) and "HTTP 502" in str(caught.value)
    assert len(responses.calls) == 3


@responses.activate
def test_honours_retry_after_and_stops_when_it_would_exceed_the_total_time():
    responses.post(URL, status=429, headers={"Retry-After": "4"})
    clock = FakeClock()
    transport = make_transport(clock, max_attempts=10, max_total_seconds=10, backoff_base=0.1)
    with pytest.raises(ConsonanceUnavailable) as caught:
        transport.execute("{ ok }")
    assert clock.sleeps == [4.0, 4.0]  # a third wait would pass 10s
    assert caught.value.retry_after == 4.0 and caught.value.status == 429
    assert clock.now <= 10


@responses.activate
def test_auth_failure_is_not_retried():
    responses.post(URL, status=401, json={"errors": [{"message": "bad key"}]})
    transport = make_transport()
    with pytest.raises(ConsonanceAuthError):
        transport.execute("{ ok }")
    assert len(responses.calls) == 1


@responses.activate
def test_graphql_errors_become_query_errors_with_messages():
    responses.post(URL, json={"data": None, "errors": [{"message": "Cannot query field 'nope' on type 'Work'."}]})
    with pytest.raises(ConsonanceQueryError, match="Cannot query field 'nope'"):
        make_transport().execute("{ nope }", operation_name="Broken")


@responses.activate
def test_non_json_success_is_retried_as_transient():
    responses.post(URL, body="<html>proxy error</html>", status=200)
    responses.post(URL, json={"data": {"ok": 1}})
    assert make_transport().execute("{ ok }") == {"ok": 1}


def test_payload_errors_name_each_field():
    with pytest.raises(ConsonanceValidationError) as caught:
        raise_for_payload_errors(
            "updateProduct",
            {
                "errors": [
                    {"field": "publicationDate", "messages": ["is not a date"]},
                    {"field": "isbn", "messages": []},
                ]
            },
        )
    assert caught.value.fields == ["publicationDate", "isbn"]
    assert "publicationDate: is not a date" in str(caught.value)
    raise_for_payload_errors("updateProduct", {"errors": []})  # nothing refused: no error


@pytest.mark.parametrize(
    "header, seconds",
    [("3", 3.0), ("0.5", 0.5), ("-2", 0.0), (None, None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_parsing(header, seconds):
    assert _retry_after_seconds(header) == seconds
