"""Settings read from environment variables, each with a documented default.

One table (`SETTINGS`) is the single source: `load_settings()` reads it, the README's
configuration table is checked against it by a test, so the docs cannot drift.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    doc: str
    cast: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SECRET_KEY",
        None,
        "Signs the short-lived tokens of admin forms (CSRF) and macro buttons (actions); the app keeps no sessions. Every web process must share it. Generated per instance folder when unset (embedded mode only).",
    ),
    Setting(
        "DATABASE_URL",
        "sqlite:///instance/addon.db",
        "SQLAlchemy URL. PostgreSQL in production, e.g. `postgresql+psycopg://user@host/db`.",
    ),
    Setting(
        "REDIS_URL",
        "",
        "Redis URL for the job queue and shared macro cache. Empty: in-process jobs and cache (embedded mode).",
    ),
    Setting(
        "BASE_URL",
        "http://localhost:8000",
        "Public HTTPS address of this app; Connect `baseUrl`, the `aud` of signed installs.",
    ),
    Setting("APP_KEY", "com.consonance.confluence", "Connect app key; the `iss` of tokens we send to Confluence."),
    Setting("APP_NAME", "Consonance for Confluence", "Display name in the descriptor and pages."),
    Setting(
        "FORGE_APP_ID",
        "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000",
        "Forge app id; Forge Invocation Tokens must carry it as `aud`.",
    ),
    Setting(
        "FORGE_JWKS_URL",
        "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json",
        "Where Forge's token-signing keys are published.",
    ),
    Setting(
        "CONNECT_INSTALL_KEYS_URL",
        "https://connect-install-keys.atlassian.com",
        "Key server for signed Connect installs: public key at `{url}/{kid}`.",
    ),
    Setting(
        "ENCRYPTION_KEYS",
        "",
        "Comma-separated Fernet keys; the first encrypts, all decrypt (rotation). Generated per instance folder when unset (embedded mode only).",
    ),
    Setting("JWT_LEEWAY_SECONDS", "5", "Clock skew allowed on `exp`/`nbf`/`iat` of incoming tokens.", int),
    Setting("JWKS_CACHE_SECONDS", "3600", "How long fetched Forge keys are trusted before a refetch.", int),
    Setting(
        "JWKS_MIN_REFETCH_SECONDS",
        "30",
        "At most one key refetch per this interval when an unknown `kid` arrives.",
        int,
    ),
    Setting(
        "CONSONANCE_ALLOWED_HOSTS",
        "",
        "Comma-separated hosts (`name` or `name:port`) the Consonance key may go to over plain http or on a private, loopback or link-local address (the embedded sandbox sets `127.0.0.1:8100`); empty: https to public addresses only.",
    ),
    Setting("OUTBOUND_TIMEOUT_SECONDS", "10", "Timeout for key-server and JWKS fetches.", float),
    Setting("JOB_BACKEND", "inline", "`inline` (in-process, embedded mode) or `rq` (Redis workers, production)."),
    Setting("JOB_MODULES", "", "Extra comma-separated modules that register outbox handlers and schedules."),
    Setting("INLINE_JOB_THREADS", "2", "Worker threads of the in-process job runner (embedded mode).", int),
    Setting(
        "INLINE_JOB_MODE", "", "`thread` or `sync` for the in-process runner; empty: `sync` under tests, else `thread`."
    ),
    Setting(
        "JOB_TIMEOUT_SECONDS",
        "600",
        "A background job running longer than this is stopped (RQ) and counted as lost.",
        int,
    ),
    Setting("JOB_RESULT_TTL_SECONDS", "3600", "How long RQ keeps a finished job's result.", int),
    Setting("JOB_FAILURE_TTL_SECONDS", "604800", "How long RQ keeps a failed job for inspection.", int),
    Setting("JOB_RETRIES", "3", "RQ retries of a job that raised (outbox deliveries have their own backoff).", int),
    Setting(
        "OUTBOX_LEASE_SECONDS", "120", "A claimed outbox write whose worker died is claimable again after this.", float
    ),
    Setting("OUTBOX_MAX_ATTEMPTS", "8", "Attempts before an outbox write is marked failed and shown to admins.", int),
    Setting(
        "OUTBOX_BACKOFF_BASE_SECONDS",
        "5",
        "First retry delay of a failed outbox write; doubles each attempt, with jitter.",
        float,
    ),
    Setting("OUTBOX_BACKOFF_CAP_SECONDS", "3600", "Longest delay between outbox attempts.", float),
    Setting(
        "OUTBOX_DRAIN_EVERY_SECONDS", "60", "How often the schedule drains due outbox writes (the safety net).", int
    ),
    Setting(
        "OUTBOX_DELIVER_ON_COMMIT",
        "1",
        "Hand each new outbox write to the job runner as soon as it commits (`0` to rely on the drain).",
    ),
    Setting(
        "SCHEDULER_INTERVAL_SECONDS",
        "30",
        "Tick interval of `flask jobs scheduler`; the embedded app's own clock ticks at least every 5 s and a tenth of `POLL_INTERVAL_SECONDS`.",
        float,
    ),
    Setting("LOG_FORMAT", "text", "`text` for people, `json` for log shippers (production)."),
    Setting("LOG_LEVEL", "INFO", "Python logging level."),
    Setting(
        "CONSONANCE_REQUESTS_PER_MINUTE",
        "3000",
        "Each site's request budget to its Consonance: at most this many requests a minute, shared by every process (Redis).",
        int,
    ),
    Setting(
        "CONSONANCE_MAX_CONCURRENT",
        "8",
        "At most this many requests in flight at once to each site's Consonance, across every process.",
        int,
    ),
    Setting("MACRO_FRESHNESS_SECONDS", "300", "Default freshness window of cached Consonance data in macros.", int),
    Setting(
        "MACRO_LANE",
        "1",
        "Answer repeat views of Connect macro iframes from memory before Flask's dispatch, with the same token check (`0` sends every view through the full pipeline).",
    ),
    Setting(
        "POLL_INTERVAL_SECONDS",
        "300",
        "Interval between change-detection polls per site, unless the site sets its own (the scheduler, the embedded clock and Forge's trigger all honour it).",
        int,
    ),
    Setting(
        "MAX_CONTENT_LENGTH",
        "1048576",
        "Largest request body any route accepts, in bytes; larger ones are refused with 413.",
        int,
    ),
    Setting("JSON_MAX_DEPTH", "32", "Deepest nesting of arrays and objects a JSON body may have (else 400).", int),
    Setting(
        "DECISIONS_PER_MINUTE",
        "20",
        "Decisions one person may send per minute on one site (Forge and Connect); more are answered 429.",
        int,
    ),
    Setting("REFRESHES_PER_MINUTE", "30", "Macro Refreshes one person may ask for per minute on one site.", int),
    Setting("ADMIN_SAVES_PER_MINUTE", "20", "Admin saves, connection tests and retries per person per minute.", int),
    Setting(
        "METRICS_TOKEN",
        "",
        "Bearer token Prometheus must send to `/metrics`; empty: only loopback callers are answered, not what a proxy on the same machine relays.",
    ),
)


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return Flask config keys from the environment, cast, with defaults applied."""
    source = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = source.get(setting.name, setting.default)
        config[setting.name] = setting.cast(raw) if raw is not None else None
    config["SQLALCHEMY_DATABASE_URI"] = config.pop("DATABASE_URL")
    return config
