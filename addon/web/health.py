"""Liveness and readiness for load balancers and orchestrators."""

import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from addon.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger("addon.web.health")


@bp.get("/healthz")
def healthz():
    """Alive: the process answers. Checks nothing else, so it never flaps with a dependency."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready: the database answers, and Redis when one is configured."""
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready
        log.warning("readiness: database check failed: %s", exc.__class__.__name__)
        checks["database"] = "unavailable"
    finally:
        db.session.rollback()
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2).ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            log.warning("readiness: redis check failed: %s", exc.__class__.__name__)
            checks["redis"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), (200 if ready else 503)
