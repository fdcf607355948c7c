"""Liveness and readiness for load balancers and orchestrators."""

import logging

import sqlalchemy as sa
from flask import Blueprint, jsonify

from addon.extensions import db
from addon.platform.services import view_redis

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
    client = view_redis()  # the pool page views use: a probe every few seconds opens no connection of its own
    if client is not None:
        import redis

        try:
            client.ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            log.warning("readiness: redis check failed: %s", exc.__class__.__name__)
            checks["redis"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), (200 if ready else 503)
