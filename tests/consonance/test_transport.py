"""Transport behaviour against a stand-in Consonance on a real local server that answers what each test
cans, with a fake clock: headers, retry bounds, error mapping.

Real-HTTP faults against the sandbox live in test_faults.py; these pin down the arithmetic.
"""

from __future__ import annotations

import gzip
import json
import logging

import pytest

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
from tests.servers import serving

SECRET = "sk-test-very-secret-key"


class CannedConsonance:
    """Answers each POST with the next canned answer (the last one again once they run out) and keeps what
    it was sent: (headers, body) per request."""

    def __init__(self):
        self.answers: list[tuple[int, dict, bytes]] = []
        self.calls: list[tuple[dict, bytes]] = []

    def answer(self, status: int = 200, *, json_body=None, body: bytes | str = b"", headers: dict | None = None):
        payload = json.dumps(json_body).encode() if json_body is not None else body
        content_type = "application/json" if json_body is not None else "text/html"
        self.answers.append((status, {"Content-Type": content_type, **(headers or {})}, _bytes(payload)))

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key[:5] == "HTTP_"}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        self.calls.append((headers, environ["wsgi.input"].read(length)))
        status, answer_headers, payload = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        start_response(f"{status} Canned", [*answer_headers.items(), ("Content-Length", str(len(payload)))])
        return [payload]


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


@pytest.fixture
def canned():
    stand_in = CannedConsonance()
    with serving(stand_in) as url:
        stand_in.url = url
        yield stand_in


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


def make_transport(canned: CannedConsonance, clock: FakeClock | None = None, **options) -> GraphQLTransport:
    clock = clock or FakeClock()
    return GraphQLTransport(
        ConsonanceConnection(canned.url + "/", SECRET),
        TransportOptions(**options),
        sleep=clock.sleep,
        clock=clock,
        rand=lambda: 0.5,
    )


def test_posts_graphql_with_bearer_key_and_json_content_type(canned):
    canned.answer(json_body={"data": {"ok": True}})
    data = make_transport(canned).execute("query Ping { ok }", {"a": 1}, operation_name="Ping")
    assert data == {"ok": True}
    headers, body = canned.calls[0]
    assert headers["Authorization"] == f"Bearer {SECRET}"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == {"query": "query Ping { ok }", "variables": {"a": 1}, "operationName": "Ping"}


def test_a_compressed_answer_is_read(canned):
    canned.answer(
        json_body=None,
        body=gzip.compress(b'{"data": {"ok": "unzipped"}}'),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert make_transport(canned).execute("{ ok }") == {"ok": "unzipped"}
    assert "gzip" in canned.calls[0][0]["Accept-Encoding"]


def test_connection_repr_hides_the_key():
    assert SECRET not in repr(ConsonanceConnection("https://acme.consonance.example", SECRET))


def test_retries_5xx_with_exponential_backoff_then_succeeds(canned, caplog):
    for _ in range(3):
        canned.answer(503)
    canned.answer(json_body={"data": {"ok": 1}})
    clock = FakeClock()
    transport = make_transport(canned, clock, backoff_base=1.0, jitter=0.5)
    with caplog.at_level(logging.WARNING, logger="addon.consonance"):
        assert transport.execute("{ ok }") == {"ok": 1}
    assert clock.sleeps == [0.75, 1.5, 3.0]  # base * 2^n, jitter at its midpoint (rand=0.5)
    assert transport.stats.requests == 4 and transport.stats.retries == 3 and len(canned.calls) == 4
    assert SECRET not in caplog.text


def test_gives_up_after_max_attempts_with_a_clear_error(canned):
    canned.answer(502)
    transport = make_transport(canned, max_attempts=3, backoff_base=0.1)
    with pytest.raises(ConsonanceUnavailable) as caught:
        transport.execute("{ ok }", operation_name="Ping")
    assert caught.value.attempts == 3 and caught.value.status == 502
    assert "Ping" in str(caught.value) and "HTTP 502" in str(caught.value)
    assert len(canned.calls) == 3


def test_honours_retry_after_and_stops_when_it_would_exceed_the_total_time(canned):
    canned.answer(429, headers={"Retry-After": "4"})
    clock = FakeClock()
    transport = make_transport(canned, clock, max_attempts=10, max_total_seconds=10, backoff_base=0.1)
    with pytest.raises(ConsonanceUnavailable) as caught:
        transport.execute("{ ok }")
    assert clock.sleeps == [4.0, 4.0]  # a third wait would pass 10s
    assert caught.value.retry_after == 4.0 and caught.value.status == 429
    assert clock.now <= 10


def test_auth_failure_is_not_retried(canned):
    canned.answer(401, json_body={"errors": [{"message": "bad key"}]})
    transport = make_transport(canned)
    with pytest.raises(ConsonanceAuthError):
        transport.execute("{ ok }")
    assert len(canned.calls) == 1


def test_a_redirect_is_refused_not_followed(canned):
    canned.answer(307, headers={"Location": "https://elsewhere.example/graphql"})
    with pytest.raises(ConsonanceQueryError, match="redirect"):
        make_transport(canned).execute("{ ok }")
    assert len(canned.calls) == 1


def test_graphql_errors_become_query_errors_with_messages(canned):
    canned.answer(json_body={"data": None, "errors": [{"message": "Cannot query field 'nope' on type 'Work'."}]})
    with pytest.raises(ConsonanceQueryError, match="Cannot query field 'nope'"):
        make_transport(canned).execute("{ nope }", operation_name="Broken")


def test_non_json_success_is_retried_as_transient(canned):
    canned.answer(body="<html>proxy error</html>")
    canned.answer(json_body={"data": {"ok": 1}})
    assert make_transport(canned).execute("{ ok }") == {"ok": 1}


def test_nothing_listening_is_a_connection_failure_retried_within_the_bound():
    transport = GraphQLTransport(
        ConsonanceConnection("http://127.0.0.1:9", SECRET),  # nothing listens on the discard port
        TransportOptions(max_attempts=2, backoff_base=0.01),
        sleep=FakeClock().sleep,
    )
    with pytest.raises(ConsonanceUnavailable, match="connection failed") as caught:
        transport.execute("{ ok }")
    assert caught.value.attempts == 2


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
