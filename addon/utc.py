"""Time as the app stores and compares it: aware datetimes in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware datetime; a naive one is taken as UTC (SQLite hands stored datetimes back naive)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
