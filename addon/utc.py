"""Time as the app stores and compares it: aware datetimes in UTC."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """An aware datetime; a naive one is taken as UTC (SQLite hands stored datetimes back naive)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
