def test_healthz_answers_without_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok"}


def test_readyz_reports_unreachable_redis(app_config):
    from addon import create_app

    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app = create_app(app_config)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == "unavailable"


def test_readyz_with_real_redis(app_config, redis_url):
    from addon import create_app

    app_config["REDIS_URL"] = redis_url
    response = create_app(app_config).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readiness_probes_share_the_app_redis_pool(app_config, redis_url):
    """An orchestrator probes every few seconds: each probe must not open (and drop) a Redis connection of its own."""
    import redis

    from addon import create_app

    app_config["REDIS_URL"] = redis_url
    client = create_app(app_config).test_client()
    assert client.get("/readyz").status_code == 200
    counter = redis.Redis.from_url(redis_url)
    before = counter.info("stats")["total_connections_received"]
    for _ in range(20):
        assert client.get("/readyz").status_code == 200
    opened = counter.info("stats")["total_connections_received"] - before
    assert opened <= 5  # other clients (a listener reconnecting) may connect meanwhile; twenty probes opened twenty
