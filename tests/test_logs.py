"""Structured logs carry the request's tenant and id; JSON for log shippers."""

import json
import logging

from addon.logs import ContextFilter, JsonFormatter, bind, clear, log_context
from tests.platform.signing import sign_rs256, system_fit_claims


def test_json_lines_carry_bound_context():
    clear()
    bind(request_id="r-1", tenant="7:https://site.test")
    with log_context(job_id="job-9", title="w-1"):
        record = logging.LogRecord("addon.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world"
    assert line["tenant"] == "7:https://site.test" and line["job_id"] == "job-9" and line["request_id"] == "r-1"
    clear()


def test_request_logs_name_the_tenant(client, forge_key):
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Collect()
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("addon")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        token = sign_rs256(system_fit_claims("app-lifecycle"), forge_key, "forge-1")
        response = client.post(
            "/forge/lifecycle",
            json={"eventType": "avi:forge:installed:app"},
            headers={"Authorization": f"Bearer {token}", "x-b3-traceid": "trace-123"},
        )
        assert response.status_code == 200
        assert response.headers["X-Request-Id"] == "trace-123"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lifecycle = [r for r in records if "lifecycle event" in r.getMessage()]
    assert lifecycle and lifecycle[0].context["request_id"] == "trace-123"
    assert "site-one.atlassian.test" in lifecycle[0].context["tenant"]


def test_a_recurring_warning_is_said_once_per_interval(caplog):
    import logging

    from addon.logs import OncePer

    now = [100.0]
    outage = OncePer(logging.getLogger("addon.test"), seconds=30, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="addon.test"):
        for _ in range(5):
            outage.warning("Redis is down (%s)", "ConnectionError")
        now[0] += 31
        outage.warning("Redis is down (%s)", "ConnectionError")
    assert [r.getMessage() for r in caplog.records] == ["Redis is down (ConnectionError)"] * 2
