"""Per-person write limits: a rolling minute, counted in Redis when there is one, so every web process
shares the count; per process without Redis (or while it is down); per site and per person; switched off
by 0."""

from __future__ import annotations

import pytest
import redis

from addon import create_app
from addon.platform import rate_limits
from addon.platform.rate_limits import RateLimited, hit


def hits(app, kind: str, n: int, tenant_id=1, account="557058:editor", at=None) -> list[bool]:
    """For each of n writes (at the given times, or now): True when it was allowed."""
    allowed = []
    with app.app_context():
        for moment in at or [None] * n:
            try:
                hit(kind, tenant_id, account, now=moment)
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
    kept = redis.Redis.from_url(redis_url)
    assert kept.zcard("c4c:rate-minute:decision:1:557058:editor") == 3  # the refused write is not counted
    assert 0 < kept.ttl("c4c:rate-minute:decision:1:557058:editor") <= rate_limits.WINDOW_SECONDS + 1


@pytest.fixture(params=["redis", "process"])
def limited_app(request, app_config, redis_url):
    """An app counting in Redis, and one counting in its process: the minute is the same in both."""
    redis_setting = {"REDIS_URL": redis_url} if request.param == "redis" else {"REDIS_URL": ""}
    return create_app({**app_config, **redis_setting, "DECISIONS_PER_MINUTE": 2})


def retry_after(app, at: float) -> int:
    with app.app_context():
        with pytest.raises(RateLimited) as refused:
            hit("decision", 1, "557058:editor", now=at)
    return refused.value.retry_after


def test_writes_either_side_of_a_clock_minute_share_one_minute(limited_app):
    """A fixed window would allow 2 at 12:00:59 and 2 more at 12:01:00; the limit is per sixty seconds."""
    minute = 1_800_000_000.0 // 60 * 60
    assert hits(limited_app, "decision", 3, at=[minute - 0.5, minute + 0.2, minute + 0.4]) == [True, True, False]
    assert retry_after(limited_app, minute + 1.0) == 59  # the first leaves the minute at minute + 59.5


def test_after_retry_after_a_write_is_allowed_again(limited_app):
    start = 1_800_000_000.0
    assert hits(limited_app, "decision", 2, at=[start, start + 30]) == [True, True]
    wait = retry_after(limited_app, start + 40)
    assert wait == 20
    assert hits(limited_app, "decision", 2, at=[start + 40 + wait, start + 40 + wait + 1]) == [True, False]
    assert retry_after(limited_app, start + 62) == 28  # now the one at +30 is the oldest in the minute


def test_refused_writes_do_not_push_the_wait_out(limited_app):
    """Someone who keeps pressing the button while refused still gets in when the minute has passed."""
    start = 1_800_000_000.0
    assert hits(limited_app, "decision", 2, at=[start, start + 1]) == [True, True]
    assert hits(limited_app, "decision", 10, at=[start + 2 + n for n in range(10)]) == [False] * 10
    assert hits(limited_app, "decision", 1, at=[start + 60]) == [True]


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


def test_a_record_kept_once_a_minute_is_kept_once_in_any_sixty_seconds(limited_app):
    """The audit line of a refused caller: once however the calls fall against the clock's minutes."""
    minute = 1_800_000_000.0 // 60 * 60
    with limited_app.app_context():
        firsts = [
            rate_limits.first_in_window("refused:1:caller", now=moment)
            for moment in (minute - 1, minute + 1, minute + 30, minute + 59.5, minute + 61)
        ]
    assert firsts == [True, False, False, True, False]
