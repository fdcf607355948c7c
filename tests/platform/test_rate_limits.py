"""Per-person write limits: counted in Redis when there is one, so every web process shares the count; per
process without Redis (or while it is down); per site and per person; switched off by 0."""

from __future__ import annotations

import redis

from addon import create_app
from addon.platform import rate_limits
from addon.platform.rate_limits import RateLimited, hit


def hits(app, kind: str, n: int, tenant_id=1, account="557058:editor") -> list[bool]:
    """For each of n writes: True when it was allowed."""
    allowed = []
    with app.app_context():
        for _ in range(n):
            try:
                hit(kind, tenant_id, account)
                allowed.append(True)
            except RateLimited as refused:
                assert refused.limit.message.endswith("try again shortly.")
                assert 1 <= refused.retry_after <= rate_limits.WINDOW_SECONDS
                allowed.append(False)
    return allowed


def test_two_processes_share_one_count_through_redis(app_config, redis_url):
    config = {**app_config, "REDIS_URL": redis_url, "DECISIONS_PER_MINUTE": 3}
    first, second = create_app(config), create_app(config)  # two apps: no in-process count in common
    assert hits(first, "decision", 2) == [True, True]
    assert hits(second, "decision", 2) == [True, False]
    keys = redis.Redis.from_url(redis_url).keys("c4c:rate:decision:1:557058:editor:*")
    assert len(keys) == 1 and int(redis.Redis.from_url(redis_url).get(keys[0])) == 4


def test_without_redis_the_process_counts(app):
    app.config["DECISIONS_PER_MINUTE"] = 2
    assert hits(app, "decision", 3) == [True, True, False]


def test_with_redis_down_the_process_still_limits(app_config):
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0", "ADMIN_SAVES_PER_MINUTE": 1})
    assert hits(app, "admin_save", 2) == [True, False]


def test_limits_are_per_site_per_person_and_per_kind(app):
    app.config.update(DECISIONS_PER_MINUTE=1, REFRESHES_PER_MINUTE=1)
    assert hits(app, "decision", 1, tenant_id=1, account="a") == [True]
    assert hits(app, "decision", 1, tenant_id=1, account="b") == [True]
    assert hits(app, "decision", 1, tenant_id=2, account="a") == [True]
    assert hits(app, "refresh", 1, tenant_id=1, account="a") == [True]
    assert hits(app, "decision", 1, tenant_id=1, account="a") == [False]


def test_zero_switches_a_limit_off(app):
    app.config["REFRESHES_PER_MINUTE"] = 0
    assert all(hits(app, "refresh", 50))
